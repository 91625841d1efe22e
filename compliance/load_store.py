"""Emission loads (`wastewatch.compliance.loads`) computed from the store and kept as measurements:
`emission_load` per day-basis window and `emission_load_day` per local day, beside the averages.

- A recomputation (the day job, late data) computes them in its own loop from the samples it has
  prefetched, the flow channel read with them (`load_sensor_ids`), and writes them with its results
  (`chunk_loads`, no I/O).
- The half-hour job calls `store_loads`, which reads the half-hour's samples itself and sums the day
  so far from the stored windows.

The windows' quality comes from the averages the job has just computed (or, without them, from the
stored ones). A recomputation writes a load only when it differs from the stored one (a rerun writes
nothing), and then overwrites its point: loads are derived numbers without an amendment record of
their own; the averages they follow carry the amendment when a recomputation changes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta

from compliance.dayruns import day_runs
from compliance.input_reader import read_channels, read_timeline
from compliance.result_store import read_averages
from wastewatch.compliance.loads import (
    EMISSION_LOAD,
    EMISSION_LOAD_DAY,
    DayLoad,
    LoadSeries,
    WindowLoad,
    WindowQuality,
    day_loads,
    plan_loads,
    window_loads,
)
from wastewatch.compliance.pipeline import pair_tolerance_ms
from wastewatch.compliance.profiles import Profile
from wastewatch.compliance.results import AverageRecord
from wastewatch.compliance.samples import Sample
from wastewatch.compliance.timeline import OperatingTimeline
from wastewatch.compliance.windows import day_bounds_ms, local_day, period_ms
from wastewatch.plant import PlantConfig
from wastewatch.points import Store


def store_loads(
    store: Store, plant: PlantConfig, profiles: Sequence[Profile], start_ms: int, end_ms: int, now_ms: int,
    computed: Iterable[AverageRecord] | None = None,
) -> list[WindowLoad]:
    """The loads of the windows closed in [start_ms, min(end_ms, now_ms)) and of the local days they
    are in, computed and written; `computed`: the range's averages as the job has just computed them."""
    planned = plan_loads(plant, profiles)
    horizon = min(end_ms, now_ms)
    if not planned or horizon <= start_ms:
        return []
    mine = {(s.profile.id, s.pollutant, s.series.period) for s in planned}
    by_series: dict[tuple[str, str, str], list[WindowQuality]] | None = None
    if computed is not None:
        by_series = {}
        for r in computed:
            if (r.profile, r.pollutant, r.period) in mine and start_ms <= r.start_ms < horizon:
                by_series.setdefault((r.profile, r.pollutant, r.period), []).append(WindowQuality(r.start_ms, r.quality))
    sensor_ids = load_sensor_ids(planned)
    pad = max(pair_tolerance_ms(s.series.sensor) for s in planned)
    found: list[WindowLoad] = []
    for first, last in day_runs(local_day(start_ms, plant.zone), local_day(horizon - 1, plant.zone)):
        lo = max(start_ms, day_bounds_ms(first, plant.zone)[0])
        hi = min(horizon, day_bounds_ms(last, plant.zone)[1])
        windows = _windows(store, plant, planned, by_series, lo, hi)
        if not any(windows):
            continue
        samples = read_channels(store, plant.id, sensor_ids, lo - pad, hi + pad)
        timeline = read_timeline(store, plant.id, lo, hi)
        chunk = [w for s, quality in zip(planned, windows) for w in window_loads(plant.id, s, samples, timeline, quality)]
        if chunk:
            store.write([w.to_point() for w in chunk])
        found += chunk
    if found:
        store.write([d.to_point() for d in _days(store, plant, found)])
    return found


def load_sensor_ids(planned: Sequence[LoadSeries]) -> list[str]:
    """The channels the planned loads are computed from (concentrations, flow, H2O when a factor is wet)."""
    return sorted({sid for s in planned for sid in s.sensor_ids})


def chunk_loads(
    plant: PlantConfig, planned: Sequence[LoadSeries], samples: Mapping[str, Sequence[Sample]], timeline: OperatingTimeline,
    computed: Iterable[AverageRecord], lo: int, hi: int,
) -> tuple[list[WindowLoad], list[DayLoad]]:
    """The loads of whole local days [lo, hi) a recomputation has just computed the averages of (windows
    closed by then only), and the days they sum to; no I/O."""
    mine = {(s.profile.id, s.pollutant, s.series.period) for s in planned}
    by_series: dict[tuple[str, str, str], list[WindowQuality]] = {}
    for r in computed:
        if (r.profile, r.pollutant, r.period) in mine and lo <= r.start_ms < hi:
            by_series.setdefault((r.profile, r.pollutant, r.period), []).append(WindowQuality(r.start_ms, r.quality))
    windows = [
        w for s in planned
        for w in window_loads(plant.id, s, samples, timeline, by_series.get((s.profile.id, s.pollutant, s.series.period), []))
    ]
    return windows, day_loads(windows, plant.zone)


def _windows(
    store: Store, plant: PlantConfig, planned: Sequence[LoadSeries],
    by_series: dict[tuple[str, str, str], list[WindowQuality]] | None, lo: int, hi: int,
) -> list[list[WindowQuality]]:
    """Each load series' closed windows starting in [lo, hi) with the pipeline's quality, in `planned`'s order."""
    out: list[list[WindowQuality]] = []
    for s in planned:
        length = period_ms(s.series.period)
        if by_series is not None:
            quality = [w for w in by_series.get((s.profile.id, s.pollutant, s.series.period), []) if lo <= w.start_ms < hi]
        else:
            stored = read_averages(store, plant.id, lo, hi, profile=s.profile.id, pollutant=s.pollutant, period=s.series.period)
            quality = [WindowQuality(r.start_ms, r.quality) for r in stored.values()]
        out.append([w for w in quality if w.start_ms + length <= hi])
    return out


def _days(store: Store, plant: PlantConfig, computed: Sequence[WindowLoad]) -> list[DayLoad]:
    """The days `computed` touches, each summed from its windows: the ones just computed and, for the
    rest of the day, the stored ones."""
    first = local_day(min(w.start_ms for w in computed), plant.zone)
    last = local_day(max(w.start_ms for w in computed), plant.zone)
    start, end = day_bounds_ms(first, plant.zone)[0], day_bounds_ms(last + timedelta(days=1), plant.zone)[0]
    merged = {(w.profile, w.pollutant, w.period, w.start_ms): w for w in read_window_loads(store, plant.id, start, end)}
    merged.update({(w.profile, w.pollutant, w.period, w.start_ms): w for w in computed})
    return day_loads(merged.values(), plant.zone)


def stored_loads(store: Store, plant: PlantConfig, start_ms: int, end_ms: int) -> frozenset[WindowLoad | DayLoad]:
    """Every stored window and day load starting in [start_ms, end_ms), to compare a recomputation's with."""
    return frozenset([*read_window_loads(store, plant.id, start_ms, end_ms), *read_day_loads(store, plant, start_ms, end_ms)])


def read_window_loads(store: Store, plant_id: str, start_ms: int, end_ms: int, **where: str) -> list[WindowLoad]:
    """Stored window loads starting in [start_ms, end_ms), optionally narrowed by tags, in time order."""
    points = store.select(EMISSION_LOAD, where={"plant": plant_id, **where}, start_ms=start_ms, end_ms=end_ms)
    return [WindowLoad.from_point(p) for p in points]


def read_day_loads(store: Store, plant: PlantConfig, start_ms: int, end_ms: int, **where: str) -> list[DayLoad]:
    """Stored day loads whose local midnight is in [start_ms, end_ms), optionally narrowed by tags."""
    points = store.select(EMISSION_LOAD_DAY, where={"plant": plant.id, **where}, start_ms=start_ms, end_ms=end_ms)
    return [DayLoad.from_point(p, plant.zone) for p in points]
