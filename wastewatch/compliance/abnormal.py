"""V8 abnormal-operation counters: ≤ 4 h per event, ≤ 60 h per year, dust ≤ 150 mg/Nm³ (half-hourly)
during an event; and the event clock the regulatory alerts read (3 h major, 4 h critical)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from wastewatch.compliance.averaging import Average
from wastewatch.compliance.profiles import AbnormalOperation
from wastewatch.compliance.quality import QualityCode
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


def event_clock(interval: Interval, now_ms: int, rules: AbnormalOperation) -> ClockLevel:
    """Where a running event's clock stands: past `warn_event_h` a warning, past `max_event_h` over."""
    hours = interval.overlap_ms(interval.start_ms, now_ms) / HOUR_MS
    if hours > rules.max_event_h:
        return "over"
    return "warning" if hours > rules.warn_event_h else "ok"


def count_abnormal(
    intervals: Iterable[Interval], dust_half_hours: Sequence[Average], rules: AbnormalOperation, zone: ZoneInfo, now_ms: int
) -> list[AbnormalYear]:
    """Per local calendar year: events (split at the new year for the yearly total only), hours, dust breaches."""
    events: dict[int, list[AbnormalEvent]] = defaultdict(list)
    hours: dict[int, float] = defaultdict(float)
    for interval in sorted(intervals, key=lambda i: i.start_ms):
        end = now_ms if interval.end_ms is None else interval.end_ms
        duration_h = (end - interval.start_ms) / HOUR_MS
        event = AbnormalEvent(interval.start_ms, end, interval.end_ms is None, duration_h, duration_h > rules.max_event_h)
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
