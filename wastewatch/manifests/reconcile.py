"""Declared against received (domain.md §7, rule [A]): per manifest, per hospital and month, and for
the plant. Pure: the caller reads the manifests and the weighed batches and passes the clock.

"Received" for a manifest is the weighed batches that carry its number (the stored `batch` points,
Σ mass_kg, whenever they were fed). The stored batch is a batch *fed* into the incinerator: there is
no separate weighbridge "received" event and no bunker stock measurement (neither the plant file nor
the simulator has one), so Σ received = Σ fed and the change in bunker stock is unknown; the plant
balance is declared against weighed, and says so.

A manifest is judged once it is due: the end of its received day (else its shipped day, else its
import) plus the grace period; before that it is `awaiting`. Findings:

    quantity_differs   |received − declared| / declared > tolerance (default 0.05, [A])
    never_received     due, and no weighed batch carries its number
    without_manifest   weighed batches, older than the grace period, under a number no manifest has
                       (or with no number: one finding per facility and month)
    duplicate          a manifest number imported again with different content
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Kind = Literal["quantity_differs", "never_received", "without_manifest", "duplicate"]
State = Literal["matched", "quantity_differs", "never_received", "awaiting"]
SOURCE = "domain.md §7 reconciliation rule"
STATUS = "A"
SEVERITY: Mapping[Kind, Literal["major", "minor"]] = {
    "quantity_differs": "major", "never_received": "major", "without_manifest": "major", "duplicate": "minor",
}
NO_BUNKER_STOCK = (
    "no bunker stock measurement exists (no bunker sensor in the plant file, none in the simulator) and the "
    "stored batches are the batches fed: received = fed, the stock change is unknown; declared is reconciled "
    "against weighed only"
)


@dataclass(frozen=True, slots=True)
class Manifest:
    plant: str
    manifest_no: str
    generator: str
    waste_code: str | None
    declared_kg: float
    shipped: date | None
    received: date | None
    imported_at_ms: int

    def day(self, zone: ZoneInfo) -> date:
        """The manifest's day: received, else shipped, else the local day it was imported."""
        return self.received or self.shipped or datetime.fromtimestamp(self.imported_at_ms / 1000, tz=zone).date()

    def month(self, zone: ZoneInfo) -> str:
        return self.day(zone).strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class WeighedBatch:
    time_ms: int
    mass_kg: float
    source: str
    manifest_no: str | None
    batch_id: str = ""


@dataclass(frozen=True, slots=True)
class Conflict:
    """A second import of a manifest number with content that differs from the stored one."""

    plant: str
    manifest_no: str
    detail: str
    seen_at_ms: int


@dataclass(frozen=True, slots=True)
class ManifestBalance:
    manifest: Manifest
    received_kg: float
    batches: int
    due_ms: int
    state: State

    @property
    def share(self) -> float:
        return abs(self.received_kg - self.manifest.declared_kg) / self.manifest.declared_kg


@dataclass(frozen=True, slots=True)
class ManifestFinding:
    """One judged condition; holding raises (or keeps) its alert, not holding clears an active one."""

    kind: Kind
    plant: str
    subject: str
    holding: bool
    since_ms: int
    judged_at_ms: int
    message: str
    facility: str
    value: float | None = None
    detail: str = ""

    @property
    def rule_id(self) -> str:
        return f"regulatory_manifest_{self.kind}"

    @property
    def severity(self) -> Literal["major", "minor"]:
        return SEVERITY[self.kind]


def due_ms(manifest: Manifest, zone: ZoneInfo, grace: timedelta) -> int:
    if manifest.received is None and manifest.shipped is None:
        return manifest.imported_at_ms + int(grace.total_seconds() * 1000)
    end = datetime.combine(manifest.day(zone) + timedelta(days=1), time(), tzinfo=zone)
    return int((end + grace).timestamp() * 1000)


def balance(manifests: Iterable[Manifest], batches: Iterable[WeighedBatch], *, tolerance: float, grace: timedelta,
            now_ms: int, zone: ZoneInfo) -> list[ManifestBalance]:
    """Each manifest with the weighed mass of the batches carrying its number, in manifest-number order."""
    received: dict[str, list[float]] = defaultdict(list)
    for b in batches:
        if b.manifest_no:
            received[b.manifest_no].append(b.mass_kg)
    out: list[ManifestBalance] = []
    for m in sorted(manifests, key=lambda m: m.manifest_no):
        masses = received.get(m.manifest_no, [])
        kg, due = round(sum(masses), 3), due_ms(m, zone, grace)
        state: State
        if now_ms < due:
            state = "awaiting"
        elif not masses:
            state = "never_received"
        elif abs(kg - m.declared_kg) / m.declared_kg > tolerance:
            state = "quantity_differs"
        else:
            state = "matched"
        out.append(ManifestBalance(m, kg, len(masses), due, state))
    return out


def _kg(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".")


def _pct(share: float) -> str:
    return f"{share * 100:.1f} %"


def manifest_findings(balances: Iterable[ManifestBalance], *, tolerance: float, now_ms: int, zone: ZoneInfo,
                      facility_names: Mapping[str, str]) -> list[ManifestFinding]:
    """quantity_differs and never_received for every judged manifest, holding or not."""
    findings: list[ManifestFinding] = []
    for b in balances:
        if b.state == "awaiting":
            continue
        m = b.manifest
        who = f"{facility_names.get(m.generator, m.generator)}" + (f", {m.waste_code}" if m.waste_code else "")
        tol = f"tolerance {_pct(tolerance)}, {SOURCE} [{STATUS}]"
        differs = b.state == "quantity_differs"
        findings.append(ManifestFinding(
            "quantity_differs", m.plant, m.manifest_no, differs, b.due_ms, now_ms,
            f"manifest {m.manifest_no} ({who}): declared {_kg(m.declared_kg)} kg, received {_kg(b.received_kg)} kg in "
            f"{b.batches} batches, differs by {_pct(b.share)} ({tol})" if differs else
            f"manifest {m.manifest_no} ({who}): declared {_kg(m.declared_kg)} kg, received {_kg(b.received_kg)} kg, "
            f"within {_pct(tolerance)}", m.generator, round(b.share, 4),
        ))
        never = b.state == "never_received"
        findings.append(ManifestFinding(
            "never_received", m.plant, m.manifest_no, never, b.due_ms, now_ms,
            f"manifest {m.manifest_no} ({who}): declared {_kg(m.declared_kg)} kg, no weighed batch carries it "
            f"by {_local(b.due_ms, zone)}, the end of its grace period ({SOURCE} [{STATUS}])" if never else
            f"manifest {m.manifest_no} ({who}): received {_kg(b.received_kg)} kg", m.generator, m.declared_kg,
        ))
    return findings


def _local(ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=zone).strftime("%Y-%m-%d %H:%M")


def unmanifested_findings(batches: Iterable[WeighedBatch], known: set[str], *, grace: timedelta, now_ms: int,
                          plant: str, zone: ZoneInfo, facility_names: Mapping[str, str]) -> list[ManifestFinding]:
    """Weighed batches under no known manifest number, grouped by that number (or by facility and month
    when they carry none); holding once the group's first batch is older than the grace period."""
    groups: dict[str, list[WeighedBatch]] = defaultdict(list)
    for b in batches:
        if b.manifest_no and b.manifest_no in known:
            continue
        month = datetime.fromtimestamp(b.time_ms / 1000, tz=zone).strftime("%Y-%m")
        groups[b.manifest_no or f"{b.source}:{month}:no-manifest-number"].append(b)
    findings: list[ManifestFinding] = []
    grace_ms = int(grace.total_seconds() * 1000)
    for subject, group in sorted(groups.items()):
        first = min(b.time_ms for b in group)
        if now_ms < first + grace_ms:
            continue
        kg = round(sum(b.mass_kg for b in group), 3)
        sources = sorted({b.source for b in group})
        names = ", ".join(facility_names.get(s, s) for s in sources)
        what = f"manifest number {subject}" if group[0].manifest_no else "no manifest number"
        findings.append(ManifestFinding(
            "without_manifest", plant, subject, True, first, now_ms,
            f"{len(group)} weighed batches ({_kg(kg)} kg, from {names}) under {what}: no manifest declares them "
            f"({SOURCE} [{STATUS}])", sources[0], kg,
        ))
    return findings


def without_manifest_cleared(active_subjects: Iterable[str], findings: Sequence[ManifestFinding], plant: str,
                             now_ms: int) -> list[ManifestFinding]:
    """Non-holding findings for the active without_manifest alerts no longer found (a manifest came)."""
    holding = {f.subject for f in findings if f.kind == "without_manifest"}
    return [ManifestFinding("without_manifest", plant, s, False, now_ms, now_ms, f"{s}: a manifest now declares these batches", "")
            for s in sorted(set(active_subjects) - holding)]


def duplicate_findings(conflicts: Iterable[Conflict], manifests: Mapping[str, Manifest]) -> list[ManifestFinding]:
    findings: dict[str, ManifestFinding] = {}
    for c in sorted(conflicts, key=lambda c: c.seen_at_ms):
        stored = manifests.get(c.manifest_no)
        facility = stored.generator if stored else ""
        findings[c.manifest_no] = ManifestFinding(
            "duplicate", c.plant, c.manifest_no, True, c.seen_at_ms, c.seen_at_ms,
            f"manifest {c.manifest_no} imported again with different content ({c.detail}); the first import is kept",
            facility,
        )
    return list(findings.values())


# -- the monthly statement -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FacilityMonth:
    """What one hospital sent in a month per its manifests, what was weighed and treated, what is open."""

    facility: str
    name: str
    month: str
    manifests: int
    declared_kg: float
    received_kg: float
    """Weighed under this month's manifests (whenever fed)."""
    weighed_kg: float
    """Every batch from this facility fed in the month (by the batch's `source`)."""
    without_manifest_kg: float
    """Of weighed_kg, the batches under no known manifest number."""
    batches: int
    balances: tuple[ManifestBalance, ...]
    open_findings: tuple[ManifestFinding, ...]

    @property
    def difference_kg(self) -> float:
        return round(self.received_kg - self.declared_kg, 3)


@dataclass(frozen=True, slots=True)
class PlantMonth:
    plant: str
    month: str
    declared_kg: float
    weighed_kg: float
    fed_kg: float
    bunker_change_kg: float | None
    note: str
    facilities: tuple[FacilityMonth, ...]

    @property
    def difference_kg(self) -> float:
        return round(self.weighed_kg - self.declared_kg, 3)


def month_statement(plant: str, month: str, manifests: Sequence[Manifest], batches: Sequence[WeighedBatch],
                    findings: Sequence[ManifestFinding], *, tolerance: float, grace: timedelta, now_ms: int,
                    zone: ZoneInfo, facility_names: Mapping[str, str], known_numbers: Iterable[str] = ()) -> PlantMonth:
    """The month's statement: `manifests` may hold any months (those of `month` count), `batches` must
    hold every batch carrying one of them and every batch fed in the month."""
    of_month = [m for m in manifests if m.month(zone) == month]
    balances = balance(of_month, batches, tolerance=tolerance, grace=grace, now_ms=now_ms, zone=zone)
    known = {m.manifest_no for m in manifests} | set(known_numbers)
    fed = [b for b in batches if datetime.fromtimestamp(b.time_ms / 1000, tz=zone).strftime("%Y-%m") == month]
    facilities = sorted({m.generator for m in of_month} | {b.source for b in fed},
                        key=lambda f: (list(facility_names).index(f) if f in facility_names else len(facility_names), f))
    rows: list[FacilityMonth] = []
    for f in facilities:
        mine = [b for b in balances if b.manifest.generator == f]
        from_f = [b for b in fed if b.source == f]
        subjects = {b.manifest.manifest_no for b in mine}
        open_ = tuple(x for x in findings if x.holding and (x.subject in subjects or (x.kind == "without_manifest" and x.facility == f
                                                                                       and _in_month(x, month, zone))))
        rows.append(FacilityMonth(
            f, facility_names.get(f, f), month, len(mine), round(sum(b.manifest.declared_kg for b in mine), 3),
            round(sum(b.received_kg for b in mine), 3), round(sum(b.mass_kg for b in from_f), 3),
            round(sum(b.mass_kg for b in from_f if not (b.manifest_no and b.manifest_no in known)), 3), len(from_f),
            tuple(mine), open_,
        ))
    weighed = round(sum(b.mass_kg for b in fed), 3)
    return PlantMonth(plant, month, round(sum(m.declared_kg for m in of_month), 3), weighed, weighed, None, NO_BUNKER_STOCK,
                      tuple(rows))


def _in_month(finding: ManifestFinding, month: str, zone: ZoneInfo) -> bool:
    return datetime.fromtimestamp(finding.since_ms / 1000, tz=zone).strftime("%Y-%m") == month


def month_bounds(month: str, zone: ZoneInfo) -> tuple[int, int]:
    """[start, end) epoch ms of a local month `YYYY-MM`."""
    first = date.fromisoformat(f"{month}-01")
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (int(datetime.combine(first, time(), tzinfo=zone).timestamp() * 1000),
            int(datetime.combine(after, time(), tzinfo=zone).timestamp() * 1000))
