"""The numbers the dashboards draw as thresholds, read from the plant catalogue and the plant's
compliance profiles (never typed into a panel): chamber minimums, emission limits, the V4 and
abnormal-operation caps, and the plant's UTC offset for daily grouping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from wastewatch.compliance.pipeline import plan_series
from wastewatch.compliance.profiles import Limit, Profile, load_bundled_profiles, select_profiles
from wastewatch.plant import PlantConfig, load_catalog


@dataclass(frozen=True, slots=True)
class Minimum:
    sensor: str
    value_c: float
    source: str


@dataclass(frozen=True, slots=True)
class SeriesLimits:
    """One stored average series (profile, pollutant, period) and its limits."""

    profile: Profile
    pollutant: str
    period: str
    unit: str
    limits: tuple[Limit, ...]


@dataclass(frozen=True, slots=True)
class PlantLimits:
    plant: PlantConfig
    profiles: tuple[Profile, ...]

    @classmethod
    def default(cls) -> PlantLimits:
        """The bundled catalogue's first plant (Kotim) with its profiles: what the shipped boards show."""
        plant = next(iter(load_catalog(None)))
        return cls(plant, tuple(select_profiles(plant.compliance_profiles, load_bundled_profiles())))

    def chamber_minimum(self, sensor: str) -> Minimum:
        """The confirmed `>=` requirement on a chamber temperature (P.56: 800 / 1000 °C)."""
        for profile in self.profiles:
            for req in profile.requirements:
                if req.parameter == sensor and req.op == ">=" and req.status != "U" and not req.design_constant:
                    return Minimum(sensor, req.value, f"{profile.id} {req.source}")
        raise LookupError(f"no minimum for {sensor} in the profiles of plant {self.plant.id}")

    def short_series(self) -> list[SeriesLimits]:
        """The sub-day average series that have limits of their own, in profile and pollutant order."""
        out = []
        for series in plan_series(self.plant, self.profiles):
            if series.profile.kind != "emission_limits":
                continue
            limits = tuple(lim for lim in series.profile.limits_for(series.pollutant) if lim.avg_period == series.period)
            if limits:
                out.append(SeriesLimits(series.profile, series.pollutant, series.period, limits[0].unit, limits))
        return out

    def daily_series(self) -> list[SeriesLimits]:
        out = []
        seen: set[tuple[str, str]] = set()
        for series in plan_series(self.plant, self.profiles):
            limit = series.profile.daily_limit(series.pollutant) if series.profile.kind == "emission_limits" else None
            if limit is None or (series.profile.id, series.pollutant) in seen:
                continue
            seen.add((series.profile.id, series.pollutant))
            out.append(SeriesLimits(series.profile, series.pollutant, "24h", limit.unit, (limit,)))
        return out

    def max_discarded_half_hours(self) -> int:
        return min(p.averaging.max_discarded_half_hours_per_day for p in self.profiles if p.kind == "emission_limits")

    def abnormal_year_cap_h(self) -> tuple[float, float] | None:
        """(warn, cap) hours of abnormal operation per year, from the first profile that sets them."""
        for profile in self.profiles:
            rules = getattr(profile, "abnormal_operation", None)
            if rules is not None:
                return float(rules.max_year_h) * 0.8, float(rules.max_year_h)
        return None

    def utc_offset(self) -> str:
        """InfluxQL `GROUP BY time(1d, <offset>)` so days start at local midnight (plants without DST)."""
        offset = datetime(2026, 1, 1, tzinfo=UTC).astimezone(self.plant.zone).utcoffset()
        minutes = -int(offset.total_seconds() // 60) if offset else 0
        return f"{minutes}m"

    def facility_names(self) -> dict[str, str]:
        return {f.id: f.name for f in self.plant.facilities}
