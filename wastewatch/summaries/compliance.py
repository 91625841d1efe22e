"""Compliance summary per profile and pollutant, read from what the compliance engine stored
(`emission_avg`, `emission_day`): valid averages, exceedances by limit, discarded half-hours and days,
abnormal-operation hours used, and which limits are unconfirmed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from wastewatch.compliance.pipeline import Series, plan_series
from wastewatch.compliance.profiles import UNCONFIRMED, Limit, PercentileRule, Profile
from wastewatch.compliance.quality import DISCARDED, QualityCode
from wastewatch.compliance.results import EMISSION_AVG, DayRecord, read_days
from wastewatch.plant import PlantConfig
from wastewatch.store.base import FieldCondition, Store
from wastewatch.summaries.profiles import plant_profiles


@dataclass(frozen=True, slots=True)
class LimitExceedances:
    """One limit and how many stored valid averages of its period exceeded it."""

    rule: str
    period: str
    limit_value: float
    unit: str
    status: str
    confirmed: bool
    valid_averages: int
    exceedances: int

    @property
    def share_within(self) -> float | None:
        return (self.valid_averages - self.exceedances) / self.valid_averages if self.valid_averages else None


@dataclass(frozen=True, slots=True)
class PollutantCompliance:
    profile: str
    pollutant: str
    valid_averages: dict[str, int]
    """Per averaging period (10min, 30min, 1h): stored averages of quality valid."""
    discarded_averages: dict[str, int]
    valid_days: int
    discarded_days: int
    limits: tuple[LimitExceedances, ...]

    @property
    def exceedances(self) -> int:
        return sum(lim.exceedances for lim in self.limits)


@dataclass(frozen=True, slots=True)
class ProfileUsed:
    id: str
    title: str
    status: str
    unconfirmed: bool
    unconfirmed_limits: tuple[str, ...]
    """`pollutant period rule` of every [U]/[A] limit."""


@dataclass(frozen=True, slots=True)
class ComplianceSummary:
    plant: str
    start_ms: int
    end_ms: int
    profiles: tuple[ProfileUsed, ...]
    pollutants: tuple[PollutantCompliance, ...]
    abnormal_h: float
    abnormal_max_year_h: float | None

    @property
    def exceedances(self) -> int:
        return sum(p.exceedances for p in self.pollutants)


VALID = FieldCondition("quality", "=", QualityCode.VALID.value)
ABNORMAL = FieldCondition("quality", "=", QualityCode.ABNORMAL_OPERATION.value)
NOT_DISCARDED: tuple[QualityCode, ...] = tuple(q for q in QualityCode if q not in DISCARDED)
DISCARDED_WHERE = tuple(FieldCondition("quality", "!=", q.value) for q in NOT_DISCARDED)
DAY_RULES = frozenset({"D100", "D97"})
QUERY_THREADS = 4
"""Counting queries run side by side: each is a short scan of one series in the store."""


def compliance_summary(
    store: Store, plant: PlantConfig, start_ms: int, end_ms: int, *, profiles: Mapping[str, Profile] | None = None
) -> ComplianceSummary:
    """The stored compliance results of the plant's emission-limit profiles over [start_ms, end_ms).

    Counts come from the store (`count` of stored averages with quality valid, and valid above each
    limit), daily exceedances from the stored days: the numbers the compliance engine wrote, judged by
    the same rules as `checks` (a value above the limit exceeds it; only valid averages are judged).
    """
    selected = [p for p in plant_profiles(plant, profiles) if p.kind == "emission_limits"]
    series = plan_series(plant, selected)
    counter = _Counter(store, plant.id, start_ms, end_ms)
    with ThreadPoolExecutor(QUERY_THREADS) as pool:
        valid = {s.key: pool.submit(counter.count, s, (VALID,)) for s in series}
        discarded = {s.key: pool.submit(counter.count, s, DISCARDED_WHERE) for s in series}
        abnormal = {s.key: pool.submit(counter.count, s, (ABNORMAL,)) for s in series if s.period == "30min"}
        over = {
            (s.key, lim.rule): pool.submit(counter.count, s, (VALID, FieldCondition("value", ">", lim.value)))
            for s in series for lim in s.profile.limits_for(s.pollutant) if lim.avg_period == s.period
        }
        days = {p.id: pool.submit(read_days, store, plant.id, plant.zone, start_ms, end_ms, profile=p.id) for p in selected}
    pollutants: list[PollutantCompliance] = []
    for profile in selected:
        stored_days = list(days[profile.id].result().values())
        for pollutant in sorted({s.pollutant for s in series if s.profile.id == profile.id}):
            mine = [s for s in series if s.profile.id == profile.id and s.pollutant == pollutant]
            my_days = [d for d in stored_days if d.pollutant == pollutant]
            limits = [_limit(lim, mine, valid, over, my_days) for lim in profile.limits_for(pollutant)]
            pollutants.append(PollutantCompliance(
                profile.id, pollutant, {s.period: valid[s.key].result() for s in mine},
                {s.period: discarded[s.key].result() for s in mine}, sum(1 for d in my_days if d.valid),
                sum(1 for d in my_days if d.quality in DISCARDED), tuple(x for x in limits if x is not None),
            ))
    rules = next((p.abnormal_operation for p in selected if p.abnormal_operation is not None), None)
    # Abnormal operation is plant-wide: every pollutant's half-hour carries it, so the most counted one is the plant's.
    abnormal_h = max((f.result() for f in abnormal.values()), default=0) * 0.5
    return ComplianceSummary(
        plant.id, start_ms, end_ms, tuple(_used(p) for p in selected), tuple(pollutants), abnormal_h,
        rules.max_year_h if rules else None,
    )


class _Counter:
    def __init__(self, store: Store, plant_id: str, start_ms: int, end_ms: int) -> None:
        self.store, self.plant_id, self.start_ms, self.end_ms = store, plant_id, start_ms, end_ms

    def count(self, series: Series, conditions: Sequence[FieldCondition]) -> int:
        rows = self.store.aggregate(
            EMISSION_AVG, "n_valid", "count", start_ms=self.start_ms, end_ms=self.end_ms, field_where=conditions,
            where={"plant": self.plant_id, "profile": series.profile.id, "pollutant": series.pollutant, "period": series.period},
        )
        return int(sum(r.value or 0 for r in rows))


def _limit(
    lim: Limit, mine: Sequence[Series], valid: Mapping[tuple[str, str, str], Future[int]],
    over: Mapping[tuple[tuple[str, str, str], PercentileRule], Future[int]], days: Sequence[DayRecord],
) -> LimitExceedances | None:
    if lim.rule in DAY_RULES:
        judged = [d for d in days if d.valid and d.value is not None]
        n_over = sum(1 for d in judged if d.value is not None and d.value > lim.value)
        return _exceedances(lim, len(judged), n_over)
    found = next((s for s in mine if s.period == lim.avg_period), None)
    if found is None:
        return None  # a limit this plant has no series for (periodic samples, P100)
    return _exceedances(lim, valid[found.key].result(), over[(found.key, lim.rule)].result())


def _exceedances(lim: Limit, judged: int, n_over: int) -> LimitExceedances:
    return LimitExceedances(lim.rule, lim.avg_period, lim.value, lim.unit, lim.status, lim.confirmed, judged, n_over)


def _used(profile: Profile) -> ProfileUsed:
    names = tuple(f"{lim.pollutant} {lim.avg_period} {lim.rule}" for lim in profile.limits if lim.status in UNCONFIRMED)
    return ProfileUsed(profile.id, profile.title, profile.status, profile.unconfirmed, names)
