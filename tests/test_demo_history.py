"""The demo's history across a restart: the second run writes only the time since the store's newest
data, numbers its batches on from the stored ones, and goes on in the stored plant state."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from launch.history import backfill_history, plan_history
from simulators.model import PlantModel
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.store.sqlite import SqliteStore

ZONE = ZoneInfo("Asia/Jakarta")
HOUR_MS = 3_600_000


def _run(store: SqliteStore, catalog: PlantCatalog, plant: PlantConfig, now_ms: int, seed: int) -> None:
    """One demo start's history, as `launch.demo` plans and writes it."""
    plan = plan_history(store, plant, days=1, now_ms=now_ms)
    model = PlantModel(plant, seed, plan.start_ms)
    if plan.last_batch is not None:
        model.carry_on_batches(plan.last_batch)
    backfill_history(store, catalog, plant, seed=seed, start_ms=plan.start_ms, end_ms=plan.end_ms, now_ms=now_ms,
                     model=model, state=plan.state, signals=plan.signals)


def test_a_restarted_history_fills_only_the_gap_and_numbers_batches_on(tmp_path: Path, catalog: PlantCatalog) -> None:
    plant = catalog.get("kotim")
    assert plant is not None
    first_ms = int(datetime(2026, 11, 28, 12, tzinfo=ZONE).timestamp() * 1000)
    store = SqliteStore(tmp_path / "timeseries.sqlite3")
    try:
        _run(store, catalog, plant, first_ms, seed=1)
        first = [(p.time_ms, p.fields["batch_id"]) for p in store.select("batch", where={"plant": plant.id})]
        states_before = len(store.select("plant_state", where={"plant": plant.id}))
        # restarted two hours later, with another seed: another plant model, which must not rewrite the past
        _run(store, catalog, plant, first_ms + 2 * HOUR_MS, seed=2)
        batches = store.select("batch", where={"plant": plant.id})
        seam_states = store.select("plant_state", where={"plant": plant.id}, start_ms=first_ms)
    finally:
        store.close()
    assert [(p.time_ms, p.fields["batch_id"]) for p in batches if p.time_ms <= first[-1][0]] == first
    later = [p for p in batches if p.time_ms > first_ms]
    assert later, "the two hours after the restart are fed"
    ids = [str(p.fields["batch_id"]) for p in batches]
    assert len(ids) == len(set(ids))
    today = sorted(int(i.rsplit("-", 1)[1]) for i in ids if i.startswith(f"{plant.id}-20261128-"))
    assert today == list(range(1, len(today) + 1))  # counted on across the restart, no gap, no repeat
    # the plant burns on through the restart: no cold start written into its state history
    assert states_before > 0 and not [p.fields["state"] for p in seam_states]

