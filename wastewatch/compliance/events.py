"""Abnormal-operation events read from the store at the resolution of the data: the stored half-hours
over column A say that there is an event (`regulatory.abnormal_intervals`), the plant's validated
CEMS samples around them say when it began and ended (`abnormal.measure_events`).

The jobs keep the events they measure as a measurement, so summaries count hours without samples:

    abnormal_event   tags plant, profile; time = the event's start
                     fields end_ms (as far as measured), duration_ms, running, void

A recomputation that no longer finds an event starting at a stored time overwrites it as void.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wastewatch.compliance.abnormal import exceedance_runs, measure_events
from wastewatch.compliance.pipeline import Channels, Series, correct_channel, pair_tolerance_ms, plan_series
from wastewatch.compliance.profiles import Profile
from wastewatch.compliance.reader import read_channels, read_timeline
from wastewatch.compliance.regulatory import abnormal_intervals
from wastewatch.compliance.results import AverageRecord, read_averages
from wastewatch.compliance.timeline import Interval
from wastewatch.plant import PlantConfig
from wastewatch.points import FieldValue, Point, Store

ABNORMAL_EVENT = "abnormal_event"
EVENT_LOOKBACK_MS = 86_400_000
"""An event measured for a range may have begun this long before it (its start is kept exactly)."""

HALF_HOUR_MS = 1_800_000
SAMPLE_PAD_MS = HALF_HOUR_MS
"""Samples are read this far around an event's half-hours: an exceedance that began earlier than that
would have put the half-hour before over column A too."""


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
    for start_ms, end_ms in _read_spans(runs, now_ms):
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


def column_a_series(plant: PlantConfig, profile: Profile) -> list[tuple[Series, float]]:
    """The half-hour series of every pollutant with a column A limit that the plant measures, with that limit."""
    found: list[tuple[Series, float]] = []
    for s in plan_series(plant, [profile]):
        limit = profile.limit(s.pollutant, "A100")
        if s.period == "30min" and limit is not None:
            found.append((s, limit.value))
    return found


def _read_spans(runs: Sequence[Interval], now_ms: int | None) -> list[tuple[int, int]]:
    """The padded spans around the half-hour runs, overlapping ones joined (one read each)."""
    spans: list[tuple[int, int]] = []
    for run in runs:
        start, end = run.start_ms - SAMPLE_PAD_MS, (run.end_ms or run.start_ms) + SAMPLE_PAD_MS
        if now_ms is not None:
            end = min(end, now_ms)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One stored event: [start_ms, end_ms), measured as far as `end_ms` while it runs."""

    plant: str
    profile: str
    start_ms: int
    end_ms: int
    running: bool

    def overlap_ms(self, start_ms: int, end_ms: int) -> int:
        return max(0, min(self.end_ms, end_ms) - max(self.start_ms, start_ms))


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
    points = [_event_point(e, void=False) for e in events] + [_event_point(e, void=True) for e in stale]
    if points:
        store.write(points)
    return events


def read_stored_events(store: Store, plant_id: str, profile_id: str, start_ms: int, end_ms: int) -> list[StoredEvent]:
    """The stored events (void ones left out) that start in [start_ms, end_ms), in time order."""
    found: list[StoredEvent] = []
    for p in store.select(ABNORMAL_EVENT, where={"plant": plant_id, "profile": profile_id}, start_ms=start_ms, end_ms=end_ms):
        end = p.fields.get("end_ms")
        if p.fields.get("void") is True or isinstance(end, bool) or not isinstance(end, (int, float)):
            continue
        found.append(StoredEvent(plant_id, profile_id, p.time_ms, int(end), p.fields.get("running") is True))
    return sorted(found, key=lambda e: e.start_ms)


def _event_point(event: StoredEvent, *, void: bool) -> Point:
    fields: dict[str, FieldValue] = {
        "end_ms": int(event.end_ms), "duration_ms": 0 if void else int(event.end_ms - event.start_ms),
        "running": event.running and not void, "void": void,
    }
    return Point(ABNORMAL_EVENT, {"plant": event.plant, "profile": event.profile}, fields, event.start_ms)
