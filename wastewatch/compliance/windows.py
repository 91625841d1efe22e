"""Averaging windows aligned to the plant's local clock: 10-min, half-hour and hour windows start on
local :00/:10/:30, days are local calendar days, quarters local calendar quarters."""

from __future__ import annotations

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


def window_start_ms(time_ms: int, period: AvgPeriod, zone: ZoneInfo) -> int:
    """The start of the window holding `time_ms`, floored on the local clock (a half-hour starts on :00 or :30)."""
    minutes = PERIOD_MINUTES[period]
    local = datetime.fromtimestamp(time_ms / 1000, tz=zone)
    floored = local.replace(minute=local.minute - local.minute % minutes, second=0, microsecond=0)
    return int(floored.timestamp() * 1000)


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
