"""Sealing a day and verifying sealed days, pure: the callers read the records and the `ledger_days` rows.

A sealed day holds its leaves in (kind, key) order, their Merkle root, the previous chain hash and its
own. Verification checks the chain from the plant's first sealed day (consecutive days, each root
from its leaves, each chain hash from the one before), then every record of the days asked for,
recomputed from the stores, against what the ledger expects of it, in day and then leaf order;
the first difference is named: a record `changed`, `missing` (sealed, no longer stored) or `added`
(stored in a sealed day, never sealed), or the `chain` itself broken.

Amendments: what the ledger expects of a result is the newest statement about it in chain order, its
own leaf or the `replacement` of a sealed amendment of it. A result that differs from that is still
accepted when an amendment not yet sealed (made after the last sealed day) explains it: the newest such
amendment's new quality, value and version are the result's. So a result rewritten by the project's
recomputation verifies as amended, and one changed any other way does not.

Trail rows (alert transitions, API audit) belong to a day by `RowDays`: the day also keeps each trail
table's highest id when it was sealed (its watermarks, leaves of their own), so a row written later
with an older time goes into the next seal.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from typing import Literal

from wastewatch.compliance.amendments import EMISSION_AMENDMENT
from wastewatch.ledger.hashing import GENESIS, chain_hash, merkle_root
from wastewatch.ledger.leaves import RESULT_KINDS, TRAILS, Leaf, Record, amendment_hash, watermark_record

Problem = Literal["changed", "missing", "added", "chain"]


@dataclass(frozen=True, slots=True)
class SealedDay:
    """One row of `ledger_days`."""

    plant: str
    day: date
    root: str
    previous: str
    chain: str
    leaves: tuple[Leaf, ...]
    sealed_at_ms: int
    unreadable: str = ""
    """Why the stored leaf list could not be read (a row not written by `table.append_day`), else empty."""
    watermarks: Mapping[str, int] = field(default_factory=dict)
    """Per trail table, its highest id when the day was sealed (each also a `ledger_watermark` leaf)."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The first record (or chain link) that no longer matches its seal."""

    problem: Problem
    kind: str
    key: str
    day: date
    detail: str = ""

    def describe(self, plant: str) -> str:
        text = f"{self.problem}: {self.kind} {self.key} of {plant} {self.day.isoformat()}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass
class Verdict:
    """What a verification found: the days checked, the last chain hash among them, how many results
    differ from their own leaf because of an amendment (sealed or not yet), and the first mismatch."""

    days: int = 0
    last_chain: str = GENESIS
    last_day: date | None = None
    amended: int = 0
    pending: int = 0
    mismatch: Mismatch | None = None
    roots: list[tuple[date, str, str]] = field(default_factory=list)
    """(day, root, chain hash) of each day checked."""

    @property
    def ok(self) -> bool:
        return self.mismatch is None


def ordered(leaves: Iterable[Leaf]) -> tuple[Leaf, ...]:
    """Leaves in (kind, key) order, the order a root is computed in; two leaves with one key are an error."""
    out = tuple(sorted(leaves, key=lambda leaf: (leaf.kind, leaf.key)))
    for a, b in pairwise(out):
        if (a.kind, a.key) == (b.kind, b.key):
            raise ValueError(f"two records named {a.kind} {a.key} in one day")
    return out


def day_root(leaves: Iterable[Leaf]) -> str:
    return merkle_root([leaf.hash for leaf in ordered(leaves)])


def add_statements(into: dict[str, str], days: Iterable[SealedDay]) -> dict[str, str]:
    """`into` (see `expected_hashes`) updated with what the `days` state, in their order."""
    for day in days:
        for leaf in day.leaves:
            if leaf.kind in RESULT_KINDS:
                into[leaf.key] = leaf.hash
        for leaf in day.leaves:
            if leaf.kind == EMISSION_AMENDMENT:
                into[leaf.target] = leaf.replacement
    return into


def expected_hashes(days: Iterable[SealedDay]) -> dict[str, str]:
    """Per result key, the newest hash the sealed days state for it (its leaf or an amendment's replacement)."""
    return add_statements({}, days)


class RowDays:
    """Which sealed day a trail row belongs to: the later of its own local day and the first day whose
    watermark of its table reaches its id; None when no day's does (not sealed yet)."""

    def __init__(self, days: Iterable[tuple[date, Mapping[str, int]]]) -> None:
        self._days: dict[str, list[date]] = {t: [] for t in TRAILS}
        self._marks: dict[str, list[int]] = {t: [] for t in TRAILS}
        for day, marks in days:
            for table in TRAILS:
                if table in marks:
                    self._days[table].append(day)
                    self._marks[table].append(max([marks[table], *self._marks[table][-1:]]))  # never backwards

    def day_of(self, record: Record) -> date | None:
        table = str(record.content.get("table", ""))
        marks = self._marks.get(table, [])
        i = bisect_left(marks, record.row_id)
        if i == len(marks):
            return None
        return max(record.day, self._days[table][i])


def seal(
    plant: str, day: date, records: Sequence[Record], previous: str, expected: Mapping[str, str],
    targets: Mapping[str, str], sealed_at_ms: int, watermarks: Mapping[str, int] | None = None,
) -> SealedDay:
    """The day sealed after `previous` (a chain hash): `records` are its records as stored now,
    `expected` the ledger's hashes so far (`expected_hashes`), `targets` the current hash of every
    result an amendment of the day changed (a result no longer stored is left out), `watermarks` the
    trail tables' highest ids when the sealing began (the rows up to them are among `records`)."""
    marks = dict(watermarks or {})
    leaves = [Leaf.of(r) for r in records if r.kind != EMISSION_AMENDMENT]
    leaves += [Leaf.of(watermark_record(table, max_id, day)) for table, max_id in sorted(marks.items())]
    stated = dict(expected)
    stated.update((leaf.key, leaf.hash) for leaf in leaves)
    for amendment in sorted((r for r in records if r.kind == EMISSION_AMENDMENT), key=lambda r: (r.time_ms, r.key)):
        replacement = targets.get(amendment.target, "")
        leaves.append(Leaf.for_amendment(amendment, stated.get(amendment.target, ""), replacement))
        stated[amendment.target] = replacement
    kept = ordered(leaves)
    root = merkle_root([leaf.hash for leaf in kept])
    return SealedDay(plant, day, root, previous, chain_hash(previous, root), kept, sealed_at_ms, watermarks=marks)


def check_chain(days: Sequence[SealedDay]) -> Mismatch | None:
    """The first broken link of a plant's sealed days, from its first: a gap, a root that is not its
    leaves', a previous hash that is not the day before's chain hash, a chain hash that does not follow."""
    previous, before = GENESIS, None
    for day in days:
        key = f"ledger_days {day.plant} {day.day.isoformat()}"
        if before is not None and day.day != before + timedelta(days=1):
            return Mismatch("chain", "ledger_days", key, day.day, f"follows {before.isoformat()}: a day is missing")
        if day.previous != previous:
            return Mismatch("chain", "ledger_days", key, day.day, "its previous chain hash is not the chain hash of the day before")
        if day.unreadable:
            return Mismatch("chain", "ledger_days", key, day.day, day.unreadable)
        try:
            root = day_root(day.leaves)
        except ValueError as exc:
            return Mismatch("chain", "ledger_days", key, day.day, str(exc))
        if root != day.root:
            return Mismatch("chain", "ledger_days", key, day.day, "its root is not the Merkle root of its leaves")
        if chain_hash(previous, root) != day.chain:
            return Mismatch("chain", "ledger_days", key, day.day, "its chain hash is not SHA-256(previous || root)")
        previous, before = day.chain, day.day
    return None


def verify(
    days: Sequence[SealedDay], checked: Iterable[date], current: Mapping[date, Sequence[Record]], unsealed: Sequence[Record],
) -> Verdict:
    """Check the chain of all of a plant's sealed `days`, then the records of the sealed days in
    `checked` as they are stored now (`current`, per day), allowing for the `unsealed` amendments."""
    verdict = Verdict()
    broken = check_chain(days)
    if broken is not None:
        verdict.mismatch = broken
        return verdict
    expected = expected_hashes(days)
    pending: dict[str, Record] = {}
    for amendment in sorted(unsealed, key=lambda r: (r.time_ms, r.key)):
        pending[amendment.target] = amendment  # the newest last
    wanted = set(checked)
    for day in days:
        if day.day not in wanted:
            continue
        mismatch = _check_day(day, current.get(day.day, ()), expected, pending, verdict)
        verdict.days += 1
        verdict.last_chain, verdict.last_day = day.chain, day.day
        verdict.roots.append((day.day, day.root, day.chain))
        if mismatch is not None:
            verdict.mismatch = mismatch
            return verdict
    return verdict


def _check_day(
    day: SealedDay, records: Sequence[Record], expected: Mapping[str, str], pending: Mapping[str, Record], verdict: Verdict,
) -> Mismatch | None:
    marks = [watermark_record(table, max_id, day.day) for table, max_id in day.watermarks.items()]
    stored = {(r.kind, r.key): r for r in [*records, *marks]}
    sealed = {(leaf.kind, leaf.key): leaf for leaf in day.leaves}
    for kind, key in sorted(stored.keys() | sealed.keys()):
        leaf, record = sealed.get((kind, key)), stored.get((kind, key))
        if leaf is None:
            return Mismatch("added", kind, key, day.day, "stored in a sealed day but not in its seal")
        if record is None:
            return Mismatch("missing", kind, key, day.day, "sealed but no longer stored")
        if kind == EMISSION_AMENDMENT:
            if record.target != leaf.target or amendment_hash(record, leaf.replaced, leaf.replacement) != leaf.hash:
                return Mismatch("changed", kind, key, day.day, "the amendment differs from its seal")
            continue
        now, stated = record.hash, expected.get(key, leaf.hash) if kind in RESULT_KINDS else leaf.hash
        if now == stated:
            verdict.amended += stated != leaf.hash
            continue
        amendment = pending.get(key)
        if amendment is not None and amendment.new_state is not None and record.state is not None and amendment.new_state.same(record.state):
            verdict.pending += 1
            continue
        return Mismatch("changed", kind, key, day.day, "differs from its seal and no amendment explains it")
    return None
