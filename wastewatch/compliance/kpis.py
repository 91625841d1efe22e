"""Plant KPIs the API and the evaluator report serve: tonnage per day, month and source facility,
throughput, operating hours, plant availability, CEMS data availability and specific emissions
(grams of each pollutant emitted per tonne incinerated).

Pure functions over fetched data; `compliance.kpi_reader` fetches it for a period.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from wastewatch.compliance.normalise import nearest
from wastewatch.compliance.quality import DISCARDED, IDLE, QualityCode
from wastewatch.compliance.results import AverageRecord
from wastewatch.compliance.samples import Sample, unique_by_time
from wastewatch.compliance.timeline import OperatingTimeline
from wastewatch.compliance.windows import local_day
from wastewatch.operating_state import OperatingState

HOUR_MS = 3_600_000
EFFECTIVE: frozenset[OperatingState] = frozenset({OperatingState.BURNING, OperatingState.BURNOUT})
AVAILABLE: frozenset[OperatingState] = frozenset({OperatingState.READY, OperatingState.BURNING, OperatingState.BURNOUT})
"""[A] states in which the plant can take waste or is burning it: what plant availability counts."""


@dataclass(frozen=True, slots=True)
class BatchMass:
    """One weighed batch: when, how much, from which facility."""

    time_ms: int
    mass_kg: float
    source: str
    waste_code: str | None = None


def tonnage_by_day(batches: Iterable[BatchMass], zone: ZoneInfo) -> dict[date, float]:
    """Tonnes fed per local calendar day."""
    totals: dict[date, list[float]] = defaultdict(list)
    for b in batches:
        totals[local_day(b.time_ms, zone)].append(b.mass_kg)
    return {day: math.fsum(kg) / 1000 for day, kg in sorted(totals.items())}


def tonnage_by_month(batches: Iterable[BatchMass], zone: ZoneInfo) -> dict[tuple[int, int], float]:
    """Tonnes fed per local (year, month)."""
    totals: dict[tuple[int, int], list[float]] = defaultdict(list)
    for b in batches:
        day = local_day(b.time_ms, zone)
        totals[(day.year, day.month)].append(b.mass_kg)
    return {month: math.fsum(kg) / 1000 for month, kg in sorted(totals.items())}


def tonnage_by_source(batches: Iterable[BatchMass]) -> dict[str, float]:
    """Tonnes fed per source facility."""
    totals: dict[str, list[float]] = defaultdict(list)
    for b in batches:
        totals[b.source].append(b.mass_kg)
    return {source: math.fsum(kg) / 1000 for source, kg in sorted(totals.items())}


def state_hours(timeline: OperatingTimeline, start_ms: int, end_ms: int) -> dict[str, float]:
    """Hours spent in each operating state ("unknown" before the first recorded state)."""
    return {
        (state.value if state else "unknown"): ms / HOUR_MS
        for state, ms in sorted(timeline.durations_ms(start_ms, end_ms).items(), key=lambda i: str(i[0]))
    }


def operating_hours(timeline: OperatingTimeline, start_ms: int, end_ms: int, effective: frozenset[OperatingState] = EFFECTIVE) -> float:
    """Effective operating hours: waste being incinerated (V1)."""
    return timeline.effective_ms(start_ms, end_ms, effective) / HOUR_MS


def plant_availability(timeline: OperatingTimeline, start_ms: int, end_ms: int) -> float | None:
    """[A] The share of the period the plant was ready to burn or burning (READY, BURNING, BURNOUT)."""
    if end_ms <= start_ms:
        return None
    return timeline.effective_ms(start_ms, end_ms, AVAILABLE) / (end_ms - start_ms)


def data_availability(averages: Iterable[AverageRecord]) -> float | None:
    """Valid windows ÷ windows during operation (valid + discarded); idle and abnormal windows count in neither."""
    valid = discarded = 0
    for avg in averages:
        if avg.quality in IDLE:
            continue
        if avg.value is not None and avg.quality == QualityCode.VALID:
            valid += 1
        elif avg.quality in DISCARDED:
            discarded += 1
    return valid / (valid + discarded) if valid + discarded else None


@dataclass(frozen=True, slots=True)
class PlantKpis:
    """The KPIs of one plant over [start_ms, end_ms)."""

    plant: str
    start_ms: int
    end_ms: int
    tonnes: float
    tonnes_by_day: dict[date, float]
    tonnes_by_source: dict[str, float]
    operating_h: float
    throughput_kg_h: float | None
    availability: float | None
    state_h: dict[str, float]
    data_availability: dict[str, float | None]
    """Per `profile/pollutant/period` series."""


def plant_kpis(
    plant_id: str, zone: ZoneInfo, start_ms: int, end_ms: int, batches: Sequence[BatchMass], timeline: OperatingTimeline,
    averages: Iterable[AverageRecord],
) -> PlantKpis:
    """The KPIs over [start_ms, end_ms) from the period's batches, state timeline and stored averages."""
    operating_h = operating_hours(timeline, start_ms, end_ms)
    tonnes = math.fsum(b.mass_kg for b in batches) / 1000
    return PlantKpis(
        plant_id, start_ms, end_ms, tonnes, tonnage_by_day(batches, zone), tonnage_by_source(batches), operating_h,
        tonnes * 1000 / operating_h if operating_h else None, plant_availability(timeline, start_ms, end_ms),
        state_hours(timeline, start_ms, end_ms), series_availability(averages),
    )


def emitted_mass_g(
    concentration: Iterable[Sample], flow: Iterable[Sample], sample_period_s: float, pair_tolerance_ms: int = 0
) -> float:
    """Mass emitted: Σ c × q × Δt over the valid concentration samples paired with a valid flow sample.

    c in mg/Nm³ as measured (not normalised to reference O2: the flow is the actual flue gas), q in
    Nm³/h, Δt the sample period; the result in grams. [A] both on the same (dry) basis.
    """
    flows = [f for f in unique_by_time(flow) if f.status == "valid"]
    hours = sample_period_s / 3600
    mg = [
        c.value * paired.value * hours
        for c in unique_by_time(concentration)
        if c.status == "valid" and (paired := nearest(flows, c.time_ms, pair_tolerance_ms)) is not None
    ]
    return math.fsum(mg) / 1000


def specific_emission_g_t(mass_g: float, tonnes: float) -> float | None:
    """Grams of a pollutant emitted per tonne of waste incinerated; None without waste."""
    return mass_g / tonnes if tonnes > 0 else None


def series_availability(averages: Iterable[AverageRecord]) -> dict[str, float | None]:
    grouped: dict[str, list[AverageRecord]] = defaultdict(list)
    for avg in averages:
        grouped[f"{avg.profile}/{avg.pollutant}/{avg.period}"].append(avg)
    return {key: data_availability(records) for key, records in sorted(grouped.items())}

