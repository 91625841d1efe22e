"""A calendar year judged from stored results: V5 (≤ 10 discarded days per pollutant), V6 (daily
limits; column A or 97 % ≤ column B), V7 (CO) and V8 (abnormal operation: ≤ 4 h per event, ≤ 60 h a
year, dust ≤ 150 mg/Nm³ during an event), for each emission profile of a plant; `compliance.year_reader`
reads a year's results from the store and judges it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from wastewatch.compliance.abnormal import AbnormalYear, count_abnormal
from wastewatch.compliance.averaging import Average
from wastewatch.compliance.checks import V6Result, V7Result, check_v6, check_v7
from wastewatch.compliance.daily import DailyAverage
from wastewatch.compliance.profiles import AvgPeriod, Profile
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.regulatory import abnormal_intervals
from wastewatch.compliance.results import AverageRecord, DayRecord
from wastewatch.compliance.timeline import Interval
from wastewatch.compliance.validity import YearValidity, year_validity
from wastewatch.compliance.windows import local_day, period_ms


@dataclass(frozen=True, slots=True)
class YearReport:
    """One profile's year: V5 per pollutant, V6 per pollutant with a D100 limit, V7 for CO, V8."""

    plant: str
    profile: str
    year: int
    v5: dict[str, YearValidity]
    v6: dict[str, V6Result]
    v7: V7Result | None
    v8: AbnormalYear | None

    @property
    def passed(self) -> bool:
        return (
            all(v.ok for v in self.v5.values()) and all(v.passed for v in self.v6.values())
            and (self.v7 is None or self.v7.passed) and (self.v8 is None or self.v8.passed)
        )


def as_daily(record: DayRecord) -> DailyAverage:
    return DailyAverage(record.day, record.value, record.quality, record.n_valid, record.n_discarded, record.version)


def as_average(record: AverageRecord) -> Average:
    period: AvgPeriod = record.period  # type: ignore[assignment]
    return Average(
        record.start_ms, record.start_ms + period_ms(period), period, record.value, record.quality,
        record.n_valid, record.n_flagged, record.n_expected, record.version, record.ci_subtracted,
    )


def judge_year(
    profile: Profile, plant: str, year: int, days: Iterable[DayRecord], averages: Iterable[AverageRecord], zone: ZoneInfo,
    now_ms: int, co_window_h: float = 24.0, events: Sequence[Interval] | None = None,
) -> YearReport:
    """The year's checks from its stored day and short-average records (other years' are ignored).
    V8 counts `events` as measured from the samples (`compliance.event_store.read_abnormal_events`); without them,
    the runs of half-hours over column A."""
    by_pollutant: dict[str, list[DailyAverage]] = defaultdict(list)
    for d in days:
        if d.profile == profile.id and d.day.year == year:
            by_pollutant[d.pollutant].append(as_daily(d))
    windows: dict[tuple[str, str], list[AverageRecord]] = defaultdict(list)
    for a in averages:
        if a.profile == profile.id and local_day(a.start_ms, zone).year == year:
            windows[(a.pollutant, a.period)].append(a)
    max_days = profile.averaging.max_discarded_days_per_year
    v5 = {p: next(iter(year_validity(ds, max_days)), YearValidity(year, (), max_days)) for p, ds in sorted(by_pollutant.items())}
    halves = {p: [as_average(a) for a in recs] for (p, period), recs in windows.items() if period == "30min"}
    v6 = {
        p: check_v6(p, by_pollutant.get(p, []), halves.get(p, []), profile)
        for p in sorted({lim.pollutant for lim in profile.limits if lim.rule == "D100"})
        if p in by_pollutant or p in halves
    }
    v7 = None
    if all(profile.limit("co", rule) for rule in ("D97", "A100", "CO95")) and ("co" in by_pollutant or "co" in halves):
        tens = [as_average(a) for a in windows.get(("co", "10min"), [])]
        v7 = check_v7(by_pollutant.get("co", []), tens, halves.get("co", []), profile, window_h=co_window_h)
    return YearReport(plant, profile.id, year, v5, v6, v7, _v8(profile, windows, zone, now_ms, year, events))


def _v8(
    profile: Profile, windows: dict[tuple[str, str], list[AverageRecord]], zone: ZoneInfo, now_ms: int, year: int,
    events: Sequence[Interval] | None,
) -> AbnormalYear | None:
    """The events (else the runs of stored half-hours over column A); the dust half-hours inside an
    event are the ones held to the dust cap."""
    rules = profile.abnormal_operation
    if rules is None:
        return None
    half_hours = [a for (_, period), recs in windows.items() if period == "30min" for a in recs]
    intervals = list(events) if events is not None else abnormal_intervals(profile, half_hours)
    dust = [as_average(a) for a in windows.get(("dust", "30min"), [])]
    in_event = [
        replace(d, quality=QualityCode.ABNORMAL_OPERATION) if any(i.overlap_ms(d.start_ms, d.end_ms) for i in intervals) else d
        for d in dust
    ]
    counted = [y for y in count_abnormal(intervals, in_event, rules, zone, now_ms) if y.year == year]
    return counted[0] if counted else AbnormalYear(year, 0.0, rules.max_year_h, (), ())
