"""Averaging windows aligned to the plant's local clock: 10-min, half-hour and hour windows start on
local :00/:10/:30, days are local calendar days, quarters local calendar quarters."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from wastewatch.compliance.profiles import AvgPeriod

PERIOD_MINUTES: dict[AvgPeriod, int] = {"10min": 10, "30min": 30, "1h": 60}


def period_ms(period: AvgPeriod) -> int:
    """The length of a sub-day window in milliseconds."""
    if period not in PERIOD_MINUTES:
        raise ValueError(f"{period} is not a sub-day averaging period")
    return PERIOD_MINUTES[period] * 60_000


_QUARTER_HOUR_MS = 900_000


@functools.lru_cache(maxsize=65_536)
def _offset_ms(zone: ZoneInfo, quarter_hour: int) -> int:
    """The zone's UTC offset during one UTC quarter-hour (offsets change only on quarter-hours)."""
    offset = datetime.fromtimestamp(quarter_hour * _QUARTER_HOUR_MS / 1000, tz=zone).utcoffset()
    return int(offset.total_seconds() * 1000) if offset is not None else 0


def _window_start_slow(time_ms: int, minutes: int, zone: ZoneInfo) -> int:
    local = datetime.fromtimestamp(time_ms / 1000, tz=zone)
    floored = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
    return int(floored.timestamp() * 1000)


def window_start_ms(time_ms: int, period: AvgPeriod, zone: ZoneInfo) -> int:
    """The start of the window holding `time_ms`, floored on the local clock (a half-hour starts on :00 or :30).

    Called for every sample of a year's recomputation, so it floors in integer arithmetic with the
    cached UTC offset; where the offset changes inside the window (a DST change), it takes the
    calendar path instead.
    """
    step = PERIOD_MINUTES[period] * 60_000
    offset = _offset_ms(zone, time_ms // _QUARTER_HOUR_MS)
    local_ms = time_ms + offset
    start = local_ms - local_ms % step - offset
    if _offset_ms(zone, start // _QUARTER_HOUR_MS) != offset:
        return _window_start_slow(time_ms, PERIOD_MINUTES[period], zone)
    return start


def same_offset_throughout(start_ms: int, length_ms: int, zone: ZoneInfo) -> bool:
    """True when the zone's UTC offset does not change within [start_ms, start_ms + length_ms): then
    every instant of a window starting there floors to its start (no DST change inside)."""
    first = _offset_ms(zone, start_ms // _QUARTER_HOUR_MS)
    last_quarter = (start_ms + length_ms - 1) // _QUARTER_HOUR_MS
    return all(_offset_ms(zone, q) == first for q in range(start_ms // _QUARTER_HOUR_MS + 1, last_quarter + 1))


def iter_window_starts(start_ms: int, end_ms: int, period: AvgPeriod, zone: ZoneInfo) -> Iterator[int]:
    """Every window start from the window holding `start_ms` up to (not including) `end_ms`."""
    step = period_ms(period)
    current = window_start_ms(start_ms, period, zone)
    while current < end_ms:
        yield current
        current = max(window_start_ms(current + step, period, zone), current + 1)


def local_day(time_ms: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(time_ms / 1000, tz=zone).date()


def day_bounds_ms(day: date, zone: ZoneInfo) -> tuple[int, int]:
    """[start, end) of a local calendar day in epoch ms (23 or 25 h long across a DST change)."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def quarter_of(day: date) -> tuple[int, int]:
    """(year, quarter 1–4) of a local date."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_days(year: int, quarter: int) -> list[date]:
    """Every calendar day of a quarter."""
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return [first + timedelta(days=i) for i in range((after - first).days)]
