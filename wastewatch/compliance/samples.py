"""Raw samples as the compliance engine sees them: a value, a time and a status code (domain.md §8.2)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from operator import lt
from typing import Literal

from wastewatch.records import Reading

# EN 17255-2 minimum (valid, maintenance, malfunction) [C] S35, plus local codes [A].
SampleStatus = Literal[
    "valid", "maintenance", "malfunction", "suspect", "out_of_range", "invalid_o2", "invalid_h2o", "startup_no_waste"
]
STATUS_ORDER: tuple[SampleStatus, ...] = (
    "valid", "startup_no_waste", "suspect", "out_of_range", "invalid_h2o", "invalid_o2", "maintenance", "malfunction"
)
"""Severity order, least first: when two channels are combined the later status wins."""


@dataclass(frozen=True, slots=True, order=True)
class Sample:
    """One value of one channel at one instant (epoch ms)."""

    time_ms: int
    value: float
    status: SampleStatus = "valid"

    @classmethod
    def from_reading(cls, reading: Reading) -> Sample:
        return cls(reading.time_ms, reading.value, reading.status)


def worst_status(*statuses: SampleStatus) -> SampleStatus:
    """The most severe of several statuses (a normalised value inherits its O2 and H2O statuses)."""
    return max(statuses, key=STATUS_ORDER.index)


def unique_by_time(samples: Iterable[Sample]) -> list[Sample]:
    """One sample per instant, in time order, whatever order they arrived in.

    The store keeps one point per instant; when the same instant arrives twice with different content
    the larger (time, value, status) wins, so the result never depends on arrival order.
    """
    ordered = samples if isinstance(samples, list) else list(samples)
    # The store hands samples over in time order, one per instant: then there is nothing to decide.
    times = [s.time_ms for s in ordered]
    if all(map(lt, times, islice(times, 1, None))):
        return list(ordered)
    by_time: dict[int, Sample] = {}
    for sample in ordered:
        kept = by_time.get(sample.time_ms)
        if kept is None or _rank(sample) > _rank(kept):
            by_time[sample.time_ms] = sample
    return [by_time[t] for t in sorted(by_time)]


def _rank(sample: Sample) -> tuple[float, int]:
    return (sample.value, STATUS_ORDER.index(sample.status))


def valid_only(samples: Iterable[Sample]) -> list[Sample]:
    """The status filter: keep valid samples only (V10 excludes every flagged value)."""
    return [s for s in samples if s.status == "valid"]
