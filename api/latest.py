"""The newest reading of each sensor of a plant, and the plant's current operating state.

On InfluxDB one `last()` query grouped by sensor and status answers it (a selector without a time
grouping returns the selected point's own time). Other stores go through the `Store` interface:
the newest hour with data per sensor, then that hour's points.
"""

from __future__ import annotations

from dataclasses import dataclass

from wastewatch.operating_state import OperatingState
from wastewatch.points import Store
from wastewatch.records import PLANT_STATE, READING
from wastewatch.store.influx import InfluxStore
from wastewatch.store.influxql import ident, literal

HOUR_S = 3600
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
    if isinstance(store, InfluxStore):
        return _influx_latest(store, plant_id, since_ms, now_ms)
    return _generic_latest(store, plant_id, since_ms, now_ms)


def _keep_newest(found: dict[str, LatestReading], reading: LatestReading) -> None:
    current = found.get(reading.sensor)
    if current is None or reading.time_ms >= current.time_ms:
        found[reading.sensor] = reading


def _influx_latest(store: InfluxStore, plant_id: str, since_ms: int, now_ms: int) -> dict[str, LatestReading]:
    q = (
        f"SELECT last({ident('value')}) FROM {ident(READING)} WHERE {ident('plant')} = {literal(plant_id)} "
        f"AND time >= {int(since_ms)}ms AND time <= {int(now_ms)}ms GROUP BY {ident('sensor')}, {ident('status')}"
    )
    found: dict[str, LatestReading] = {}
    for series in store.query(q):
        tags = series.get("tags", {})
        for time_ms, value in series["values"]:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                _keep_newest(found, LatestReading(tags.get("sensor", ""), int(time_ms), float(value), tags.get("status") or "valid"))
    return found


def _generic_latest(store: Store, plant_id: str, since_ms: int, now_ms: int) -> dict[str, LatestReading]:
    hours = store.aggregate(READING, "value", "count", where={"plant": plant_id}, start_ms=since_ms, end_ms=now_ms + 1,
                            every_s=HOUR_S, group_by=["sensor"])
    newest_hour: dict[str, int] = {}
    for row in hours:
        sensor = row.tags.get("sensor", "")
        if row.time_ms is not None and row.time_ms >= newest_hour.get(sensor, -1):
            newest_hour[sensor] = row.time_ms
    found: dict[str, LatestReading] = {}
    for sensor, hour_ms in newest_hour.items():
        for point in store.select(READING, where={"plant": plant_id, "sensor": sensor},
                                  start_ms=max(hour_ms, since_ms), end_ms=min(hour_ms + HOUR_S * 1000, now_ms + 1)):
            value = point.fields.get("value")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                _keep_newest(found, LatestReading(sensor, point.time_ms, float(value), point.tags.get("status", "valid")))
    return found


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
