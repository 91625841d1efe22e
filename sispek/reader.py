"""The uploader's input: a stack's raw readings from the time-series store, with their status tags."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import get_args

from wastewatch.compliance.samples import Sample, SampleStatus
from wastewatch.points import Store
from wastewatch.records import READING

_STATUS_OF: dict[str, SampleStatus] = {status: status for status in get_args(SampleStatus)}
_NUMBERS: frozenset[type] = frozenset({int, float})  # a value's exact type: a boolean field is no number


def read_readings(store: Store, plant: str, sensors: Sequence[str], start_ms: int, end_ms: int) -> dict[str, list[Sample]]:
    """The sensors' readings in [start_ms, end_ms) by sensor id, each list in time order, in one query.
    A reading without a status tag is valid; an unknown status is suspect (never sent)."""
    found: dict[str, list[Sample]] = {sensor: [] for sensor in sensors}
    columns = store.select_column(READING, "value", where={"plant": plant}, any_of=("sensor", list(sensors)),
                                  start_ms=start_ms, end_ms=end_ms)
    for column in columns:
        samples = found.get(column.tags.get("sensor", ""))
        if samples is None:
            continue
        status = _STATUS_OF.get(column.tags.get("status") or "valid", "suspect")
        samples += [Sample(t, float(v), status) for t, v in zip(column.times, column.values)
                    if type(v) in _NUMBERS and math.isfinite(float(v))]
    for samples in found.values():
        samples.sort()
    return found
