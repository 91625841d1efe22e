"""The compliance engine's inputs from the time-series store: raw CEMS samples with their status,
the plant-state timeline the alert worker records, and weighed batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

from wastewatch.compliance.kpis import BatchMass
from wastewatch.compliance.samples import Sample, SampleStatus
from wastewatch.compliance.timeline import STATE_LOOKBACK_DAYS, OperatingTimeline
from wastewatch.operating_state import OperatingState
from wastewatch.points import Store
from wastewatch.records import BATCH, PLANT_STATE, READING

_STATUSES: frozenset[str] = frozenset(get_args(SampleStatus))
_STATUS_OF: dict[str, SampleStatus] = {status: status for status in get_args(SampleStatus)}
_NUMBERS: frozenset[type] = frozenset({int, float})
"""A value's exact type, so a boolean field (a subclass of int) is not taken for a number."""
_STATE_NAMES: frozenset[str] = frozenset(s.value for s in OperatingState)
_DAY_MS = 86_400_000


def read_samples(store: Store, plant_id: str, sensor_id: str, start_ms: int, end_ms: int) -> list[Sample]:
    """One sensor's readings in [start_ms, end_ms), each with its status tag (an unknown status is suspect)."""
    points = store.select(READING, where={"plant": plant_id, "sensor": sensor_id}, start_ms=start_ms, end_ms=end_ms)
    samples: list[Sample] = []
    for point in points:
        value = point.fields.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        status = point.tags.get("status", "valid")
        samples.append(Sample(point.time_ms, float(value), status if status in _STATUSES else "suspect"))  # type: ignore[arg-type]
    return samples


def read_channels(store: Store, plant_id: str, sensor_ids: Sequence[str], start_ms: int, end_ms: int) -> dict[str, list[Sample]]:
    """Several sensors' readings in [start_ms, end_ms) by sensor id, each list in time order.

    One query for all of them (`Store.select_column`), its columns turned straight into samples (no
    `Point` objects): a year's recomputation spent over a quarter of its time in per-channel `select`s.
    """
    found: dict[str, list[Sample]] = {sid: [] for sid in sensor_ids}
    columns = store.select_column(
        READING, "value", where={"plant": plant_id}, any_of=("sensor", list(sensor_ids)), start_ms=start_ms, end_ms=end_ms
    )
    for column in columns:
        samples = found.get(column.tags.get("sensor", ""))
        if samples is None:
            continue
        status = _STATUS_OF.get(column.tags.get("status") or "valid", "suspect")
        samples += [
            Sample(t, float(v), status) for t, v in zip(column.times, column.values) if type(v) in _NUMBERS
        ]
    for samples in found.values():
        samples.sort(key=_time_of)
    return found


def _time_of(sample: Sample) -> int:
    return sample.time_ms


def read_timeline(store: Store, plant_id: str, start_ms: int, end_ms: int) -> OperatingTimeline:
    """The operating states over [start_ms, end_ms), starting from the last change before `start_ms`.

    Without any recorded change before the range the state there is unknown (no effective time).
    """
    changes = read_state_changes(store, plant_id, start_ms, end_ms)
    for days in STATE_LOOKBACK_DAYS:
        earlier = read_state_changes(store, plant_id, start_ms - days * _DAY_MS, start_ms)
        if earlier:
            changes.insert(0, earlier[-1])
            break
    return OperatingTimeline(tuple(changes))


def read_state_changes(store: Store, plant_id: str, start_ms: int, end_ms: int) -> list[tuple[int, OperatingState]]:
    """The recorded operating-state changes in [start_ms, end_ms), in time order (unknown states left out)."""
    changes: list[tuple[int, OperatingState]] = []
    for point in store.select(PLANT_STATE, where={"plant": plant_id}, start_ms=start_ms, end_ms=end_ms):
        state = point.fields.get("state")
        if isinstance(state, str) and state in _STATE_NAMES:
            changes.append((point.time_ms, OperatingState(state)))
    return changes


def read_batches(store: Store, plant_id: str, start_ms: int, end_ms: int) -> list[BatchMass]:
    """The plant's batches in [start_ms, end_ms), in time order."""
    batches: list[BatchMass] = []
    for point in store.select(BATCH, where={"plant": plant_id}, start_ms=start_ms, end_ms=end_ms):
        mass = point.fields.get("mass_kg")
        if isinstance(mass, bool) or not isinstance(mass, (int, float)):
            continue
        batches.append(BatchMass(point.time_ms, float(mass), point.tags.get("source", ""), point.tags.get("waste_code")))
    return batches
