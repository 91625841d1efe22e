"""The compliance results and amendments in the time-series store as ledger records
(`wastewatch.ledger.leaves`): the stored points as they are, every field included."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from wastewatch.compliance.amendments import EMISSION_AMENDMENT
from wastewatch.compliance.results import EMISSION_AVG, EMISSION_DAY
from wastewatch.ledger.leaves import Record, amendment_record, result_record
from wastewatch.points import Store


def result_records(store: Store, plant_id: str, zone: ZoneInfo, start_ms: int, end_ms: int) -> list[Record]:
    """The plant's stored averages and days with a time in [start_ms, end_ms)."""
    return [
        result_record(point, zone)
        for measurement in (EMISSION_AVG, EMISSION_DAY)
        for point in store.select(measurement, where={"plant": plant_id}, start_ms=start_ms, end_ms=end_ms)
    ]


def amendment_records(store: Store, plant_id: str, zone: ZoneInfo, before_ms: int | None = None) -> list[Record]:
    """The plant's amendments of results before `before_ms` (every one without it); each a record of
    the local day it was made, which the caller picks by `Record.day`."""
    return [amendment_record(p, zone) for p in store.select(EMISSION_AMENDMENT, where={"plant": plant_id}, end_ms=before_ms)]


def target_hashes(store: Store, plant_id: str, zone: ZoneInfo, amendments: Iterable[Record]) -> dict[str, str]:
    """The current leaf hash of each result the amendments changed (one left out when it is no longer stored)."""
    targets = {a.target: a.target_ms for a in amendments}
    if not targets:
        return {}
    stored = result_records(store, plant_id, zone, min(targets.values()), max(targets.values()) + 1)
    return {r.key: r.hash for r in stored if r.key in targets}
