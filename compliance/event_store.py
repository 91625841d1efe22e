"""Abnormal-operation events (`wastewatch.compliance.events`) measured from the store's half-hours and
samples, kept as the `abnormal_event` measurement and read back for the summaries."""

from __future__ import annotations

from collections.abc import Iterable

from compliance.input_reader import read_channels, read_timeline
from compliance.result_store import read_averages
from wastewatch.compliance.abnormal import exceedance_runs, measure_events
from wastewatch.compliance.events import ABNORMAL_EVENT, EVENT_LOOKBACK_MS, HALF_HOUR_MS, StoredEvent, column_a_series, sample_spans
from wastewatch.compliance.pipeline import Channels, correct_channel, pair_tolerance_ms
from wastewatch.compliance.profiles import Profile
from wastewatch.compliance.regulatory import abnormal_intervals
from wastewatch.compliance.results import AverageRecord
from wastewatch.compliance.timeline import Interval
from wastewatch.plant import PlantConfig
from wastewatch.points import Store


def read_abnormal_events(
    store: Store, plant: PlantConfig, profile: Profile, half_hours: Iterable[AverageRecord], *, now_ms: int | None = None
) -> list[Interval]:
    """The profile's events from its stored half-hours, each measured from the samples; with `now_ms`,
    only samples before it are read and an event that reaches it (within a sample period) is running."""
    runs = abnormal_intervals(profile, half_hours)
    if not runs:
        return []
    series = column_a_series(plant, profile)
    channels = Channels.of(plant)
    sensor_ids = sorted({s.sensor.id for s, _ in series} | {c.id for c in (channels.o2, channels.h2o) if c is not None})
    pair_pad = max((pair_tolerance_ms(s.sensor) for s, _ in series), default=0)
    period_ms = max((round(s.sensor.period_s * 1000) for s, _ in series), default=0)
    sample_runs: list[Interval] = []
    for start_ms, end_ms in sample_spans(runs, now_ms):
        samples = read_channels(store, plant.id, sensor_ids, start_ms - pair_pad, end_ms + pair_pad)
        timeline = read_timeline(store, plant.id, start_ms, end_ms)
        effective = profile.averaging.effective_states

        def counts(time_ms: int, lo: int = start_ms, hi: int = end_ms) -> bool:
            return lo <= time_ms < hi and timeline.state_at(time_ms) in effective

        for s, limit_value in series:
            # over column A once validated: measured − CI > A, i.e. measured > A + CI (as the half-hours are judged)
            threshold = limit_value + profile.ci_value(s.pollutant)
            corrected = correct_channel(s, samples, channels)
            sample_runs += exceedance_runs(corrected, threshold, round(s.sensor.period_s * 1000), counts)
    return measure_events(runs, sample_runs, now_ms, period_ms)


def store_events(
    store: Store, plant: PlantConfig, profile: Profile, start_ms: int, end_ms: int, now_ms: int,
    computed: Iterable[AverageRecord] | None = None,
) -> list[StoredEvent]:
    """Measure the profile's events of [start_ms, end_ms) (from up to `EVENT_LOOKBACK_MS` before) and
    store them; stored events starting in the range that are no longer found become void. `computed`:
    the range's averages as a recomputation has just computed them (only the lookback is then read)."""
    if profile.abnormal_operation is None:
        return []
    first = start_ms - EVENT_LOOKBACK_MS
    horizon = min(end_ms, now_ms)
    if computed is None:
        halves = list(read_averages(store, plant.id, first, horizon, profile=profile.id, period="30min").values())
    else:
        halves = list(read_averages(store, plant.id, first, start_ms, profile=profile.id, period="30min").values())
        halves += [r for r in computed if r.profile == profile.id and r.period == "30min" and start_ms <= r.start_ms < horizon]
    closed = [r for r in halves if r.start_ms + HALF_HOUR_MS <= horizon]
    events = [
        StoredEvent(plant.id, profile.id, e.start_ms, now_ms if e.end_ms is None else e.end_ms, e.end_ms is None)
        for e in read_abnormal_events(store, plant, profile, closed, now_ms=now_ms)
    ]
    starts = {e.start_ms for e in events}
    stale = [e for e in read_stored_events(store, plant.id, profile.id, start_ms, end_ms) if e.start_ms not in starts]
    points = [e.to_point() for e in events] + [e.to_point(void=True) for e in stale]
    if points:
        store.write(points)
    return events


def read_stored_events(store: Store, plant_id: str, profile_id: str, start_ms: int, end_ms: int) -> list[StoredEvent]:
    """The stored events (void ones left out) that start in [start_ms, end_ms), in time order."""
    points = store.select(ABNORMAL_EVENT, where={"plant": plant_id, "profile": profile_id}, start_ms=start_ms, end_ms=end_ms)
    found = [e for e in (StoredEvent.from_point(p, plant_id, profile_id) for p in points) if e is not None]
    return sorted(found, key=lambda e: e.start_ms)
