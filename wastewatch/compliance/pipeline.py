"""The pure pipeline for one plant: which averaged series its profiles need, and computing them from
samples (normalise → average → CI subtraction) and days from them (V3/V4, or the 18-hour day).

No I/O: `jobs` fetches the samples and the timeline and stores what comes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from wastewatch.compliance.averaging import Average, AveragingContext, compute_windows
from wastewatch.compliance.confidence import validate_averages
from wastewatch.compliance.daily import DailyAverage, eu_daily_averages, id_daily_averages
from wastewatch.compliance.normalise import ChannelBases, PairedChannel, correct_paired, pair_channels
from wastewatch.compliance.profiles import AvgPeriod, Profile
from wastewatch.compliance.samples import Sample, unique_by_time
from wastewatch.compliance.timeline import OperatingTimeline
from wastewatch.compliance.windows import PERIOD_MINUTES, iter_window_starts, period_ms
from wastewatch.plant import PlantConfig, SensorSpec


@dataclass(frozen=True)
class Series:
    """One averaged series: a profile's pollutant over one period, from one CEMS channel."""

    profile: Profile
    pollutant: str
    period: AvgPeriod
    sensor: SensorSpec
    day_basis: bool
    """True when the profile's daily average of this pollutant is formed from this series."""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.profile.id, self.pollutant, self.period)


@dataclass(frozen=True, slots=True)
class Channels:
    """The plant's CEMS concentration sensors and the O2 and moisture channels they are corrected with."""

    concentrations: Mapping[str, SensorSpec]
    o2: SensorSpec | None
    h2o: SensorSpec | None

    @classmethod
    def of(cls, plant: PlantConfig) -> Channels:
        cems = [s for s in plant.sensors if s.cems]
        return cls(
            {s.id: s for s in cems if s.quantity == "concentration"},
            next((s for s in cems if s.quantity == "oxygen"), None),
            next((s for s in cems if s.quantity == "moisture"), None),
        )

    @property
    def sensor_ids(self) -> list[str]:
        """The channels to read: every concentration, O2, and H2O only when some channel is measured wet
        (dry channels never look at it, and it was an eighth of a recomputation's reading)."""
        wet = any(s.basis == "wet" for s in (*self.concentrations.values(), self.o2) if s is not None)
        extra = [s.id for s in (self.o2, self.h2o if wet else None) if s is not None]
        return sorted(self.concentrations) + extra


def day_period(profile: Profile) -> AvgPeriod:
    """The short averages a profile's day is formed from: half-hours (EU, V3) or hours (Indonesia, §1.3)."""
    if profile.data_availability is not None:
        return profile.data_availability.average_period
    return "30min" if any(lim.avg_period == "30min" for lim in profile.limits) else "1h"


def plan_series(plant: PlantConfig, profiles: Iterable[Profile]) -> list[Series]:
    """Every series the profiles need for which the plant has a CEMS channel.

    Emission profiles: each pollutant's sub-day limit periods, plus the day basis when it has a daily
    limit. Data-availability profiles: every CEMS concentration at the profile's averaging period.
    """
    channels = Channels.of(plant)
    planned: list[Series] = []
    for profile in profiles:
        basis = day_period(profile)
        if profile.kind == "data_availability":
            planned += [Series(profile, sid, basis, spec, True) for sid, spec in sorted(channels.concentrations.items())]
            continue
        if profile.kind != "emission_limits":
            continue
        for pollutant in sorted({lim.pollutant for lim in profile.limits}):
            sensor = channels.concentrations.get(pollutant)
            if sensor is None:
                continue
            periods: set[AvgPeriod] = {lim.avg_period for lim in profile.limits_for(pollutant) if lim.avg_period in PERIOD_MINUTES}
            daily = profile.daily_limit(pollutant) is not None
            if daily:
                periods.add(basis)
            planned += [Series(profile, pollutant, p, sensor, daily and p == basis) for p in sorted(periods, key=period_ms)]
    return planned


def closed_window_starts(series: Series, start_ms: int, end_ms: int, zone: ZoneInfo) -> list[int]:
    """Starts of the windows that end in (start_ms, end_ms]: the ones a job at `end_ms` closes."""
    length = period_ms(series.period)
    first = start_ms - length + 1
    return [s for s in iter_window_starts(first, end_ms, series.period, zone) if start_ms < s + length <= end_ms]


@dataclass(frozen=True, slots=True)
class Computed:
    """One window's validated average and the value before CI subtraction."""

    series: Series
    average: Average
    raw_value: float | None


@dataclass
class Corrections:
    """Work shared by the series computed over one set of samples: each channel is paired with its O2
    (and H2O) once, and corrected once per profile, so CO's 10-minute and half-hour averages, and the
    EU and Indonesian profiles, start from the same pairing."""

    paired: dict[str, PairedChannel] = field(default_factory=dict)
    corrected: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)


def compute_series(
    series: Series,
    samples: Mapping[str, Sequence[Sample]],
    timeline: OperatingTimeline,
    plant: PlantConfig,
    window_starts: Iterable[int],
    corrections: Corrections | None = None,
) -> list[Computed]:
    """The series' averages of the given windows from every sample of its channels (by sensor id).

    Pass the same `corrections` to the calls over one `samples` mapping to share their corrections.
    """
    shared = corrections if corrections is not None else Corrections()
    key = (series.sensor.id, series.profile.id)
    corrected = shared.corrected.get(key)
    if corrected is None:
        corrected = shared.corrected[key] = correct_channel(series, samples, Channels.of(plant), shared)
    profile = series.profile
    ctx = AveragingContext(series.period, plant.zone, timeline, profile.averaging, series.sensor.period_s)
    raw = compute_windows(corrected, window_starts, ctx)
    validated = validate_averages(raw.values(), series.pollutant, profile) if profile.reference else list(raw.values())
    return [Computed(series, avg, raw[avg.start_ms].value) for avg in validated]


def correct_channel(
    series: Series, samples: Mapping[str, Sequence[Sample]], channels: Channels, corrections: Corrections | None = None
) -> list[Sample]:
    """The series' concentration samples, dry and at the profile's reference O2 (as measured without one)."""
    concentration = samples.get(series.sensor.id, ())
    reference = series.profile.reference
    if reference is None:
        return unique_by_time(concentration)  # availability only: the values are as measured
    bases = ChannelBases(series.sensor.basis or "dry", (channels.o2.basis if channels.o2 else None) or "dry")
    paired = corrections.paired.get(series.sensor.id) if corrections is not None else None
    if paired is None:
        o2_id = channels.o2.id if channels.o2 else ""
        h2o_id = channels.h2o.id if channels.h2o else ""
        wet = "wet" in (bases.concentration, bases.o2)
        paired = pair_channels(
            concentration, samples.get(o2_id, ()), samples.get(h2o_id, ()), pair_tolerance_ms=pair_tolerance_ms(series.sensor), with_h2o=wet
        )
        if corrections is not None:
            corrections.paired[series.sensor.id] = paired
    return correct_paired(paired, reference=reference, bases=bases)


def pair_tolerance_ms(sensor: SensorSpec) -> int:
    """O2 and H2O pair with a concentration taken within half a reporting period of it."""
    return int(sensor.period_s * 500)


def compute_days(series: Series, averages: Sequence[Average], zone: ZoneInfo) -> list[DailyAverage]:
    """Daily averages of a day-basis series: V3/V4 on half-hours, the 18-valid-hours rule on hours."""
    profile = series.profile
    if series.period == "30min":
        return eu_daily_averages(averages, zone, profile.averaging.max_discarded_half_hours_per_day)
    min_hours = profile.data_availability.min_valid_hours_per_day if profile.data_availability else 18
    return id_daily_averages(averages, zone, min_hours)
