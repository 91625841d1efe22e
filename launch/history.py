"""Plant history for the demo: simulated past days written into the store, then judged.

`wastewatch demo` opens with the last days of history (`--backfill 30`: a month), so the API's
summaries and the evaluator report have something to show at once. A month is about 2.6 million readings; through
the embedded broker that would take most of an hour, so the simulator's messages go through the
ingest's own decoder (the same records, the same points) straight into the store. The operating
state comes from the alert worker's state machine over those records, as the live worker derives
it, the compliance engine then recomputes every day of the range, as after any late data, and
the daily roll-ups that the summaries read are built.
History raises no alerts: the alert worker only judges what arrives live.

A restarted demo writes only the time since the store's newest data (`plan_history`): written again,
the past would be a second plant's, its batches at other times counted as more waste burnt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from alerts.plant_state import PlantSignals, PlantState, PlantStateConfig, observe_signal, settle, state_point
from api.summaries.rollup import rollup
from compliance.jobs import ComplianceJobs
from simulators.model import PlantModel, iter_messages
from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.operating_state import OperatingState
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Point, Store
from wastewatch.records import BATCH, PLANT_STATE, READING, Batch, Reading, SimulatedHistory

logger = logging.getLogger(__name__)

WRITE_BATCH = 20_000
CHUNK_S = 6 * 3600.0
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    """The simulated past to write, [start_ms, end_ms), and where the stored plant stood at its start."""

    start_ms: int
    end_ms: int
    resumed: bool
    """The store held this plant up to `start_ms` already (a restarted demo): only the gap is written."""
    state: PlantState
    signals: PlantSignals
    last_batch: Batch | None
    """The newest stored batch, which the new model numbers on from."""


def plan_history(store: Store, plant: PlantConfig, *, days: int, now_ms: int) -> HistoryPlan:
    """The last `days` days up to `now_ms`, less what the store already holds of `plant`."""
    if days < 1:
        raise ValueError(f"history must cover at least one day, got {days}")
    where = {"plant": plant.id}
    newest = [p.time_ms for m, f in ((READING, "value"), (BATCH, "mass_kg")) for p in store.latest(m, f, where=where)]
    start_ms, resumed = now_ms - days * DAY_MS, False
    if newest and max(newest) >= start_ms:
        start_ms, resumed = max(newest) + 1, True
    last_batch = _newest_batch(store, plant)
    signals = PlantSignals(last_batch_ms=last_batch.time_ms if last_batch else None)
    state = PlantState(plant=plant.id, operating=OperatingState.COLD, since_ms=start_ms)
    stored_state = store.latest(PLANT_STATE, "state", where=where) if resumed else []
    if stored_state:  # the plant goes on in the state it was left in, not from a cold start
        point = stored_state[0]
        state = PlantState(plant=plant.id, operating=OperatingState(str(point.fields["state"])), since_ms=point.time_ms)
    return HistoryPlan(start_ms, max(start_ms, now_ms), resumed, state, signals, last_batch)


def _newest_batch(store: Store, plant: PlantConfig) -> Batch | None:
    newest = store.latest(BATCH, "mass_kg", where={"plant": plant.id})
    if not newest:
        return None
    point = store.select(BATCH, where={"plant": plant.id}, start_ms=newest[0].time_ms)[-1]
    manifest = point.fields.get("manifest_no")
    return Batch(
        plant.id, str(point.fields["batch_id"]), point.time_ms, float(point.fields["mass_kg"]),
        point.tags.get("source", ""), point.tags.get("waste_code"), str(manifest) if manifest is not None else None,
    )


@dataclass(frozen=True, slots=True)
class HistoryProgress:
    phase: str  # "readings" or "compliance"
    sim_ms: int
    points: int


@dataclass(frozen=True, slots=True)
class HistorySummary:
    start_ms: int
    end_ms: int
    points: int
    rejected: int
    state_changes: int
    averages: int
    seconds: float


def backfill_history(
    store: Store,
    catalog: PlantCatalog,
    plant: PlantConfig,
    *,
    seed: int,
    start_ms: int,
    end_ms: int,
    now_ms: int,
    on_progress: Callable[[HistoryProgress], None] | None = None,
    model: PlantModel | None = None,
    state: PlantState | None = None,
    signals: PlantSignals | None = None,
) -> HistorySummary:
    """Simulate [start_ms, end_ms) of `plant` into `store`, with its operating states and compliance results.

    Pass `model` (built for `plant`, `seed` and `start_ms`) to carry the same plant on afterwards: the
    demo's live simulator goes on from where the history ends, one plant with one batch count. `state`
    and `signals` (a `HistoryPlan`'s) go on from a stored plant; unset, it starts cold."""
    started = time.monotonic()
    limits = DecodeLimits(max_payload_bytes=1 << 20, max_age_ms=now_ms - start_ms + 86_400_000, max_future_ms=300_000)
    carried_on = model is not None  # then what is still queued at `end_ms` is the live run's to publish
    if model is None:
        model = PlantModel(plant, seed, start_ms)
    config, signals = PlantStateConfig(), signals or PlantSignals()
    state = state or PlantState(plant=plant.id, operating=OperatingState.COLD, since_ms=start_ms)
    pending: list[Point] = []
    written = rejected = changes = 0
    for chunk in iter_messages(model, end_ms, CHUNK_S, finish=not carried_on):
        for message in chunk:
            decoded = decode_message(message.topic, message.payload, catalog, now_ms, limits)
            rejected += len(decoded.rejections)
            for record in decoded.records:
                pending.append(record.to_point())
                if isinstance(record, (Reading, Batch)):
                    signals = observe_signal(signals, record, record.time_ms, config)
                    state, transitions = settle(state, signals, record.time_ms, config)
                    pending += [state_point(t) for t in transitions]
                    changes += len(transitions)
        if len(pending) >= WRITE_BATCH or not chunk:
            store.write(pending)
            written, pending = written + len(pending), []
        if on_progress is not None and chunk:
            on_progress(HistoryProgress("readings", chunk[-1].at_ms, written + len(pending)))
    store.write(pending + [SimulatedHistory(plant.id, start_ms, end_ms, seed).to_point()])  # the report says it is simulated
    written += len(pending)
    if on_progress is not None:
        on_progress(HistoryProgress("compliance", end_ms, written))
    report = ComplianceJobs(store, clock_ms=lambda: now_ms).recompute(plant, start_ms, end_ms, reason="demo_backfill")
    rollup(store, plant, start_ms, end_ms, now_ms=now_ms)  # the daily roll-ups the summaries read, as the day job keeps them
    summary = HistorySummary(start_ms, end_ms, written, rejected, changes, len(report.averages), time.monotonic() - started)
    logger.info(
        "history back-filled plant=%s points=%s state_changes=%s averages=%s seconds=%.1f",
        plant.id, summary.points, summary.state_changes, summary.averages, summary.seconds,
    )
    return summary
