"""The stored averages and days (`wastewatch.compliance.results`) read back from the time-series store."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from wastewatch.compliance.results import EMISSION_AVG, EMISSION_DAY, AverageKey, AverageRecord, DayKey, DayRecord
from wastewatch.points import Store


def read_averages(store: Store, plant_id: str, start_ms: int, end_ms: int, **where: str) -> dict[AverageKey, AverageRecord]:
    """Stored averages with a window start in [start_ms, end_ms), optionally narrowed by tags."""
    points = store.select(EMISSION_AVG, where={"plant": plant_id, **where}, start_ms=start_ms, end_ms=end_ms)
    records = (AverageRecord.from_point(p) for p in points)
    return {r.key: r for r in records}


def read_days(store: Store, plant_id: str, zone: ZoneInfo, start_ms: int, end_ms: int, **where: str) -> dict[DayKey, DayRecord]:
    """Stored days starting in [start_ms, end_ms), optionally narrowed by tags, their dates in `zone`."""
    points = store.select(EMISSION_DAY, where={"plant": plant_id, **where}, start_ms=start_ms, end_ms=end_ms)
    records = (DayRecord.from_point(p, zone) for p in points)
    return {r.key: r for r in records}
