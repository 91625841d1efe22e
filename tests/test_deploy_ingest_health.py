"""The ingest's health point (`ingest_health`), written to the real InfluxDB."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ingest.health import INGEST_HEALTH, IngestHealthWriter
from ingest.metrics import IngestMetrics
from ingest.spool import Spool
from ingest.worker import IngestWorker
from tests.helpers import publish_all, wait_until
from wastewatch.plant import PlantCatalog
from wastewatch.points import Point
from wastewatch.store.influx import InfluxStore


def test_health_point_counts_what_the_worker_did(settings_for, ingest_for, influx_store: InfluxStore, catalog: PlantCatalog, mosquitto) -> None:
    settings, ingest = settings_for(influx_store), ingest_for(health_interval_s=0.2)
    worker = IngestWorker(settings, ingest, catalog, influx_store)
    worker.start()
    health = IngestHealthWriter.for_worker(worker)
    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        good = json.dumps({"ts": int(time.time() * 1000) - 60_000, "value": 1012.5}).encode()
        publish_all(mosquitto.url, [("plants/kotim/sensors/t_secondary", good), ("plants/kotim/sensors/nope", good)])
        # Retained status messages left on the session broker by earlier tests may arrive too: count on
        # what the worker itself reports, not on the two messages alone.
        wait_until(lambda: worker.counts().written >= 1 and worker.counts().dead_lettered == 1, what="one written, one dead")
        wait_until(lambda: worker.counts().acked == worker.counts().received, what="all acknowledged")
        counts = worker.counts()
        health.start()
        rows = wait_until(lambda: influx_store.select(INGEST_HEALTH), what="a health point")
    finally:
        health.stop()
        worker.stop()
    point = rows[-1]
    assert point.tags == {"instance": ingest.client_id}
    assert point.fields["points_written"] == counts.written
    assert point.fields["dead_letters"] == 1
    assert point.fields["messages_received"] == counts.received >= 2
    assert point.fields["spool_batches"] == 0 and point.fields["lag_s"] == 0.0 and point.fields["spool_full"] == 0


def test_lag_grows_while_points_wait_in_the_spool(tmp_path: Path, influx_store: InfluxStore) -> None:
    now = [1_000.0]
    metrics = IngestMetrics()
    spool = Spool(tmp_path / "spool.sqlite3", 10 * 1024 * 1024)
    try:
        writer = IngestHealthWriter(influx_store, metrics, spool, "ingest-a", clock=lambda: now[0])
        assert writer.sample().lag_s == 0.0
        spool.append([Point("reading", {"plant": "kotim", "sensor": "o2"}, {"value": 9.0}, 1)])
        now[0] += 42.0
        health = writer.sample()
        assert health.lag_s == 42.0 and health.spool_batches == 1 and health.spool_points == 1 and health.spool_bytes > 0
        metrics.points_written.inc(5)  # the store took points again
        now[0] += 1.0
        assert writer.sample().lag_s == 0.0
        assert writer.write_once()
    finally:
        spool.close()
    stored = influx_store.select(INGEST_HEALTH, where={"instance": "ingest-a"})
    assert len(stored) == 1 and stored[0].fields["points_written"] == 5 and stored[0].time_ms == 1_043_000
