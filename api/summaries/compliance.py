"""Compliance summary per profile and pollutant, read from what the compliance engine stored
(`emission_avg`, `emission_day`, `abnormal_event`): valid averages, exceedances by limit, discarded
half-hours and days, abnormal-operation hours used, and which limits are unconfirmed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from api.summaries.counts import (
    DAY,
    DAY_RULES,
    DAYS_DISCARDED,
    DAYS_VALID,
    DISCARDED_N,
    VALID,
    Totals,
    over,
    total,
    totals,
)
from api.summaries.profiles import plant_profiles
from api.summaries.stored_counts import compliance_counts
from compliance.event_store import read_stored_events
from wastewatch.compliance.events import EVENT_LOOKBACK_MS
from wastewatch.compliance.pipeline import Series, plan_series
from wastewatch.compliance.profiles import UNCONFIRMED, Limit, Profile
from wastewatch.plant import PlantConfig
from wastewatch.points import Store


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


def compliance_summary(
    store: Store, plant: PlantConfig, start_ms: int, end_ms: int, *, profiles: Mapping[str, Profile] | None = None
) -> ComplianceSummary:
    """The stored compliance results of the plant's emission-limit profiles over [start_ms, end_ms).

    Counts of stored averages (quality valid, discarded, abnormal operation, valid above each limit)
    and of stored days, judged by the same rules as `checks` (a value above the limit exceeds it; only
    valid averages are judged): from the daily rollup where it covers the range, else from the
    stored results themselves (see `summaries.stored_counts`).
    """
    every = plant_profiles(plant, profiles)
    selected = [p for p in every if p.kind == "emission_limits"]
    series = plan_series(plant, selected)
    counts = totals(compliance_counts(store, plant, every, start_ms, end_ms))
    pollutants: list[PollutantCompliance] = []
    for profile in selected:
        for pollutant in sorted({s.pollutant for s in series if s.profile.id == profile.id}):
            mine = [s for s in series if s.profile.id == profile.id and s.pollutant == pollutant]
            limits = [_limit(profile.id, lim, mine, counts) for lim in profile.limits_for(pollutant)]
            pollutants.append(PollutantCompliance(
                profile.id, pollutant, {s.period: total(counts, *s.key, VALID) for s in mine},
                {s.period: total(counts, *s.key, DISCARDED_N) for s in mine},
                total(counts, profile.id, pollutant, DAY, DAYS_VALID), total(counts, profile.id, pollutant, DAY, DAYS_DISCARDED),
                tuple(x for x in limits if x is not None),
            ))
    judged = next((p for p in selected if p.abnormal_operation is not None), None)
    rules = judged.abnormal_operation if judged is not None else None
    abnormal_h = 0.0 if judged is None else _abnormal_h(store, plant, judged, start_ms, end_ms)
    return ComplianceSummary(
        plant.id, start_ms, end_ms, tuple(_used(p) for p in selected), tuple(pollutants), abnormal_h,
        rules.max_year_h if rules else None,
    )


def _abnormal_h(store: Store, plant: PlantConfig, profile: Profile, start_ms: int, end_ms: int) -> float:
    """Hours of the engine's stored abnormal-operation events inside the range, measured from the
    samples (`compliance.events`); an event that began before the range counts from its start."""
    events = read_stored_events(store, plant.id, profile.id, start_ms - EVENT_LOOKBACK_MS, end_ms)
    return sum(e.overlap_ms(start_ms, end_ms) for e in events) / 3_600_000


def _limit(profile_id: str, lim: Limit, mine: Sequence[Series], counts: Totals) -> LimitExceedances | None:
    if lim.rule in DAY_RULES:
        judged = total(counts, profile_id, lim.pollutant, DAY, DAYS_VALID)
        return _exceedances(lim, judged, total(counts, profile_id, lim.pollutant, DAY, over(lim.rule)))
    found = next((s for s in mine if s.period == lim.avg_period), None)
    if found is None:
        return None  # a limit this plant has no series for (periodic samples, P100)
    return _exceedances(lim, total(counts, *found.key, VALID), total(counts, *found.key, over(lim.rule)))


def _exceedances(lim: Limit, judged: int, n_over: int) -> LimitExceedances:
    return LimitExceedances(lim.rule, lim.avg_period, lim.value, lim.unit, lim.status, lim.confirmed, judged, n_over)


def _used(profile: Profile) -> ProfileUsed:
    names = tuple(f"{lim.pollutant} {lim.avg_period} {lim.rule}" for lim in profile.limits if lim.status in UNCONFIRMED)
    return ProfileUsed(profile.id, profile.title, profile.status, profile.unconfirmed, names)
