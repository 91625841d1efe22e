"""The reconciliation's inputs read from both stores, and its results: the weighed batches from the
time-series store (`batch`), the manifests and conflicts from the relational database, judged by
`wastewatch.manifests.reconcile`. Shared by the API (statement) and `wastewatch manifests reconcile`
(the job that writes the findings as alerts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from wastewatch.manifests.reconcile import (
    ManifestBalance,
    ManifestFinding,
    PlantMonth,
    WeighedBatch,
    balance,
    duplicate_findings,
    manifest_findings,
    month_bounds,
    month_statement,
    unmanifested_findings,
)
from wastewatch.manifests.settings import ManifestSettings
from wastewatch.manifests.table import conflicts, manifests_between, manifests_numbered
from wastewatch.plant import PlantConfig
from wastewatch.points import Store
from wastewatch.records import BATCH
from wastewatch.relational import Database

DAY_MS = 86_400_000
READ_DAYS = 7
"""Batches read a week at a time (a week of batches stays far under InfluxDB's row limit)."""


def weighed_batches(store: Store, plant: str, start_ms: int, end_ms: int) -> list[WeighedBatch]:
    """Every stored batch of the plant in [start_ms, end_ms), in time order."""
    out: list[WeighedBatch] = []
    at = start_ms
    while at < end_ms:
        until = min(end_ms, at + READ_DAYS * DAY_MS)
        for p in store.select(BATCH, where={"plant": plant}, start_ms=at, end_ms=until):
            mass = p.fields.get("mass_kg")
            if not isinstance(mass, int | float) or isinstance(mass, bool):
                continue
            manifest = p.fields.get("manifest_no")
            out.append(WeighedBatch(p.time_ms, float(mass), p.tags.get("source", ""),
                                    str(manifest) if manifest else None, str(p.fields.get("batch_id", ""))))
        at = until
    return out


@dataclass(frozen=True, slots=True)
class MonthReconciliation:
    statement: PlantMonth
    balances: tuple[ManifestBalance, ...]
    findings: tuple[ManifestFinding, ...]


def months_of(start_ms: int, end_ms: int, plant: PlantConfig) -> list[str]:
    """The local months `YYYY-MM` that [start_ms, end_ms) touches."""
    zone = plant.zone
    first = datetime.fromtimestamp(start_ms / 1000, tz=zone).date().replace(day=1)
    last = datetime.fromtimestamp(max(start_ms, end_ms - 1) / 1000, tz=zone).date()
    months, day = [], first
    while day <= last:
        months.append(day.strftime("%Y-%m"))
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return months


def reconcile_month(db: Database, store: Store, plant: PlantConfig, month: str, settings: ManifestSettings,
                    now_ms: int) -> MonthReconciliation:
    """The month's manifests against every batch carrying them (read `match_window_days` either side)
    and the month's batches; the findings for the month's manifests, its unmanifested batches and duplicates."""
    zone, grace = plant.zone, timedelta(days=settings.grace_days)
    start_ms, end_ms = month_bounds(month, zone)
    first = datetime.fromtimestamp(start_ms / 1000, tz=zone).date()
    last = datetime.fromtimestamp((end_ms - 1) / 1000, tz=zone).date()
    manifests = manifests_between(db, plant.id, first, last, start_ms, end_ms)
    margin = settings.match_window_days * DAY_MS
    around = weighed_batches(store, plant.id, start_ms - margin, min(end_ms + margin, max(now_ms, start_ms) + DAY_MS))
    in_month = [b for b in around if start_ms <= b.time_ms < end_ms]
    numbers = {b.manifest_no for b in in_month if b.manifest_no}
    known = {m.manifest_no: m for m in manifests}
    known.update({m.manifest_no: m for m in manifests_numbered(db, plant.id, numbers - set(known))})
    names = {f.id: f.name for f in plant.facilities}
    balances = balance(manifests, around, tolerance=settings.tolerance, grace=grace, now_ms=now_ms, zone=zone)
    findings = [
        *manifest_findings(balances, tolerance=settings.tolerance, now_ms=now_ms, zone=zone, facility_names=names),
        *unmanifested_findings(in_month, set(known), grace=grace, now_ms=now_ms, plant=plant.id, zone=zone, facility_names=names),
        *duplicate_findings(conflicts(db, plant.id, [m.manifest_no for m in manifests]), known),
    ]
    statement = month_statement(plant.id, month, manifests, around, findings, tolerance=settings.tolerance, grace=grace,
                                now_ms=now_ms, zone=zone, facility_names=names, known_numbers=known)
    return MonthReconciliation(statement, tuple(balances), tuple(findings))


def current_month(plant: PlantConfig, now_ms: int) -> str:
    return datetime.fromtimestamp(now_ms / 1000, tz=UTC).astimezone(plant.zone).strftime("%Y-%m")
