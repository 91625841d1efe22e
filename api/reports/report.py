"""The plant report: every figure computed once from the summaries for one period, then rendered."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

from api.reports.coverage import DataCoverage, read_coverage
from api.summaries import (
    AlertResponse,
    ComplianceSummary,
    Grouping,
    Period,
    Tonnage,
    Uptime,
    alert_response,
    compliance_summary,
    parse_period,
    tonnage,
    uptime,
)
from api.summaries.alert_response import AlertRows
from api.summaries.loads import EmissionLoads, emission_loads
from api.summaries.profiles import plant_profiles
from wastewatch.ledger.table import day_roots
from wastewatch.plant import PlantConfig
from wastewatch.points import Store
from wastewatch.relational import Database, DatabaseError


@dataclass(frozen=True, slots=True)
class PlantReport:
    """One plant's report for one period (a month, quarter or year on the plant's calendar)."""

    plant: PlantConfig
    period: Period
    generated_at_ms: int
    tonnage: Tonnage
    uptime: Uptime
    compliance: ComplianceSummary
    alerts: AlertResponse | None
    coverage: DataCoverage
    min_valid_hours_per_day: int | None
    """The daily validity rule of the plant's data-availability profile (its one definition), if it has one."""
    loads: EmissionLoads | None = None
    """Emission loads per pollutant over the period and per month, with their coverage."""
    sealed: tuple[tuple[date, str, str], ...] = ()
    """(day, Merkle root, chain hash) of the period's days sealed in the tamper-evident ledger, in day order."""


def build_report(
    store: Store,
    plant: PlantConfig,
    period: Period | str,
    *,
    alert_db: AlertRows | None = None,
    now_ms: int | None = None,
) -> PlantReport:
    """Compute the figures of `period` (`2026-11`, `2026-Q4`, `2026` or a `Period`) once."""

    p = parse_period(period, plant.zone) if isinstance(period, str) else period
    by: Grouping = "day" if p.kind == "month" else ("week" if p.kind == "quarter" else "month")
    return PlantReport(
        plant, p, now_ms if now_ms is not None else time.time_ns() // 1_000_000,
        tonnage(store, plant, p.start_ms, p.end_ms, by=by),
        uptime(store, plant, p.start_ms, p.end_ms, alert_db=alert_db),
        compliance_summary(store, plant, p.start_ms, p.end_ms),
        alert_response(alert_db, plant.id, p.start_ms, p.end_ms) if alert_db is not None else None,
        read_coverage(store, plant.id, p.start_ms, p.end_ms),
        next((x.data_availability.min_valid_hours_per_day for x in plant_profiles(plant) if x.data_availability), None),
        loads=emission_loads(store, plant, p.start_ms, p.end_ms, "month"),
        sealed=_sealed_days(alert_db, plant, p),
    )


def _sealed_days(db: AlertRows | None, plant: PlantConfig, period: Period) -> tuple[tuple[date, str, str], ...]:
    """The ledger's roots of the period (none without the ledger's table: nothing sealed yet)."""
    if not isinstance(db, Database):
        return ()
    try:
        return tuple(day_roots(db, plant.id, period.first, period.after - timedelta(days=1)))
    except DatabaseError:
        return ()
