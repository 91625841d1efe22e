"""The compliance tests on validated averages: V6 (daily ELV; half-hour column A or 97 % ≤ column B)
and V7 (CO: 97 % of daily averages; in any window 95 % of 10-min values OR all half-hours ≤ limit).

Only usable averages (quality valid) are judged; abnormal-operation values go to V8.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from wastewatch.compliance.averaging import Average
from wastewatch.compliance.daily import DailyAverage
from wastewatch.compliance.profiles import Profile

TEN_MIN_MS = 600_000


@dataclass(frozen=True, slots=True)
class V6Result:
    pollutant: str
    daily_exceedances: tuple[DailyAverage, ...]
    over_column_a: tuple[Average, ...]
    share_within_b: float | None
    required_share_b: float | None

    @property
    def passed_daily(self) -> bool:
        return not self.daily_exceedances

    @property
    def passed_half_hourly(self) -> bool:
        """(b): no half-hour above column A, or the year's share at or below column B is high enough."""
        b_ok = self.share_within_b is not None and self.required_share_b is not None and self.share_within_b >= self.required_share_b
        return not self.over_column_a or b_ok

    @property
    def passed(self) -> bool:
        return self.passed_daily and self.passed_half_hourly


def share_within(values: Sequence[float], limit: float) -> float | None:
    """The share of values at or below the limit; None without values."""
    return sum(1 for v in values if v <= limit) / len(values) if values else None


def check_v6(pollutant: str, days: Sequence[DailyAverage], half_hours: Sequence[Average], profile: Profile) -> V6Result:
    """V6 (a) and (b) over one year's validated daily and half-hourly averages (not for CO: see `check_v7`)."""
    daily = profile.limit(pollutant, "D100")
    col_a = profile.limit(pollutant, "A100")
    col_b = profile.limit(pollutant, "B97")
    usable = [h for h in half_hours if h.usable]
    exceeding_days = tuple(d for d in days if daily and d.valid and d.value is not None and d.value > daily.value)
    over_a = tuple(h for h in usable if col_a and h.value is not None and h.value > col_a.value)
    share_b = share_within([h.value for h in usable if h.value is not None], col_b.value) if col_b else None
    return V6Result(pollutant, exceeding_days, over_a, share_b, col_b.required_share if col_b else None)


@dataclass(frozen=True, slots=True)
class CoWindow:
    """One evaluation window that failed V7's short-term test."""

    start_ms: int
    end_ms: int
    share_10min_within: float | None
    half_hours_over: int


@dataclass(frozen=True, slots=True)
class V7Result:
    daily_share_within: float | None
    required_daily_share: float
    failed_windows: tuple[CoWindow, ...]

    @property
    def passed_daily(self) -> bool:
        return self.daily_share_within is None or self.daily_share_within >= self.required_daily_share

    @property
    def passed(self) -> bool:
        return self.passed_daily and not self.failed_windows


def check_v7(
    days: Sequence[DailyAverage],
    ten_minutes: Sequence[Average],
    half_hours: Sequence[Average],
    profile: Profile,
    pollutant: str = "co",
    window_h: float = 24.0,
) -> V7Result:
    """V7 over a year. `window_h` is 24, or 168 for plants at >= 1100 degC for >= 2 s."""
    daily, col_a, ten = profile.limit(pollutant, "D97"), profile.limit(pollutant, "A100"), profile.limit(pollutant, "CO95")
    if daily is None or col_a is None or ten is None:
        raise ValueError(f"profile {profile.id} lacks a {pollutant} D97, A100 or CO95 limit for V7")
    day_share = share_within([d.value for d in days if d.valid and d.value is not None], daily.value)
    failed = _failed_windows(
        [a for a in ten_minutes if a.usable], [h for h in half_hours if h.usable], ten.value, ten.required_share, col_a.value, window_h
    )
    return V7Result(day_share, daily.required_share, tuple(failed))


def _failed_windows(
    tens: Sequence[Average], halves: Sequence[Average], ten_limit: float, ten_share: float, half_limit: float, window_h: float
) -> list[CoWindow]:
    """Slide a window over the 10-minute grid; it fails when the 10-min share is too low AND a
    half-hour is over its limit. All averages start on the 10-minute grid, so starting a window at
    each grid point visits every distinct set of values."""
    over_halves = sorted(h.start_ms for h in halves if h.value is not None and h.value > half_limit)
    if not over_halves:
        return []
    ten_points = sorted((a.start_ms, a.value is not None and a.value <= ten_limit) for a in tens)
    ten_times = [t for t, _ in ten_points]
    within_before = list(accumulate((int(ok) for _, ok in ten_points), initial=0))
    width = int(window_h * 3_600_000)
    starts = sorted({t - k * TEN_MIN_MS for t in over_halves for k in range(width // TEN_MIN_MS)})
    failed: list[CoWindow] = []
    for start in starts:
        end = start + width
        lo, hi = bisect_left(ten_times, start), bisect_left(ten_times, end)
        share = (within_before[hi] - within_before[lo]) / (hi - lo) if hi > lo else None
        over = bisect_left(over_halves, end) - bisect_left(over_halves, start)
        # No 10-min values in a window with a half-hour over the limit: the 95 % branch cannot be shown.
        if over and (share is None or share < ten_share):
            failed.append(CoWindow(start, end, share, over))
    return failed


def exceedances(averages: Sequence[Average], limit_value: float) -> list[Average]:
    """Usable averages above a limit: every breach of an A100 or H100 rule (the regulatory alerts)."""
    return [a for a in averages if a.usable and a.value is not None and a.value > limit_value]
