"""Time ranges from requests: RFC 3339, relative offsets and calendar periods in the plant's zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from api.timerange import RangeError, TimeRange, parse_duration_s, resolve_range

ZONE = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 28, 5, 0, tzinfo=timezone.utc)


def ms(*args: int, tz: ZoneInfo | timezone = ZONE) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp() * 1000)  # type: ignore[misc]


def resolve(start: str | None = None, end: str | None = None, period: str | None = None) -> TimeRange:
    return resolve_range(start=start, end=end, period=period, now=NOW, zone=ZONE, default_span=timedelta(days=1))


@pytest.mark.parametrize(
    ("period", "first", "after"),
    [
        ("2026-11-28", (2026, 11, 28), (2026, 11, 29)),
        ("2026-11", (2026, 11, 1), (2026, 12, 1)),
        ("2026-12", (2026, 12, 1), (2027, 1, 1)),
        ("2026-Q4", (2026, 10, 1), (2027, 1, 1)),
        ("2026-q1", (2026, 1, 1), (2026, 4, 1)),
        ("2026", (2026, 1, 1), (2027, 1, 1)),
    ],
)
def test_calendar_periods_are_local_days_in_the_plant_zone(period: str, first: tuple[int, int, int], after: tuple[int, int, int]) -> None:
    assert resolve(period=period) == TimeRange(ms(*first), ms(*after))


def test_relative_and_rfc3339_instants() -> None:
    now_ms = int(NOW.timestamp() * 1000)
    assert resolve(start="-12h") == TimeRange(now_ms - 12 * 3_600_000, now_ms)
    assert resolve(start="-30d", end="-1d") == TimeRange(now_ms - 30 * 86_400_000, now_ms - 86_400_000)
    assert resolve(start="2026-11-28T10:00:00+07:00", end="2026-11-28T04:00:00Z") == TimeRange(ms(2026, 11, 28, 10), ms(2026, 11, 28, 11))
    assert resolve() == TimeRange(now_ms - 86_400_000, now_ms)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "yesterday"}, "is not RFC 3339"),
        ({"start": "2026-11-28T10:00:00"}, "UTC offset"),
        ({"start": "2026-11-28"}, "UTC offset"),
        ({"start": "-1h", "end": "-2h"}, "the range is empty"),
        ({"period": "2026-13"}, "month must be in 1..12"),
        ({"period": "2026-Q5"}, "is not a day"),
        ({"period": "2026-02-30"}, "day is out of range"),
        ({"period": "2026", "start": "-1d"}, "either period or start/end"),
        ({"start": "-4000d"}, "longer than"),
        ({"start": "1900-01-01T00:00:00Z", "end": "1900-01-02T00:00:00Z"}, "outside 1970"),
    ],
)
def test_bad_ranges_say_what_is_wrong(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(RangeError, match=message):
        resolve(**kwargs)


def test_durations() -> None:
    assert [parse_duration_s(t) for t in ("30s", "5m", "1h", "1d", "1w")] == [30, 300, 3600, 86_400, 604_800]
    for bad in ("0m", "5", "m", "-5m", "5y", "1.5h"):
        with pytest.raises(RangeError):
            parse_duration_s(bad)
