"""Which part of a report's period has sensor readings: hours with at least one reading, merged into
stretches, so the report states the empty stretches instead of showing them as zero."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wastewatch.points import Store
from wastewatch.records import READING, SIMULATED_HISTORY

HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class DataCoverage:
    """[start, end) stretches of the period with readings, at one-hour resolution."""

    start_ms: int
    end_ms: int
    stretches: tuple[tuple[int, int], ...]
    simulated: tuple[tuple[int, int], ...] = ()
    """The stretches of the period the simulator back-filled (the demo's history), clipped to it."""

    @property
    def first_ms(self) -> int | None:
        return self.stretches[0][0] if self.stretches else None

    @property
    def last_ms(self) -> int | None:
        return self.stretches[-1][1] if self.stretches else None

    def gaps(self) -> list[tuple[int, int]]:
        """The stretches of the period without any reading, in time order."""
        found: list[tuple[int, int]] = []
        cursor = self.start_ms
        for begin, end in self.stretches:
            if begin > cursor:
                found.append((cursor, begin))
            cursor = end
        if cursor < self.end_ms:
            found.append((cursor, self.end_ms))
        return found


def stretches(hour_starts: Iterable[int], start_ms: int, end_ms: int) -> tuple[tuple[int, int], ...]:
    """Consecutive hours with readings merged into [start, end) stretches clipped to the period."""
    merged: list[list[int]] = []
    for hour in sorted(hour_starts):
        begin, end = max(start_ms, hour), min(end_ms, hour + HOUR_MS)
        if begin >= end:
            continue
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    return tuple((b, e) for b, e in merged)


def read_coverage(store: Store, plant_id: str, start_ms: int, end_ms: int) -> DataCoverage:
    """One aggregate query: the count of readings per hour (empty hours are left out by the store); and the
    simulated stretches that overlap the period (a back-fill starts before its end and ends after its start)."""
    rows = store.aggregate(READING, "value", "count", where={"plant": plant_id}, start_ms=start_ms, end_ms=end_ms,
                           every_s=HOUR_MS // 1000)
    hours = (r.time_ms for r in rows if r.time_ms is not None and r.value)
    marks = store.select(SIMULATED_HISTORY, where={"plant": plant_id}, end_ms=end_ms)
    simulated = sorted((max(p.time_ms, start_ms), min(int(p.fields["end_ms"]), end_ms)) for p in marks
                       if isinstance(p.fields.get("end_ms"), int) and int(p.fields["end_ms"]) > start_ms)
    return DataCoverage(start_ms, end_ms, stretches(hours, start_ms, end_ms), tuple(simulated))
