"""Uptime: operating hours by effective operating state, plant availability, CEMS data availability
by the Indonesian rules (valid hours, 18-hour days, 75 % of days per quarter) and the EU rules
(V4/V5 discarded half-hours and days), and downtime incidents with their cause."""

from __future__ import annotations

from dataclasses import dataclass

from wastewatch.summaries.alert_response import AlertRows
from wastewatch.plant import PlantConfig
from wastewatch.store.base import Store


@dataclass(frozen=True, slots=True)
class QuarterDataAvailability:
    """Indonesian rule for one pollutant and quarter: valid days ÷ operating days ≥ min_share."""

    pollutant: str
    quarter: str
    valid_days: int
    operating_days: int
    min_share: float

    @property
    def share(self) -> float | None:
        return self.valid_days / self.operating_days if self.operating_days else None

    @property
    def ok(self) -> bool:
        share = self.share
        return share is None or share >= self.min_share


@dataclass(frozen=True, slots=True)
class PollutantDataAvailability:
    """One CEMS pollutant: hours (Indonesian hourly basis) and the EU V4/V5 counts."""

    pollutant: str
    valid_hours: int
    discarded_hours: int
    valid_days: int
    operating_days: int
    eu_discarded_half_hours: int
    eu_discarded_days: int
    eu_max_discarded_days: int
    quarters: tuple[QuarterDataAvailability, ...]

    @property
    def share(self) -> float | None:
        """Valid hours ÷ operating hours with a verdict (valid + discarded)."""
        total = self.valid_hours + self.discarded_hours
        return self.valid_hours / total if total else None

    @property
    def v5_ok(self) -> bool:
        return self.eu_discarded_days <= self.eu_max_discarded_days


@dataclass(frozen=True, slots=True)
class DowntimeIncident:
    """An interval out of operation; `cause` is `alert:<rule_id>`, `scheduled` or `unknown`."""

    start_ms: int
    end_ms: int
    state: str
    cause: str
    alert_id: int | None = None
    alert_title: str | None = None

    @property
    def hours(self) -> float:
        return (self.end_ms - self.start_ms) / 3_600_000


@dataclass(frozen=True, slots=True)
class Uptime:
    plant: str
    start_ms: int
    end_ms: int
    period_h: float
    operating_h: float
    available_h: float
    state_h: dict[str, float]
    data_availability: tuple[PollutantDataAvailability, ...]
    downtime: tuple[DowntimeIncident, ...]

    @property
    def plant_availability(self) -> float | None:
        """Share of the period ready to burn or burning (READY, BURNING, BURNOUT), as compliance.kpis."""
        return self.available_h / self.period_h if self.period_h else None

    @property
    def data_availability_share(self) -> float | None:
        """All pollutants together: valid hours ÷ hours with a verdict."""
        valid = sum(p.valid_hours for p in self.data_availability)
        total = valid + sum(p.discarded_hours for p in self.data_availability)
        return valid / total if total else None


def uptime(
    store: Store, plant: PlantConfig, start_ms: int, end_ms: int, *, alert_db: AlertRows | None = None
) -> Uptime:
    """Uptime over [start_ms, end_ms); downtime causes come from `alert_db` when given."""
    return Uptime(plant.id, start_ms, end_ms, (end_ms - start_ms) / 3_600_000, 0.0, 0.0, {}, (), ())
