"""Short averages over effective operating time, quality codes, local-clock windows, recomputation."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.plant_state import OperatingState as S
from wastewatch.compliance.averaging import (
    AveragingContext,
    affected_windows,
    average_window,
    changed_windows,
    compute_range,
    compute_windows,
)
from wastewatch.compliance.profiles import Averaging, AvgPeriod
from wastewatch.compliance.quality import QualityCode as Q
from wastewatch.compliance.samples import Sample, unique_by_time
from wastewatch.compliance.timeline import Interval, OperatingTimeline
from wastewatch.compliance.windows import window_start_ms

JKT = ZoneInfo("Asia/Jakarta")
MIN = 60_000


def at(hour: int, minute: int = 0, day: int = 2) -> int:
    """Epoch ms of a local Jakarta time on 2026-03-<day>."""
    return int(datetime(2026, 3, day, hour, minute, tzinfo=JKT).timestamp() * 1000)


# Preheat from 06:00, burning 08:00–16:00, burnout to 17:00, shutdown after.
TIMELINE = OperatingTimeline(((at(6), S.PREHEAT), (at(8), S.BURNING), (at(16), S.BURNOUT), (at(17), S.SHUTDOWN)))


def ctx(period: AvgPeriod = "30min", timeline: OperatingTimeline = TIMELINE, share: float = 0.7) -> AveragingContext:
    return AveragingContext(period, JKT, timeline, Averaging(min_valid_share=share), sample_period_s=60)


def minutes(start_ms: int, count: int, value: float = 10.0, status: str = "valid") -> list[Sample]:
    return [Sample(start_ms + i * MIN, value, status) for i in range(count)]  # type: ignore[arg-type]


def test_half_hours_start_on_local_00_and_30() -> None:
    # 10:17 local (03:17 UTC) falls in the 10:00 half-hour; 10:47 in 10:30; a 10-min window at 10:10
    assert window_start_ms(at(10, 17), "30min", JKT) == at(10)
    assert window_start_ms(at(10, 47), "30min", JKT) == at(10, 30)
    assert window_start_ms(at(10, 17), "10min", JKT) == at(10, 10)
    assert window_start_ms(at(10, 17), "1h", JKT) == at(10)
    # India (UTC+5:30): the local :00 half-hour is :30 in UTC, so aligning on UTC would be wrong
    kolkata = ZoneInfo("Asia/Kolkata")
    local = int(datetime(2026, 3, 2, 10, 0, tzinfo=kolkata).timestamp() * 1000)
    assert window_start_ms(local + 17 * MIN, "30min", kolkata) == local


def test_valid_half_hour_is_the_mean_of_its_values() -> None:
    # 15 minutes at 10 and 15 at 20 → (15 × 10 + 15 × 20) / 30 = 450 / 30 = 15
    avg = average_window(minutes(at(9), 15, 10.0) + minutes(at(9, 15), 15, 20.0), at(9), ctx())
    assert (avg.value, avg.quality, avg.n_valid, avg.n_expected) == (15.0, Q.VALID, 30, 30)
    assert avg.version.startswith("1+")


def test_flagged_values_are_left_out_and_counted() -> None:
    # 25 valid at 12 + 5 maintenance at 999: mean 12, share 25/30 = 0.83 >= 0.7 → valid
    avg = average_window(minutes(at(9), 25, 12.0) + minutes(at(9, 25), 5, 999.0, "maintenance"), at(9), ctx())
    assert (avg.value, avg.quality, avg.n_flagged) == (12.0, Q.VALID, 5)


def test_too_few_valid_values_discard_the_half_hour_with_the_dominant_reason() -> None:
    # 20 valid of 30 expected = 0.667 < 0.7; 10 maintenance values → discarded as maintenance
    avg = average_window(minutes(at(9), 20) + minutes(at(9, 20), 10, 0.0, "maintenance"), at(9), ctx())
    assert (avg.value, avg.quality) == (None, Q.MAINTENANCE)
    # 6 malfunction + 4 maintenance: malfunction dominates
    avg = average_window(minutes(at(9), 20) + minutes(at(9, 20), 6, 0.0, "malfunction") + minutes(at(9, 26), 4, 0.0, "maintenance"), at(9), ctx())
    assert avg.quality == Q.MALFUNCTION
    # a silent analyser (no samples at all) during operation: insufficient data
    assert average_window([], at(9), ctx()).quality == Q.INSUFFICIENT_DATA


def test_min_valid_share_is_a_parameter() -> None:
    data = minutes(at(9), 20)  # 20/30 = 0.667
    assert average_window(data, at(9), ctx(share=0.6)).quality == Q.VALID
    assert average_window(data, at(9), ctx(share=0.7)).quality == Q.INSUFFICIENT_DATA


def test_only_effective_operating_time_counts() -> None:
    # Burning starts at 07:45, inside the 07:30–08:00 half-hour. The preheat minutes 07:30–07:44 (at
    # 500) are excluded; the 15 burning minutes at 10 count: mean 10, 15 of 15 expected → valid.
    straddle = OperatingTimeline(((at(6), S.PREHEAT), (at(7, 45), S.BURNING)))
    data = minutes(at(7, 30), 15, 500.0) + minutes(at(7, 45), 15, 10.0)
    avg = average_window(data, at(7, 30), ctx(timeline=straddle))
    assert (avg.value, avg.quality, avg.n_valid, avg.n_expected) == (10.0, Q.VALID, 15, 15)
    # Burnout counts as effective operating time (waste still burning, [A]): 16:00–17:00 is valid
    assert average_window(minutes(at(16), 30), at(16), ctx()).quality == Q.VALID


def test_windows_outside_operation_carry_the_reason() -> None:
    assert average_window(minutes(at(7), 30), at(7), ctx()).quality == Q.STARTUP_SHUTDOWN  # preheat
    assert average_window([], at(17, 30), ctx()).quality == Q.STARTUP_SHUTDOWN  # shutdown
    assert average_window([], at(3), ctx()).quality == Q.NO_WASTE  # before any known state
    ready = OperatingTimeline(((at(6), S.READY),))
    assert average_window(minutes(at(7), 30), at(7), ctx(timeline=ready)).quality == Q.NO_WASTE


def test_abnormal_operation_keeps_the_value_under_its_own_code() -> None:
    timeline = OperatingTimeline(TIMELINE.changes, (Interval(at(9, 10), at(9, 40)),))
    avg = average_window(minutes(at(9), 30, 120.0), at(9), ctx(timeline=timeline))
    assert (avg.value, avg.quality, avg.usable) == (120.0, Q.ABNORMAL_OPERATION, False)


def test_range_covers_every_window_including_gaps() -> None:
    # 08:00–10:00 with data only in the first hour: 4 half-hours, the last two insufficient data
    found = compute_range(minutes(at(8), 60), at(8), at(10), ctx())
    assert [a.quality for a in found.values()] == [Q.VALID, Q.VALID, Q.INSUFFICIENT_DATA, Q.INSUFFICIENT_DATA]


def test_late_data_changes_only_its_window() -> None:
    # 09:00 half-hour had 20 values (discarded); 10 late values arrive → valid, and only it changes
    first = minutes(at(9), 20, 10.0) + minutes(at(9, 30), 30, 10.0)
    late = minutes(at(9, 20), 10, 40.0)
    before = compute_range(first, at(9), at(10), ctx())
    redone = compute_windows(first + late, affected_windows(late, "30min", JKT), ctx())
    after = {**before, **redone}
    assert changed_windows(before, after) == [at(9)]
    # (20 × 10 + 10 × 40) / 30 = 600 / 30 = 20
    assert after[at(9)].value == 20.0 and after[at(9)].quality == Q.VALID


# --- properties -------------------------------------------------------------------------------

DAY_START, DAY_END = at(7), at(18)
samples_strategy = st.lists(
    st.builds(
        Sample,
        time_ms=st.integers(DAY_START, DAY_END - 1).map(lambda t: t - t % 1000),
        value=st.floats(0, 5000, allow_nan=False),
        status=st.sampled_from(["valid", "valid", "valid", "maintenance", "malfunction", "invalid_o2"]),
    ),
    max_size=300,
)
periods = st.sampled_from(["10min", "30min", "1h"])


@settings(max_examples=60, deadline=None)
@given(samples=samples_strategy, period=periods, seed=st.randoms(use_true_random=False))
def test_averages_do_not_depend_on_arrival_order(samples: list[Sample], period: AvgPeriod, seed: object) -> None:
    shuffled = list(samples)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    assert compute_range(shuffled, DAY_START, DAY_END, ctx(period)) == compute_range(samples, DAY_START, DAY_END, ctx(period))


@settings(max_examples=60, deadline=None)
@given(first=samples_strategy, late=samples_strategy, period=periods)
def test_recomputing_after_late_data_equals_computing_from_scratch(first: list[Sample], late: list[Sample], period: AvgPeriod) -> None:
    incremental = compute_range(first, DAY_START, DAY_END, ctx(period))
    incremental.update(compute_windows(first + late, affected_windows(late, period, JKT), ctx(period)))
    assert incremental == compute_range(late + first, DAY_START, DAY_END, ctx(period))


state_changes = st.lists(
    st.tuples(st.integers(DAY_START, DAY_END).map(lambda t: t - t % MIN), st.sampled_from(list(S))), min_size=1, max_size=12
)


@settings(max_examples=100, deadline=None)
@given(samples=samples_strategy, changes=state_changes, period=periods)
def test_a_window_counts_exactly_the_samples_taken_in_effective_operation(
    samples: list[Sample], changes: list[tuple[int, S]], period: AvgPeriod
) -> None:
    # states changing anywhere, also inside windows: each window's counts and mean are those of its
    # samples whose own instant is in burning or burnout (the windows effective throughout skip that lookup)
    timeline = OperatingTimeline(tuple(changes))
    c = ctx(period, timeline=timeline)
    for start, avg in compute_range(samples, DAY_START, DAY_END, c).items():
        inside = [
            s for s in unique_by_time(samples)
            if start <= s.time_ms < avg.end_ms and timeline.state_at(s.time_ms) in c.rules.effective_states
        ]
        valid = [s.value for s in inside if s.status == "valid"]
        if avg.n_expected:  # a window without effective time counts nothing
            assert (avg.n_valid, avg.n_flagged) == (len(valid), len(inside) - len(valid))
        if avg.value is not None:
            assert avg.value == math.fsum(valid) / len(valid)


def test_duplicate_instants_resolve_the_same_whatever_the_order() -> None:
    a, b = Sample(at(9), 10.0), Sample(at(9), 12.0, "maintenance")
    assert average_window([a, b], at(9), ctx()) == average_window([b, a], at(9), ctx())


@pytest.mark.parametrize("period", ["10min", "30min", "1h"])
def test_every_window_is_keyed_by_its_aligned_start(period: AvgPeriod) -> None:
    found = compute_range(minutes(at(8), 120), at(8), at(10), ctx(period))
    assert all(window_start_ms(start, period, JKT) == start for start in found)
