"""The newest reading of each sensor of a plant, and the plant's current operating state.

The readings come from one `Store.latest` query grouped by sensor and status, which every backend
answers in one query (InfluxDB's `last()` selector, SQLite's `max(time_ms)` row).
"""

from __future__ import annotations

from dataclasses import dataclass

from wastewatch.operating_state import OperatingState
from wastewatch.points import Store
from wastewatch.records import PLANT_STATE, READING

DAY_MS = 86_400_000
STATE_LOOKBACK_DAYS: tuple[int, ...] = (1, 31, 366)


@dataclass(frozen=True, slots=True)
class LatestReading:
    sensor: str
    time_ms: int
    value: float
    status: str


def latest_readings(store: Store, plant_id: str, since_ms: int, now_ms: int) -> dict[str, LatestReading]:
    """Per sensor, its newest reading in [since_ms, now_ms]; sensors without one are left out."""
    found: dict[str, LatestReading] = {}
    newest = store.latest(READING, "value", where={"plant": plant_id}, start_ms=since_ms, end_ms=now_ms + 1,
                          group_by=("sensor", "status"))
    for point in newest:  # one per sensor and status: the newest status wins
        value = point.fields.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            _keep_newest(found, LatestReading(point.tags.get("sensor", ""), point.time_ms, float(value),
                                              point.tags.get("status") or "valid"))
    return found


def _keep_newest(found: dict[str, LatestReading], reading: LatestReading) -> None:
    current = found.get(reading.sensor)
    if current is None or reading.time_ms >= current.time_ms:
        found[reading.sensor] = reading


@dataclass(frozen=True, slots=True)
class CurrentState:
    state: OperatingState
    since_ms: int
    reason: str


def current_state(store: Store, plant_id: str, now_ms: int) -> CurrentState | None:
    """The plant's newest recorded operating state (looking back up to a year), or None."""
    names = {s.value for s in OperatingState}
    for days in STATE_LOOKBACK_DAYS:
        points = store.select(PLANT_STATE, where={"plant": plant_id}, start_ms=now_ms - days * DAY_MS, end_ms=now_ms + 1)
        for point in reversed(points):
            state = point.fields.get("state")
            if isinstance(state, str) and state in names:
                return CurrentState(OperatingState(state), point.time_ms, str(point.fields.get("reason", "")))
    return None
