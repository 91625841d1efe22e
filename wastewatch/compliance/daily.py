"""Daily averages on the local calendar day: the EU day from validated half-hours (V3, V4) and the
Indonesian day from hourly averages (≥ 18 valid hours, domain.md §1.3)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

from wastewatch.compliance.averaging import Average
from wastewatch.compliance.quality import DISCARDED, IDLE, QualityCode
from wastewatch.compliance.windows import local_day

V4Status = Literal["ok", "at_risk", "broken"]
_Rule = Callable[[int, int], bool]


@dataclass(frozen=True, slots=True)
class DailyAverage:
    """One local day's average, with the counts its validity was judged on."""

    day: date
    value: float | None
    quality: QualityCode
    n_valid: int
    n_discarded: int
    version: str

    @property
    def valid(self) -> bool:
        return self.quality == QualityCode.VALID and self.value is not None

    @property
    def operated(self) -> bool:
        return self.quality not in IDLE

    @property
    def discarded(self) -> bool:
        """Discarded for CEMS maintenance, malfunction or missing data: what V5 counts."""
        return self.quality in DISCARDED


def by_local_day(averages: Iterable[Average], zone: ZoneInfo) -> dict[date, list[Average]]:
    days: dict[date, list[Average]] = defaultdict(list)
    for avg in averages:
        days[local_day(avg.start_ms, zone)].append(avg)
    return dict(sorted(days.items()))


def eu_daily_averages(half_hours: Iterable[Average], zone: ZoneInfo, max_discarded: int = 5) -> list[DailyAverage]:
    """V3/V4: the mean of a day's valid, CI-subtracted half-hours; invalid with > `max_discarded` discarded."""
    return [
        _day(day, windows, valid_enough=lambda n_valid, n_discarded: n_valid > 0 and n_discarded <= max_discarded)
        for day, windows in by_local_day(half_hours, zone).items()
    ]


def id_daily_averages(hourly: Iterable[Average], zone: ZoneInfo, min_valid_hours: int = 18) -> list[DailyAverage]:
    """§1.3: the mean of a day's valid hourly averages, valid only with >= `min_valid_hours` of them."""
    return [
        _day(day, windows, valid_enough=lambda n_valid, _n_discarded: n_valid >= min_valid_hours)
        for day, windows in by_local_day(hourly, zone).items()
    ]


def _day(day: date, windows: Sequence[Average], valid_enough: _Rule) -> DailyAverage:
    values = [w.value for w in windows if w.usable and w.value is not None]
    discarded = [w.quality for w in windows if w.quality in DISCARDED]
    version = min((w.version for w in windows), default="")
    if valid_enough(len(values), len(discarded)):
        return DailyAverage(day, math.fsum(values) / len(values), QualityCode.VALID, len(values), len(discarded), version)
    return DailyAverage(day, None, _day_code(windows, discarded), len(values), len(discarded), version)


def _day_code(windows: Sequence[Average], discarded: Sequence[QualityCode]) -> QualityCode:
    if discarded:
        counts = Counter(discarded)
        return max(counts, key=lambda code: (counts[code], code.value))
    if any(w.quality == QualityCode.VALID for w in windows):
        return QualityCode.INSUFFICIENT_DATA
    if any(w.quality == QualityCode.ABNORMAL_OPERATION for w in windows):
        return QualityCode.ABNORMAL_OPERATION
    idle = Counter(w.quality for w in windows if w.quality in IDLE)
    return max(idle, key=lambda code: (idle[code], code.value)) if idle else QualityCode.NO_WASTE


def v4_status(n_discarded: int, max_discarded: int = 5) -> V4Status:
    """broken past the cap; at risk one before it (domain.md §8.5: 4 discarded half-hours already today)."""
    if n_discarded > max_discarded:
        return "broken"
    return "at_risk" if n_discarded >= max_discarded - 1 else "ok"
