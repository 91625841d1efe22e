"""Time ranges from requests: RFC 3339, relative offsets and calendar periods in the plant's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.timerange import EARLIEST, LATEST, RangeError, TimeRange, parse_duration_s, parse_instant, resolve_range

ZONE = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)


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


# -- hostile input: every text either reads as a bounded range or is a RangeError, never another error ----



UNITS = st.sampled_from("smhdw")
HOSTILE_INSTANTS = st.one_of(
    st.builds(lambda n, u: f"-{n}{u}", st.integers(0, 999_999), UNITS),
    st.builds(
        lambda y, mo, d, h, off: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:00:00{off}",
        st.integers(1, 9999), st.integers(1, 12), st.integers(1, 28), st.integers(0, 23),
        st.sampled_from(["Z", "+14:00", "-14:00", "+23:59", "-23:59", "+00:00"]),
    ),
    st.text(max_size=40),
)
HOSTILE_PERIODS = st.one_of(
    st.builds(lambda y: f"{y:04d}", st.integers(0, 9999)),
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(0, 9999), st.integers(0, 99)),
    st.builds(lambda y, q: f"{y:04d}-Q{q}", st.integers(0, 9999), st.integers(0, 9)),
    st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32)),
    st.text(max_size=12),
)


@pytest.mark.parametrize("text", ["-999999w", "-999999d", "0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00"])
def test_extreme_instants_are_range_errors(text: str) -> None:
    with pytest.raises(RangeError, match="outside 1970-2200"):
        resolve(start=text)
    with pytest.raises(RangeError, match="outside 1970-2200"):
        parse_instant(text, NOW, "since")


@pytest.mark.parametrize("text", ["0001", "0001-01", "0001-Q1", "0001-01-01", "9999", "9999-12", "9999-Q4", "9999-12-31"])
def test_extreme_periods_are_range_errors(text: str) -> None:
    with pytest.raises(RangeError, match="outside the years 1970-2199"):
        resolve(period=text)


@settings(max_examples=300, deadline=None)
@given(start=st.none() | HOSTILE_INSTANTS, end=st.none() | HOSTILE_INSTANTS)
def test_any_start_and_end_is_a_bounded_range_or_a_range_error(start: str | None, end: str | None) -> None:
    try:
        found = resolve(start=start, end=end)
    except RangeError:
        return
    assert EARLIEST.timestamp() * 1000 <= found.start_ms < found.end_ms <= LATEST.timestamp() * 1000


@settings(max_examples=300, deadline=None)
@given(period=HOSTILE_PERIODS)
def test_any_period_is_a_bounded_range_or_a_range_error(period: str) -> None:
    try:
        found = resolve(period=period)
    except RangeError:
        return
    assert EARLIEST.timestamp() * 1000 <= found.start_ms < found.end_ms <= LATEST.timestamp() * 1000


@settings(max_examples=300, deadline=None)
@given(text=HOSTILE_INSTANTS)
def test_any_single_instant_is_bounded_or_a_range_error(text: str) -> None:
    try:
        value = parse_instant(text, NOW, "since")
    except RangeError:
        return
    assert EARLIEST <= value <= LATEST
    value.timestamp()
