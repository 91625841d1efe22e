"""Report periods on the plant's local calendar: a month `2026-11`, a quarter `2026-Q4`, a year `2026`,
or any [start, end) range, each with its bounds in epoch milliseconds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from wastewatch.errors import InvalidRequest

PeriodKind = Literal["month", "quarter", "year", "range"]
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(InvalidRequest):
    """A period text that is not `YYYY-MM`, `YYYY-Qn` or `YYYY`."""


@dataclass(frozen=True, slots=True)
class Period:
    """[first, after) local calendar days and their bounds in epoch ms in the plant's zone."""

    kind: PeriodKind
    label: str
    first: date
    after: date
    start_ms: int
    end_ms: int

    @property
    def days(self) -> int:
        return (self.after - self.first).days


def local_midnight_ms(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp() * 1000)


def period_of(kind: PeriodKind, label: str, first: date, after: date, zone: ZoneInfo) -> Period:
    return Period(kind, label, first, after, local_midnight_ms(first, zone), local_midnight_ms(after, zone))


def month_period(year: int, month: int, zone: ZoneInfo) -> Period:
    after = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return period_of("month", f"{year:04d}-{month:02d}", date(year, month, 1), after, zone)


def quarter_period(year: int, quarter: int, zone: ZoneInfo) -> Period:
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return period_of("quarter", f"{year:04d}-Q{quarter}", first, after, zone)


def year_period(year: int, zone: ZoneInfo) -> Period:
    return period_of("year", f"{year:04d}", date(year, 1, 1), date(year + 1, 1, 1), zone)


def parse_period(text: str, zone: ZoneInfo) -> Period:
    """`2026-11` (month), `2026-Q4` (quarter) or `2026` (year) on the plant's local calendar."""
    text = text.strip()
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"bad month in period {text!r}")
        return month_period(year, month, zone)
    if m := _QUARTER.match(text):
        return quarter_period(int(m[1]), int(m[2]), zone)
    if m := _YEAR.match(text):
        return year_period(int(m[1]), zone)
    raise PeriodError(f"period must be YYYY-MM, YYYY-Qn or YYYY, not {text!r}")


def previous_month(today: date, zone: ZoneInfo) -> Period:
    """The calendar month before the one `today` is in (what a report sent on the 1st covers)."""
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return month_period(year, month, zone)
