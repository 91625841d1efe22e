"""Short averages (10 min, 30 min, 1 h) over effective operating time, with a quality code each.

A window is always computed from its full set of samples, keyed by its local-clock start, so the
result does not depend on arrival order and recomputing a window after late data equals computing
it from scratch: `affected_windows` names the windows late data touches, `compute_windows` redoes them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

from wastewatch.compliance.profiles import Averaging, AvgPeriod
from wastewatch.compliance.quality import QualityCode, calculation_version
from wastewatch.compliance.samples import Sample, unique_by_time
from wastewatch.compliance.timeline import OperatingTimeline
from wastewatch.compliance.windows import iter_window_starts, period_ms, same_offset_throughout, window_start_ms


@dataclass(frozen=True, slots=True)
class Average:
    """One window's average. `value` is None unless the quality is valid or abnormal_operation."""

    start_ms: int
    end_ms: int
    period: AvgPeriod
    value: float | None
    quality: QualityCode
    n_valid: int
    n_flagged: int
    n_expected: int
    version: str
    ci_subtracted: float = 0.0

    @property
    def usable(self) -> bool:
        """A value the compliance tests judge (abnormal-operation values go to V8 instead)."""
        return self.quality == QualityCode.VALID and self.value is not None


@dataclass(frozen=True)
class AveragingContext:
    """Everything besides the samples that an average depends on."""

    period: AvgPeriod
    zone: ZoneInfo
    timeline: OperatingTimeline
    rules: Averaging
    sample_period_s: float

    @cached_property
    def version(self) -> str:
        return calculation_version(self.rules)


def average_window(samples: Iterable[Sample], start_ms: int, ctx: AveragingContext) -> Average:
    """The average of one window from all of its samples (samples outside the window are ignored)."""
    return _average_unique(unique_by_time(samples), start_ms, ctx)


def _average_unique(samples: Sequence[Sample], start_ms: int, ctx: AveragingContext) -> Average:
    """`average_window` of samples already one per instant and in time order."""
    end_ms = start_ms + period_ms(ctx.period)
    effective = ctx.rules.effective_states
    effective_ms = ctx.timeline.effective_ms(start_ms, end_ms, effective)
    if effective_ms == 0:
        return Average(start_ms, end_ms, ctx.period, None, ctx.timeline.idle_code(start_ms, end_ms), 0, 0, 0, ctx.version)
    if effective_ms == end_ms - start_ms:
        # effective throughout (most operating windows): no need to look up each sample's state
        inside = [s for s in samples if start_ms <= s.time_ms < end_ms]
    else:
        state_at = ctx.timeline.state_at
        inside = [s for s in samples if start_ms <= s.time_ms < end_ms and state_at(s.time_ms) in effective]
    valid = [s.value for s in inside if s.status == "valid"]
    expected = max(1, math.ceil(effective_ms / (ctx.sample_period_s * 1000)))
    flagged = len(inside) - len(valid)
    if valid and len(valid) / expected >= ctx.rules.min_valid_share:
        abnormal = ctx.timeline.abnormal_overlap_ms(start_ms, end_ms) > 0
        code = QualityCode.ABNORMAL_OPERATION if abnormal else QualityCode.VALID
        # fsum is exactly rounded, so the mean does not depend on the order of the values.
        return Average(start_ms, end_ms, ctx.period, math.fsum(valid) / len(valid), code, len(valid), flagged, expected, ctx.version)
    return Average(start_ms, end_ms, ctx.period, None, _discard_code(inside), len(valid), flagged, expected, ctx.version)


def _discard_code(inside: Sequence[Sample]) -> QualityCode:
    """Maintenance or malfunction when those flags dominate the window; otherwise insufficient data."""
    maintenance = sum(1 for s in inside if s.status == "maintenance")
    malfunction = sum(1 for s in inside if s.status == "malfunction")
    if maintenance == malfunction == 0:
        return QualityCode.INSUFFICIENT_DATA
    return QualityCode.MALFUNCTION if malfunction >= maintenance else QualityCode.MAINTENANCE


def group_by_window(samples: Iterable[Sample], period: AvgPeriod, zone: ZoneInfo) -> dict[int, list[Sample]]:
    grouped: dict[int, list[Sample]] = defaultdict(list)
    step = period_ms(period)
    start = end = 0
    bucket: list[Sample] = []
    for sample in samples:
        t = sample.time_ms
        # Samples mostly come in time order: floor once per window, not once per sample.
        if not start <= t < end:
            start = window_start_ms(t, period, zone)
            end = start + step if same_offset_throughout(start, step, zone) else start
            bucket = grouped[start]
        bucket.append(sample)
    return grouped


def compute_windows(samples: Iterable[Sample], window_starts: Iterable[int], ctx: AveragingContext) -> dict[int, Average]:
    """The averages of the given windows, each from its full set of samples."""
    # one per instant once for all windows: each window's share of it is then one per instant too
    grouped = group_by_window(unique_by_time(samples), ctx.period, ctx.zone)
    return {start: _average_unique(grouped.get(start, []), start, ctx) for start in sorted(set(window_starts))}


def compute_range(samples: Iterable[Sample], start_ms: int, end_ms: int, ctx: AveragingContext) -> dict[int, Average]:
    """Every window from the one holding `start_ms` to `end_ms`, including windows without samples
    (a gap during operation is an insufficient-data window, which counts toward V4)."""
    return compute_windows(samples, iter_window_starts(start_ms, end_ms, ctx.period, ctx.zone), ctx)


def affected_windows(late: Iterable[Sample], period: AvgPeriod, zone: ZoneInfo) -> set[int]:
    """The windows that late samples fall into: the ones to recompute (and amend, if they changed)."""
    return {window_start_ms(s.time_ms, period, zone) for s in late}


def changed_windows(before: Mapping[int, Average], after: Mapping[int, Average]) -> list[int]:
    """Window starts whose average differs: what an amendment record must list."""
    return sorted(start for start, avg in after.items() if before.get(start) != avg)
