"""The plant KPIs (`wastewatch.compliance.kpis`) of a period, fetched from the store: batches, the
state timeline and stored averages for the KPIs, flow and concentration samples for specific emissions."""

from __future__ import annotations

import math

from compliance.input_reader import read_batches, read_samples, read_timeline
from compliance.result_store import read_averages
from wastewatch.compliance.kpis import PlantKpis, emitted_mass_g, plant_kpis, specific_emission_g_t
from wastewatch.compliance.pipeline import Channels, pair_tolerance_ms
from wastewatch.plant import PlantConfig
from wastewatch.points import Store


def read_kpis(store: Store, plant: PlantConfig, start_ms: int, end_ms: int) -> PlantKpis:
    """Fetch batches, the state timeline and stored averages for the period and compute the KPIs."""
    return plant_kpis(
        plant.id, plant.zone, start_ms, end_ms, read_batches(store, plant.id, start_ms, end_ms),
        read_timeline(store, plant.id, start_ms, end_ms), read_averages(store, plant.id, start_ms, end_ms).values(),
    )


def read_specific_emissions(store: Store, plant: PlantConfig, start_ms: int, end_ms: int) -> dict[str, float | None]:
    """g/t per CEMS concentration over [start_ms, end_ms): mass from flow × concentration, tonnes from batches."""
    channels = Channels.of(plant)
    flow_sensor = next((s for s in plant.sensors if s.cems and s.quantity == "flow"), None)
    if flow_sensor is None:
        return {}
    tonnes = math.fsum(b.mass_kg for b in read_batches(store, plant.id, start_ms, end_ms)) / 1000
    flow = read_samples(store, plant.id, flow_sensor.id, start_ms, end_ms)
    out: dict[str, float | None] = {}
    for sid, sensor in sorted(channels.concentrations.items()):
        samples = read_samples(store, plant.id, sid, start_ms, end_ms)
        mass = emitted_mass_g(samples, flow, sensor.period_s, pair_tolerance_ms(sensor))
        out[sid] = specific_emission_g_t(mass, tonnes)
    return out
