"""Emission loads (mass emissions) per local hour, day, month or year, read from what the compliance
jobs stored (`emission_load` per window, `emission_load_day` per local day; `wastewatch.compliance.loads`
computes them): measured kg, the mean mass flow in kg/h while covered, and with every load its
coverage (hours covered of the operating hours and of the hours in the period). Nothing is
extrapolated: `estimate_kg` is the one estimate and is named so.

Whole local days are read from the day loads (a year is 365 points per pollutant), the partial days
at the range's ends and every hourly answer from the window loads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from api.summaries.profiles import plant_profiles
from compliance.load_store import read_day_loads, read_window_loads
from wastewatch.compliance.loads import Bucket, CalendarBucket, LoadPart, LoadSeries, LoadTotal, calendar_buckets, plan_loads, totals
from wastewatch.compliance.windows import day_bounds_ms, local_day
from wastewatch.plant import PlantConfig
from wastewatch.points import Store

CONCENTRATION_BASIS = "mg/Nm³ dry at the measured O2 (before the O2 correction, no confidence interval subtracted)"
FLOW_BASIS = "Nm³/h dry at 273.15 K and 101.3 kPa"


@dataclass(frozen=True, slots=True)
class LoadBasis:
    """How one profile's loads are computed, with the status of each assumption."""

    profile: str
    title: str
    period: str
    flow_basis: str
    flow_basis_status: str
    flow_basis_source: str
    source: str
    status: str
    unconfirmed: bool


@dataclass(frozen=True, slots=True)
class EmissionLoads:
    """The loads of [start_ms, end_ms) per bucket, and per pollutant over the whole range."""

    plant: str
    start_ms: int
    end_ms: int
    by: Bucket
    bases: tuple[LoadBasis, ...]
    loads: tuple[LoadTotal, ...]
    totals: tuple[LoadTotal, ...]


def load_series(plant: PlantConfig, profile: str | None = None, pollutant: str | None = None) -> list[LoadSeries]:
    """The loads the plant's profiles compute, optionally only one profile's or one pollutant's."""
    return [
        s for s in plan_loads(plant, plant_profiles(plant))
        if (profile is None or s.profile.id == profile) and (pollutant is None or s.pollutant == pollutant)
    ]


def bucket_count(plant: PlantConfig, by: Bucket, start_ms: int, end_ms: int) -> int:
    return len(calendar_buckets(by, start_ms, end_ms, plant.zone))


def emission_loads(
    store: Store, plant: PlantConfig, start_ms: int, end_ms: int, by: Bucket, *, profile: str | None = None,
    pollutant: str | None = None,
) -> EmissionLoads:
    """The stored loads of [start_ms, end_ms) in local hours, days, months or years."""
    series = load_series(plant, profile, pollutant)
    keys = [(s.profile.id, s.pollutant) for s in series]
    wanted = set(keys)
    parts = [p for p in _parts(store, plant, start_ms, end_ms, by, series) if (p.profile, p.pollutant) in wanted]
    buckets = calendar_buckets(by, start_ms, end_ms, plant.zone)
    span = [CalendarBucket("all", start_ms, end_ms)]
    bases: dict[str, LoadBasis] = {}
    for s in series:
        loads = s.settings
        bases.setdefault(s.profile.id, LoadBasis(
            s.profile.id, s.profile.title, s.series.period, loads.flow_basis, loads.flow_basis_status, loads.flow_basis_source,
            loads.source, loads.status, loads.unconfirmed,
        ))
    return EmissionLoads(
        plant.id, start_ms, end_ms, by, tuple(bases.values()), tuple(totals(parts, buckets, keys)), tuple(totals(parts, span, keys)),
    )


def _parts(store: Store, plant: PlantConfig, start_ms: int, end_ms: int, by: Bucket, series: Sequence[LoadSeries]) -> list[LoadPart]:
    """The window loads of the range (hourly answers, and the partial days at its ends) and the day
    loads of the whole local days inside it."""
    if not series:
        return []
    where = {"profile": series[0].profile.id} if len({s.profile.id for s in series}) == 1 else {}
    if len(series) == 1:
        where["pollutant"] = series[0].pollutant
    zone = plant.zone
    first_whole = day_bounds_ms(local_day(start_ms, zone), zone)[0]
    if first_whole < start_ms:
        first_whole = day_bounds_ms(local_day(start_ms, zone) + timedelta(days=1), zone)[0]
    after_whole = day_bounds_ms(local_day(end_ms, zone), zone)[0]
    if by == "hour" or after_whole <= first_whole:
        return [LoadPart.of(w) for w in read_window_loads(store, plant.id, start_ms, end_ms, **where)]
    parts = [LoadPart.of(d) for d in read_day_loads(store, plant, first_whole, after_whole, **where)]
    for lo, hi in ((start_ms, first_whole), (after_whole, end_ms)):
        if lo < hi:
            parts += [LoadPart.of(w) for w in read_window_loads(store, plant.id, lo, hi, **where)]
    return parts
