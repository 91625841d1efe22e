"""The runs of consecutive days a recomputation handles at once: their inputs read in a few queries
(`Prefetched`) and their results written in one request (`PendingWrites`)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from wastewatch.compliance.amendments import Amendment
from wastewatch.compliance.loads import DayLoad, WindowLoad
from wastewatch.compliance.results import AverageKey, AverageRecord, DayKey, DayRecord
from wastewatch.compliance.samples import Sample
from wastewatch.compliance.timeline import OperatingTimeline
from wastewatch.points import Point

PREFETCH_DAYS = 6
"""Days a recomputation reads at once: 6 days of 1-minute values are 8,640 rows per channel, under
InfluxDB's default max-row-limit of 10,000 per series (a longer result is read again in halves)."""


class PendingWrites:
    """What a recomputation writes for a run of days, in one request: InfluxDB takes a few thousand
    points in about the time it takes a few hundred, so one write per day was a third of the time."""

    def __init__(self) -> None:
        self._amendments: list[Point] = []
        self._results: list[Point] = []
        self._loads: list[Point] = []

    def add(self, amendments: Sequence[Amendment], results: Sequence[AverageRecord | DayRecord]) -> PendingWrites:
        self._amendments += [a.to_point() for a in amendments]
        self._results += [r.to_point() for r in results]
        return self

    def add_loads(self, windows: Sequence[WindowLoad], days: Sequence[DayLoad]) -> PendingWrites:
        """Emission loads, written after the results they follow."""
        self._loads += [w.to_point() for w in windows] + [d.to_point() for d in days]
        return self

    def points(self) -> list[Point]:
        # Amendments come first in the one write: a result is never replaced without its record.
        return self._amendments + self._results + self._loads


@dataclass
class Prefetched:
    """A recomputation's inputs for several consecutive days, sliced per day (one query instead of one per
    channel and day); the stored results are looked up by key, so a superset serves each day."""

    start_ms: int
    end_ms: int
    samples: dict[str, list[Sample]]
    timeline: OperatingTimeline
    averages: dict[AverageKey, AverageRecord]
    days: dict[DayKey, DayRecord]
    loads: frozenset[WindowLoad | DayLoad] = frozenset()
    """The stored emission loads of the days (a computed load equal to one of them is not written again)."""
    _times: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._times = {sid: [s.time_ms for s in samples] for sid, samples in self.samples.items()}

    def covers(self, start_ms: int, end_ms: int) -> bool:
        return self.start_ms <= start_ms and end_ms <= self.end_ms

    def samples_in(self, start_ms: int, end_ms: int) -> dict[str, list[Sample]]:
        return {
            sid: samples[bisect_left(self._times[sid], start_ms) : bisect_left(self._times[sid], end_ms)]
            for sid, samples in self.samples.items()
        }


def day_runs(first: date, last: date) -> list[tuple[date, date]]:
    """[first, last] in runs of at most PREFETCH_DAYS days (empty when last < first)."""
    chunks: list[tuple[date, date]] = []
    while first <= last:
        chunks.append((first, min(last, first + timedelta(days=PREFETCH_DAYS - 1))))
        first += timedelta(days=PREFETCH_DAYS)
    return chunks
