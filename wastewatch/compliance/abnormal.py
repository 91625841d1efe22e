"""V8 abnormal-operation counters: ≤ 4 h per event, ≤ 60 h per year, dust ≤ 150 mg/Nm³ (half-hourly)
during an event; and the event clock the regulatory alerts read (3 h major, 4 h critical).

An event is measured at the resolution of the data: the half-hours over column A say that there is
one, the validated samples around them say when it began and ended (`measure_events`). A cap is
reached at start + cap, whatever the half-hour clock says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from wastewatch.compliance.averaging import Average
from wastewatch.compliance.profiles import AbnormalOperation
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.samples import Sample
from wastewatch.compliance.timeline import Interval

ClockLevel = Literal["ok", "warning", "over"]
HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class AbnormalEvent:
    """One abnormal-operation event as counted at `now_ms` (an open event runs until now)."""

    start_ms: int
    end_ms: int
    open: bool
    duration_h: float
    over_event_cap: bool


@dataclass(frozen=True, slots=True)
class AbnormalYear:
    year: int
    total_h: float
    max_year_h: float
    events: tuple[AbnormalEvent, ...]
    dust_over_cap: tuple[Average, ...]

    @property
    def over_year_cap(self) -> bool:
        return self.total_h > self.max_year_h

    @property
    def passed(self) -> bool:
        return not self.over_year_cap and not self.dust_over_cap and not any(e.over_event_cap for e in self.events)


def reached(duration_ms: int, cap_h: float) -> bool:
    """A cap counts as reached the moment the event has lasted it (≥, to the millisecond): the plant
    must stop then, not at the next half-hour."""
    return duration_ms >= round(cap_h * HOUR_MS)


def event_clock(interval: Interval, now_ms: int, rules: AbnormalOperation) -> ClockLevel:
    """Where a running event's clock stands: from `warn_event_h` a warning, from `max_event_h` over."""
    ran_ms = interval.overlap_ms(interval.start_ms, now_ms)
    if reached(ran_ms, rules.max_event_h):
        return "over"
    return "warning" if reached(ran_ms, rules.warn_event_h) else "ok"


def exceedance_runs(
    samples: Iterable[Sample], threshold: float, period_ms: int, counts: Callable[[int], bool] | None = None
) -> list[Interval]:
    """Runs of one channel's valid samples above `threshold`, each sample standing for its reporting
    period [t, t + period_ms). A run goes on over one missing or flagged sample (a gap of up to two
    periods between samples over the threshold) and ends at a valid sample within it. `counts(t)`
    leaves out samples outside effective operating time."""
    runs: list[Interval] = []
    run: tuple[int, int] | None = None  # (first, last) sample time over the threshold
    for sample in samples:
        if sample.status != "valid" or (counts is not None and not counts(sample.time_ms)):
            continue
        if sample.value <= threshold:
            if run is not None:
                runs.append(Interval(run[0], run[1] + period_ms))
            run = None
        elif run is None or sample.time_ms - run[1] > 2 * period_ms:
            if run is not None:
                runs.append(Interval(run[0], run[1] + period_ms))
            run = (sample.time_ms, sample.time_ms)
        else:
            run = (run[0], sample.time_ms)
    if run is not None:
        runs.append(Interval(run[0], run[1] + period_ms))
    return runs


def measure_events(
    half_hour_runs: Sequence[Interval], sample_runs: Iterable[Interval], now_ms: int | None = None, open_within_ms: int = 0
) -> list[Interval]:
    """[A] Each run of half-hours over column A is one event; it lasts from the first to the end of
    the last sample run (any pollutant) that overlaps it. A run of samples over column A lasting an
    hour holds a whole half-hour over it, so no event longer than that is missed, and short spikes that
    push no half-hour over column A are no exceedance of the half-hour limit. Without samples (only
    stored averages) an event is its half-hours. Events that then overlap are one. An event whose end
    is within `open_within_ms` of `now_ms` is still running (end None)."""
    runs = [(r.start_ms, r.end_ms) for r in sample_runs if r.end_ms is not None]
    spans: list[tuple[int, int]] = []
    for hh in sorted(half_hour_runs, key=lambda r: r.start_ms):
        hh_end = hh.end_ms if hh.end_ms is not None else hh.start_ms
        touching = [(s, e) for s, e in runs if s < hh_end and e > hh.start_ms]
        start, end = (min(s for s, _ in touching), max(e for _, e in touching)) if touching else (hh.start_ms, hh_end)
        if spans and start <= spans[-1][1]:
            spans[-1] = (min(spans[-1][0], start), max(spans[-1][1], end))
        else:
            spans.append((start, end))
    events = [Interval(s, e) for s, e in spans]
    if now_ms is not None and spans and spans[-1][1] >= now_ms - open_within_ms:
        events[-1] = Interval(spans[-1][0], None)
    return events


def count_abnormal(
    intervals: Iterable[Interval], dust_half_hours: Sequence[Average], rules: AbnormalOperation, zone: ZoneInfo, now_ms: int
) -> list[AbnormalYear]:
    """Per local calendar year: events (split at the new year for the yearly total only), hours, dust breaches."""
    events: dict[int, list[AbnormalEvent]] = defaultdict(list)
    hours: dict[int, float] = defaultdict(float)
    for interval in sorted(intervals, key=lambda i: i.start_ms):
        end = now_ms if interval.end_ms is None else interval.end_ms
        duration_h = (end - interval.start_ms) / HOUR_MS
        event = AbnormalEvent(interval.start_ms, end, interval.end_ms is None, duration_h, reached(end - interval.start_ms, rules.max_event_h))
        events[_year(interval.start_ms, zone)].append(event)
        for year, ms in _split_by_year(interval.start_ms, end, zone):
            hours[year] += ms / HOUR_MS
    dust: dict[int, list[Average]] = defaultdict(list)
    for avg in dust_half_hours:
        if avg.quality == QualityCode.ABNORMAL_OPERATION and avg.value is not None and avg.value > rules.dust_cap_mg_nm3:
            dust[_year(avg.start_ms, zone)].append(avg)
    years = sorted(set(events) | set(hours) | set(dust))
    return [AbnormalYear(y, hours[y], rules.max_year_h, tuple(events[y]), tuple(dust[y])) for y in years]


def _year(time_ms: int, zone: ZoneInfo) -> int:
    return datetime.fromtimestamp(time_ms / 1000, tz=zone).year


def _split_by_year(start_ms: int, end_ms: int, zone: ZoneInfo) -> list[tuple[int, int]]:
    parts: list[tuple[int, int]] = []
    cursor = start_ms
    while cursor < end_ms:
        year = _year(cursor, zone)
        boundary = int(datetime(year + 1, 1, 1, tzinfo=zone).timestamp() * 1000)
        parts.append((year, min(end_ms, boundary) - cursor))
        cursor = min(end_ms, boundary)
    return parts
