"""One plant across the demo's hand-off (issue 17): the history's model is the one the live simulator
carries on, so nothing jumps where the history stops and no batch id is used twice."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from launch.history import backfill_history
from simulators.model import PlantModel
from wastewatch.plant import PlantCatalog
from wastewatch.records import Batch
from wastewatch.store.sqlite import SqliteStore

ZONE = ZoneInfo("Asia/Jakarta")
HOUR_MS = 3_600_000


def test_the_live_simulator_carries_on_the_historys_plant(tmp_path: Path, catalog: PlantCatalog) -> None:
    plant = catalog.get("kotim")
    assert plant is not None
    start_ms = int(datetime(2026, 11, 28, 6, tzinfo=ZONE).timestamp() * 1000)
    seam_ms, end_ms = start_ms + 4 * HOUR_MS, start_ms + 6 * HOUR_MS
    carried = PlantModel(plant, 1, start_ms)
    store = SqliteStore(tmp_path / "history.sqlite3")
    try:
        backfill_history(store, catalog, plant, seed=1, start_ms=start_ms, end_ms=seam_ms, now_ms=round(time.time() * 1000), model=carried)
        history_ids = {str(p.fields["batch_id"]) for p in store.select("batch", where={"plant": plant.id})}
    finally:
        store.close()
    carried.announce_devices()
    live = [m for m in carried.step(end_ms - 1) if m.kind != "status"]
    uninterrupted = PlantModel(plant, 1, start_ms)
    straight = [m for m in uninterrupted.step(end_ms - 1) if m.kind != "status" and m.at_ms >= live[0].at_ms]
    # the same plant goes on: every reading and batch after the seam is the one it would have published anyway
    assert [(m.topic, m.payload) for m in live] == [(m.topic, m.payload) for m in straight]
    assert min(m.at_ms for m in live) - seam_ms < 10_000
    live_ids = {r.batch_id for m in live for r in m.records if isinstance(r, Batch)}
    assert history_ids and live_ids and not history_ids & live_ids
