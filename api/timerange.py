"""Time ranges from a request: RFC 3339 instants, relative offsets (`-30d`, `-12h`) and calendar
periods (`2026-11-28`, `2026-11`, `2026-Q4`, `2026`) read in the plant's time zone. Pure: `now` is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from wastewatch.errors import InvalidRequest

RELATIVE = re.compile(r"^-(\d{1,6})(s|m|h|d|w)$")
DURATION = re.compile(r"^(\d{1,6})(s|m|h|d|w)$")
UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
YEAR = re.compile(r"^(\d{4})$")
MAX_RANGE_DAYS = 3 * 366
"""The longest range one request may ask for."""
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Every instant a request names, and every bound of a range or period, lies in [EARLIEST, LATEST]:
arithmetic on it can then never leave the years `datetime` holds (no OverflowError, no 500)."""


class RangeError(InvalidRequest):
    """The range could not be read; the message says which part and why."""


@dataclass(frozen=True, slots=True)
class TimeRange:
    """[start_ms, end_ms) in epoch milliseconds."""

    start_ms: int
    end_ms: int

    @property
    def span_ms(self) -> int:
        return self.end_ms - self.start_ms


def parse_duration_s(text: str) -> int:
    """`5m`, `1h`, `30s`, `1d`, `1w` → seconds."""
    match = DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise RangeError(f"interval {text!r} is not a positive duration like 30s, 5m, 1h, 1d or 1w")
    return int(match.group(1)) * UNIT_S[match.group(2)]


def parse_instant(text: str, now: datetime, what: str) -> datetime:
    """An RFC 3339 time with a UTC offset, `now`, or a relative offset before now (`-12h`)."""
    text = text.strip()
    if text == "now":
        return now
    match = RELATIVE.match(text)
    if match:
        back = timedelta(seconds=int(match.group(1)) * UNIT_S[match.group(2)])
        if back > now - EARLIEST:  # checked before subtracting: -999999w would leave the years datetime holds
            raise RangeError(f"{what} {text!r} is outside {EARLIEST.year}-{LATEST.year}")
        return bounded(now - back, what)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise RangeError(f"{what} {text!r} is not RFC 3339 (2026-11-28T10:00:00+07:00), 'now' or relative (-30d, -12h)") from None
    if value.tzinfo is None or "T" not in text.upper():
        raise RangeError(f"{what} {text!r} needs a date, a time and a UTC offset (2026-11-28T10:00:00+07:00)")
    return bounded(value, what)


def bounded(value: datetime, what: str) -> datetime:
    """`value` when it lies in [EARLIEST, LATEST]; a RangeError naming `what` otherwise."""
    if not EARLIEST <= value <= LATEST:
        raise RangeError(f"{what} {value.isoformat()} is outside {EARLIEST.year}-{LATEST.year}")
    return value


def epoch_ms(text: str, now: datetime, what: str) -> int:
    """`parse_instant` in epoch milliseconds (alert filters)."""
    return _ms(parse_instant(text, now, what))


def calendar_period(text: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A local day, month, quarter or year as [start, end) in the plant's zone."""
    text = text.strip()
    m = DAY.match(text) or MONTH.match(text) or QUARTER.match(text) or YEAR.match(text)
    if m is None:
        raise RangeError(f"period {text!r} is not a day (2026-11-28), month (2026-11), quarter (2026-Q4) or year (2026)")
    year = int(m[1])
    if not EARLIEST.year <= year < LATEST.year:  # before any date arithmetic: year 9999 + 1 does not exist
        raise RangeError(f"period {text!r} is outside the years {EARLIEST.year}-{LATEST.year - 1}")
    try:
        if m.re is DAY:
            first = date(year, int(m[2]), int(m[3]))
            after = first + timedelta(days=1)
        elif m.re is MONTH:
            first = date(year, int(m[2]), 1)
            after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        elif m.re is QUARTER:
            q = int(m[2])
            first = date(year, 3 * q - 2, 1)
            after = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
        else:
            first, after = date(year, 1, 1), date(year + 1, 1, 1)
    except ValueError as exc:
        raise RangeError(f"period {text!r}: {exc}") from None
    return _local_midnight(first, zone), _local_midnight(after, zone)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def resolve_range(
    *, start: str | None, end: str | None, period: str | None, now: datetime, zone: ZoneInfo, default_span: timedelta
) -> TimeRange:
    """`period` alone, or `start`/`end` (either may be left out: end defaults to now, start to end - default_span)."""
    if period is not None:
        if start is not None or end is not None:
            raise RangeError("give either period or start/end, not both")
        first, after = calendar_period(period, zone)
    else:
        after = parse_instant(end, now, "end") if end is not None else now
        first = parse_instant(start, now, "start") if start is not None else after - default_span
    if after <= first:
        raise RangeError(f"the range is empty: start {first.isoformat()} is not before end {after.isoformat()}")
    for value, what in ((first, "start"), (after, "end")):
        bounded(value, what)
    if after - first > timedelta(days=MAX_RANGE_DAYS):
        raise RangeError(f"the range is longer than {MAX_RANGE_DAYS} days")
    return TimeRange(_ms(first), _ms(after))


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)
