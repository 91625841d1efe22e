"""Year and quarter validity: V5 (≤ 10 discarded days a year) and the Indonesian quarterly data
availability (≥ 75 % of operating days valid, domain.md §1.3)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from wastewatch.compliance.daily import DailyAverage
from wastewatch.compliance.windows import quarter_of


@dataclass(frozen=True, slots=True)
class YearValidity:
    """V5 for one year: how many daily averages were discarded, against the cap."""

    year: int
    discarded_days: tuple[date, ...]
    max_discarded: int

    @property
    def ok(self) -> bool:
        return len(self.discarded_days) <= self.max_discarded


def year_validity(days: Iterable[DailyAverage], max_discarded: int = 10) -> list[YearValidity]:
    by_year: dict[int, list[date]] = defaultdict(list)
    for day in days:
        found = by_year[day.day.year]  # a year without discarded days is still reported
        if day.discarded:
            found.append(day.day)
    return [YearValidity(year, tuple(sorted(found)), max_discarded) for year, found in sorted(by_year.items())]


@dataclass(frozen=True, slots=True)
class QuarterAvailability:
    """Valid days ÷ operating days in one calendar quarter (PROPER: ≥ 75 %)."""

    year: int
    quarter: int
    valid_days: int
    operating_days: int
    min_share: float

    @property
    def share(self) -> float | None:
        return self.valid_days / self.operating_days if self.operating_days else None

    @property
    def ok(self) -> bool:
        return self.share is None or self.share >= self.min_share

    def best_case_share(self, remaining_operating_days: int) -> float | None:
        """The share if every remaining operating day of the quarter is valid: below the minimum, the
        quarter is already lost (the "projected under 75 %" alert)."""
        total = self.operating_days + remaining_operating_days
        return (self.valid_days + remaining_operating_days) / total if total else None


def quarterly_availability(days: Sequence[DailyAverage], min_share: float = 0.75) -> list[QuarterAvailability]:
    """One entry per quarter present in `days`; days that did not operate count in neither term."""
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for day in days:
        tally = counts[quarter_of(day.day)]
        if day.operated:
            tally[1] += 1
            tally[0] += int(day.valid)
    return availability_by_quarter({key: (v, o) for key, (v, o) in counts.items()}, min_share)


def availability_by_quarter(
    tallies: Mapping[tuple[int, int], tuple[int, int]], min_share: float = 0.75
) -> list[QuarterAvailability]:
    """The rule on days counted elsewhere (the API's stored day counts): (valid days, operating days)
    per (year, quarter), one entry per quarter in calendar order."""
    return [QuarterAvailability(y, q, v, o, min_share) for (y, q), (v, o) in sorted(tallies.items())]
