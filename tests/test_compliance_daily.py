"""CI subtraction (V2), daily averages (V3), day validity (V4), year validity (V5) and the Indonesian
18 h / 75 % rules, worked by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from wastewatch.compliance.averaging import Average
from wastewatch.compliance.confidence import subtract_ci, validate_averages
from wastewatch.compliance.daily import DailyAverage, eu_daily_averages, id_daily_averages, v4_status
from wastewatch.compliance.profiles import AvgPeriod, load_bundled_profiles
from wastewatch.compliance.quality import QualityCode as Q
from wastewatch.compliance.validity import availability_by_quarter, quarterly_availability, year_validity

JKT = ZoneInfo("Asia/Jakarta")
HALF = 1_800_000
HOUR = 3_600_000


def day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=JKT).timestamp() * 1000)


def window(start_ms: int, value: float | None, quality: Q = Q.VALID, period: AvgPeriod = "30min") -> Average:
    length = HALF if period == "30min" else HOUR
    return Average(start_ms, start_ms + length, period, value, quality, 30, 0, 30, "1+test")


def half_hours(day: date, codes: list[Q], value: float = 20.0) -> list[Average]:
    """One half-hour per code from local midnight; valid and abnormal ones carry `value`."""
    start = day_start(day)
    return [window(start + i * HALF, value if c in (Q.VALID, Q.ABNORMAL_OPERATION) else None, c) for i, c in enumerate(codes)]


def test_ci_subtraction_for_co_and_dust() -> None:
    eu = load_bundled_profiles()["eu-ied-annex-vi"]
    # CO: CI = 10 % × daily ELV 50 = 5 → 62 − 5 = 57
    assert subtract_ci(62.0, eu.ci_value("co")) == 57.0
    # dust: CI = 30 % × 10 = 3 → 2.0 − 3 would be −1, floored at 0
    assert subtract_ci(2.0, eu.ci_value("dust")) == 0.0
    validated = validate_averages([window(0, 62.0), window(HALF, None, Q.MAINTENANCE)], "co", eu)
    assert (validated[0].value, validated[0].ci_subtracted) == (57.0, 5.0)
    assert validated[1].value is None and validated[1].ci_subtracted == 0.0


def test_daily_average_is_the_mean_of_valid_half_hours() -> None:
    # 16 valid half-hours at 20 and 16 at 30 (validated), 4 maintenance, the rest no waste:
    # (16 × 20 + 16 × 30) / 32 = 800 / 32 = 25; 4 discarded <= 5 → valid
    day = date(2026, 3, 2)
    data = half_hours(day, [Q.VALID] * 16, 20.0) + [
        window(day_start(day) + (16 + i) * HALF, 30.0) for i in range(16)
    ] + [window(day_start(day) + (32 + i) * HALF, None, Q.MAINTENANCE) for i in range(4)] + [
        window(day_start(day) + (36 + i) * HALF, None, Q.NO_WASTE) for i in range(12)
    ]
    (daily,) = eu_daily_averages(data, JKT)
    assert (daily.value, daily.quality, daily.n_valid, daily.n_discarded) == (25.0, Q.VALID, 32, 4)


def test_day_with_six_discarded_half_hours_is_invalid() -> None:
    # V4: at most 5 discarded; 6 (3 maintenance + 3 malfunction) → the day is discarded
    day = date(2026, 3, 2)
    codes = [Q.VALID] * 20 + [Q.MAINTENANCE] * 3 + [Q.MALFUNCTION] * 3 + [Q.NO_WASTE] * 22
    (daily,) = eu_daily_averages(half_hours(day, codes), JKT)
    assert (daily.value, daily.valid, daily.discarded, daily.n_discarded) == (None, False, True, 6)
    # with 5 it is still valid
    codes5 = [Q.VALID] * 20 + [Q.MAINTENANCE] * 5 + [Q.NO_WASTE] * 23
    assert eu_daily_averages(half_hours(day, codes5), JKT)[0].valid


def test_abnormal_half_hours_are_neither_valid_nor_discarded() -> None:
    day = date(2026, 3, 2)
    (daily,) = eu_daily_averages(half_hours(day, [Q.VALID] * 4 + [Q.ABNORMAL_OPERATION] * 8, 20.0), JKT)
    assert (daily.value, daily.n_valid, daily.n_discarded) == (20.0, 4, 0)


def test_day_without_operation_is_idle_not_discarded() -> None:
    (daily,) = eu_daily_averages(half_hours(date(2026, 3, 2), [Q.NO_WASTE] * 40 + [Q.STARTUP_SHUTDOWN] * 8), JKT)
    assert (daily.quality, daily.operated, daily.discarded) == (Q.NO_WASTE, False, False)


def test_v4_at_risk_after_four_discarded() -> None:
    assert [v4_status(n) for n in (3, 4, 5, 6)] == ["ok", "at_risk", "at_risk", "broken"]


@settings(max_examples=100, deadline=None)
@given(
    discarded=st.lists(st.sampled_from([Q.MAINTENANCE, Q.MALFUNCTION, Q.INSUFFICIENT_DATA]), min_size=6, max_size=48),
    others=st.lists(st.sampled_from([Q.VALID, Q.ABNORMAL_OPERATION, Q.NO_WASTE, Q.STARTUP_SHUTDOWN]), max_size=42),
    order=st.randoms(use_true_random=False),
)
def test_a_day_with_six_or_more_discarded_half_hours_is_never_valid(discarded: list[Q], others: list[Q], order: object) -> None:
    codes = (discarded + others)[:48]
    order.shuffle(codes)  # type: ignore[attr-defined]
    (daily,) = eu_daily_averages(half_hours(date(2026, 3, 2), codes), JKT)
    assert not daily.valid and daily.discarded


def _days(year: int, flags: list[bool]) -> list[DailyAverage]:
    return [
        DailyAverage(date(year, 1, 1) + timedelta(days=i), None if bad else 10.0, Q.MAINTENANCE if bad else Q.VALID, 0, 6 if bad else 0, "1")
        for i, bad in enumerate(flags)
    ]


def test_v5_allows_ten_discarded_days_a_year() -> None:
    # 10 discarded of 30 → ok; 11 → not
    (ok,) = year_validity(_days(2026, [True] * 10 + [False] * 20))
    (bad,) = year_validity(_days(2026, [True] * 11 + [False] * 19))
    assert (len(ok.discarded_days), ok.ok, len(bad.discarded_days), bad.ok) == (10, True, 11, False)


def test_indonesian_day_needs_eighteen_valid_hours() -> None:
    start = day_start(date(2026, 3, 2))
    # 18 valid hours at 40 and 6 malfunction hours: mean 40, valid
    hours = [window(start + h * HOUR, 40.0, period="1h") for h in range(18)]
    hours += [window(start + (18 + h) * HOUR, None, Q.MALFUNCTION, "1h") for h in range(6)]
    (day,) = id_daily_averages(hours, JKT)
    assert (day.value, day.valid) == (40.0, True)
    # 17 valid hours: invalid, whatever the reason for the 18th
    (short,) = id_daily_averages(hours[1:], JKT)
    assert (short.valid, short.operated) == (False, True)
    # A single-shift plant (8 valid hours, plant idle otherwise) never reaches 18: invalid but operated
    shift = [window(start + h * HOUR, 40.0, period="1h") for h in range(8)] + [
        window(start + (8 + h) * HOUR, None, Q.NO_WASTE, "1h") for h in range(16)
    ]
    (one_shift,) = id_daily_averages(shift, JKT)
    assert (one_shift.quality, one_shift.valid, one_shift.operated) == (Q.INSUFFICIENT_DATA, False, True)


def test_quarterly_availability_needs_75_percent_of_operating_days() -> None:
    # Q1 2026: 60 operating days, 45 valid → 45 / 60 = 0.75 → ok; 44 valid → 0.733 → not
    ok_days = _days(2026, [False] * 45 + [True] * 15)
    (q,) = quarterly_availability(ok_days)
    assert (q.year, q.quarter, q.valid_days, q.operating_days, q.share, q.ok) == (2026, 1, 45, 60, 0.75, True)
    (q_bad,) = quarterly_availability(_days(2026, [False] * 44 + [True] * 16))
    assert q_bad.ok is False
    # with 20 operating days left: best case (44 + 20) / (60 + 20) = 64 / 80 = 0.8 → still reachable;
    # with 0 left it stays 44 / 60 = 0.733 → projected under 75 %
    assert q_bad.best_case_share(20) == 0.8
    assert q_bad.best_case_share(0) == 44 / 60


def test_availability_by_quarter_judges_counted_days_as_the_days_themselves() -> None:
    # the API counts stored days; the same tallies give the same verdicts, in calendar order
    days = _days(2026, [False] * 44 + [True] * 16) + _days(2025, [False] * 3)
    from_days = quarterly_availability(days, 0.75)
    from_counts = availability_by_quarter({(2026, 1): (44, 60), (2025, 1): (3, 3)}, 0.75)
    assert from_counts == from_days
    assert [(q.year, q.quarter, q.ok) for q in from_counts] == [(2025, 1, True), (2026, 1, False)]
    # a quarter with no operating day has no share and is not failed
    (idle,) = availability_by_quarter({(2026, 2): (0, 0)})
    assert (idle.share, idle.ok) == (None, True)
