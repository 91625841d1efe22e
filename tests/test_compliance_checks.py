"""Compliance tests V6 and V7 and abnormal-operation counters V8, worked by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from wastewatch.compliance.abnormal import count_abnormal, event_clock
from wastewatch.compliance.averaging import Average
from wastewatch.compliance.checks import check_v6, check_v7, exceedances
from wastewatch.compliance.daily import DailyAverage
from wastewatch.compliance.profiles import AvgPeriod, load_bundled_profiles
from wastewatch.compliance.quality import QualityCode as Q
from wastewatch.compliance.timeline import Interval

JKT = ZoneInfo("Asia/Jakarta")
EU = load_bundled_profiles()["eu-ied-annex-vi"]
TEN, HALF, HOUR = 600_000, 1_800_000, 3_600_000
T0 = int(datetime(2026, 3, 2, tzinfo=JKT).timestamp() * 1000)


def avg(start_ms: int, value: float, period: AvgPeriod = "30min", quality: Q = Q.VALID) -> Average:
    length = {"10min": TEN, "30min": HALF}[period]
    return Average(start_ms, start_ms + length, period, value, quality, 10, 0, 10, "1")


def days(values: list[float]) -> list[DailyAverage]:
    return [DailyAverage(date(2026, 1, 1) + timedelta(days=i), v, Q.VALID, 40, 0, "1") for i, v in enumerate(values)]


def test_v6_daily_average_above_the_elv_fails() -> None:
    # dust daily ELV 10: days at 9.5 and 10.0 pass (<=), 10.4 fails
    result = check_v6("dust", days([9.5, 10.0, 10.4]), [], EU)
    assert [d.value for d in result.daily_exceedances] == [10.4] and not result.passed


def test_v6_column_a_or_97_percent_column_b() -> None:
    # dust: A = 30, B = 10. 100 half-hours: 97 at 8, 2 at 12, 1 at 31.
    #   one value > 30 breaks column A; share <= 10 is 97 / 100 = 0.97 >= 0.97 → (b) passes via B
    values = [8.0] * 97 + [12.0] * 2 + [31.0]
    result = check_v6("dust", days([5.0]), [avg(T0 + i * HALF, v) for i, v in enumerate(values)], EU)
    assert len(result.over_column_a) == 1 and result.share_within_b == 0.97 and result.passed
    # 96 at 8, 3 at 12, 1 at 31: share 0.96 < 0.97 and A broken → (b) fails
    values = [8.0] * 96 + [12.0] * 3 + [31.0]
    assert not check_v6("dust", days([5.0]), [avg(T0 + i * HALF, v) for i, v in enumerate(values)], EU).passed_half_hourly
    # no value above 30 → (b) passes whatever the B share: 50 at 8, 50 at 25 → share 0.5
    values = [8.0] * 50 + [25.0] * 50
    assert check_v6("dust", days([5.0]), [avg(T0 + i * HALF, v) for i, v in enumerate(values)], EU).passed_half_hourly


def test_v6_ignores_discarded_and_abnormal_half_hours() -> None:
    halves = [avg(T0, 8.0), avg(T0 + HALF, 80.0, quality=Q.ABNORMAL_OPERATION)]
    assert check_v6("dust", days([5.0]), halves, EU).passed


def test_v7_co_daily_97_percent() -> None:
    # CO daily ELV 50 (D97): 100 days, 3 above → 97 / 100 = 0.97 → passes; 4 above → 0.96 → fails
    assert check_v7(days([20.0] * 97 + [55.0] * 3), [], [], EU).passed_daily
    assert not check_v7(days([20.0] * 96 + [55.0] * 4), [], [], EU).passed_daily


def _co_days(high_tens: range, high_half: int | None, high_ten: float = 200.0, high_half_value: float = 110.0) -> tuple[list[Average], list[Average]]:
    """Three days of clean CO (10-min 20, half-hours 20) with high values placed in the middle day,
    so every 24 h window that holds one of them holds exactly 144 ten-minute values."""
    tens = [avg(T0 + i * TEN, high_ten if i in high_tens else 20.0, "10min") for i in range(3 * 144)]
    halves = [avg(T0 + i * HALF, high_half_value if i == high_half else 20.0) for i in range(3 * 48)]
    return tens, halves


def test_v7_ten_minute_rule_or_all_half_hours() -> None:
    # 10-min ELV 150 (95 % rule), half-hour ELV 100. Spikes on day 2 from 12:00 (10-min index 216).
    # Case 1: 7 ten-minute values at 200 → any 24 h holding them: 137 / 144 = 0.951 >= 0.95 → passes,
    #         even with the 12:00 half-hour (index 72) at 110
    tens, halves = _co_days(range(216, 223), 72)
    assert check_v7(days([20.0] * 3), tens, halves, EU).passed
    # Case 2: 8 at 200 → 136 / 144 = 0.944 < 0.95, but every half-hour <= 100 → passes
    tens, halves = _co_days(range(216, 224), None)
    assert check_v7(days([20.0] * 3), tens, halves, EU).passed
    # Case 3: 8 at 200 (0.944 < 0.95) AND the 12:00 half-hour at 110 > 100 → fails
    tens, halves = _co_days(range(216, 224), 72)
    result = check_v7(days([20.0] * 3), tens, halves, EU)
    assert not result.passed
    assert {w.share_10min_within for w in result.failed_windows} == {136 / 144}
    # A half-hour of exactly 100 is not over the limit: passes again
    tens, halves = _co_days(range(216, 224), 72, high_half_value=100.0)
    assert check_v7(days([20.0] * 3), tens, halves, EU).passed


def test_v7_any_24_hours_means_a_sliding_window() -> None:
    # 8 high 10-min values straddling midnight between day 2 and day 3 (4 either side: indices
    # 284–291) and the 00:00 half-hour of day 3 (index 96) at 110. Each calendar day alone holds
    # 4 high → 140 / 144 = 0.972, but the 24 h window from day-2 12:00 holds all 8: 0.944 → fails.
    tens, halves = _co_days(range(284, 292), 96)
    result = check_v7(days([20.0] * 3), tens, halves, EU)
    assert not result.passed
    assert any(w.start_ms == T0 + 36 * HOUR for w in result.failed_windows)


def test_exceedances_for_hourly_or_column_a_alerts() -> None:
    values = [avg(T0, 59.0), avg(T0 + HALF, 61.0), avg(T0 + 2 * HALF, 99.0, quality=Q.ABNORMAL_OPERATION)]
    assert [a.value for a in exceedances(values, 60.0)] == [61.0]


def test_v8_event_and_year_caps_and_dust() -> None:
    rules = EU.abnormal_operation
    assert rules is not None
    # Events: 3.5 h (ok), 4.5 h (over the 4 h event cap). Year total 3.5 + 4.5 = 8 h <= 60.
    events = [Interval(T0, T0 + int(3.5 * HOUR)), Interval(T0 + 24 * HOUR, T0 + int(28.5 * HOUR))]
    dust = [avg(T0, 140.0, quality=Q.ABNORMAL_OPERATION), avg(T0 + HALF, 151.0, quality=Q.ABNORMAL_OPERATION), avg(T0 + 2 * HALF, 151.0)]
    (year,) = count_abnormal(events, dust, rules, JKT, now_ms=T0 + 100 * HOUR)
    assert year.total_h == 8.0 and not year.over_year_cap
    assert [e.over_event_cap for e in year.events] == [False, True]
    # only abnormal-operation half-hours are held to 150: one at 151 breaches, 140 does not
    assert [a.value for a in year.dust_over_cap] == [151.0] and not year.passed


def test_v8_sixty_hours_a_year() -> None:
    rules = EU.abnormal_operation
    assert rules is not None
    # 16 events of 3.75 h = 60 h → at the cap; a 17th of 0.5 h → 60.5 h → over
    events = [Interval(T0 + i * 24 * HOUR, T0 + i * 24 * HOUR + int(3.75 * HOUR)) for i in range(16)]
    assert not count_abnormal(events, [], rules, JKT, T0 + 400 * 24 * HOUR)[0].over_year_cap
    events.append(Interval(T0 + 20 * 24 * HOUR, T0 + 20 * 24 * HOUR + HOUR // 2))
    assert count_abnormal(events, [], rules, JKT, T0 + 400 * 24 * HOUR)[0].over_year_cap


def test_v8_clock_for_the_alerts() -> None:
    rules = EU.abnormal_operation
    assert rules is not None
    running = Interval(T0)
    # past 3 h → warning (major alert); past 4 h → over (critical)
    assert [event_clock(running, T0 + int(h * HOUR), rules) for h in (2.9, 3.1, 4.1)] == ["ok", "warning", "over"]
    # reached the moment the event has lasted them, to the millisecond
    assert [event_clock(running, T0 + int(h * HOUR) + d, rules) for h, d in ((3, -1), (3, 0), (4, -1), (4, 0))] == [
        "ok", "warning", "warning", "over",
    ]


def test_v8_an_event_that_lasted_the_cap_broke_it() -> None:
    rules = EU.abnormal_operation
    assert rules is not None
    (year,) = count_abnormal([Interval(T0, T0 + 4 * HOUR), Interval(T0 + 24 * HOUR, T0 + 28 * HOUR - 1)], [], rules, JKT, T0 + 100 * HOUR)
    assert [e.over_event_cap for e in year.events] == [True, False]


def test_v8_event_across_new_year_splits_the_yearly_total() -> None:
    rules = EU.abnormal_operation
    assert rules is not None
    new_year = int(datetime(2027, 1, 1, tzinfo=JKT).timestamp() * 1000)
    # 23:00 → 01:00 local: 1 h in 2026, 1 h in 2027; the event itself (2 h) belongs to 2026
    y2026, y2027 = count_abnormal([Interval(new_year - HOUR, new_year + HOUR)], [], rules, JKT, new_year + 5 * HOUR)
    assert (y2026.year, y2026.total_h, len(y2026.events), y2027.total_h) == (2026, 1.0, 1, 1.0)
