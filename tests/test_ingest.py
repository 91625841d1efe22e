"""The ingest worker against the real Mosquitto and InfluxDB: every reading once, every bad one reasoned."""

from __future__ import annotations

import json
import time

import httpx

from ingest.worker import IngestWorker
from tests.helpers import publish_all, wait_until
from tests.servers import free_port
from wastewatch.settings import DecodeSettings
from wastewatch.store.influx import InfluxStore

T0 = 1_795_000_000_000
STEP_MS = 100


def recent_ms() -> int:
    """A start three hours back: 100,000 readings 100 ms apart still end before now (none in the future)."""
    return int(time.time() * 1000) - 3 * 3_600_000


def reading_messages(n: int, sensor: str = "t_primary", start_ms: int = T0) -> list[tuple[str, bytes]]:
    return [
        (f"plants/kotim/sensors/{sensor}", json.dumps({"ts": start_ms + i * STEP_MS, "value": 800 + i % 100}).encode())
        for i in range(n)
    ]


def stored_count(store: InfluxStore, measurement: str = "reading", field: str = "value") -> int:
    rows = store.aggregate(measurement, field, "count")
    return int(rows[0].value) if rows else 0


def test_every_valid_reading_stored_once_and_bad_ones_dead_lettered(settings_for, ingest_for, influx_store, catalog):
    now_ms = T0 + 3_600_000
    worker = IngestWorker(settings_for(influx_store, decode=DecodeSettings(max_age_days=30)), ingest_for(), catalog, influx_store, clock=lambda: now_ms / 1000)
    worker.start()
    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        good = reading_messages(3000)
        duplicates = good[:200]  # a replay overwrites, it does not add
        batch = ("plants/kotim/batches", json.dumps({"ts": T0, "batch_id": "B1", "mass_kg": 66.5, "source": "rsud-murjani"}).encode())
        bad = [
            ("plants/kotim/sensors/t_primary", b"{oops"),
            ("plants/kotim/sensors/nonexistent", json.dumps({"ts": T0, "value": 1}).encode()),
            ("plants/kotim/sensors/o2", json.dumps({"ts": T0, "value": 99}).encode()),
            ("plants/unknown/sensors/o2", json.dumps({"ts": T0, "value": 9}).encode()),
        ]
        publish_all(settings_for().mqtt.url, good + bad + duplicates + [batch])
        wait_until(
            lambda: stored_count(influx_store) == 3000
            and stored_count(influx_store, "batch", "mass_kg") == 1
            and sum(worker.dead_letters.counts().values()) == 4,
            timeout_s=30,
            what="all stored",
        )
        assert worker.dead_letters.counts() == {
            "malformed_json": 1,
            "unknown_sensor": 1,
            "out_of_range": 1,
            "unknown_plant": 1,
        }
        letter = worker.dead_letters.list(reason="out_of_range")[0]
        assert letter.topic == "plants/kotim/sensors/o2" and b"99" in letter.payload
    finally:
        worker.stop()
    assert stored_count(influx_store) == 3000


def test_ingest_resumes_its_session_and_gets_what_was_published_while_it_was_away(settings_for, ingest_for, influx_store, catalog):
    settings = settings_for(influx_store, decode=DecodeSettings(max_age_days=30))
    clock = lambda: (T0 + 3_600_000) / 1000  # noqa: E731
    first = IngestWorker(settings, ingest_for(), catalog, influx_store, clock=clock)
    first.start()
    wait_until(first.connected.is_set)
    first.stop()
    publish_all(settings.mqtt.url, reading_messages(500))  # nobody is listening; the session queues them
    second = IngestWorker(settings, ingest_for(), catalog, influx_store, clock=clock)
    second.start()
    try:
        wait_until(lambda: stored_count(influx_store) == 500, timeout_s=30, what="queued messages stored")
    finally:
        second.stop()


def test_self_metrics_are_served_in_prometheus_format(settings_for, ingest_for, influx_store, catalog):
    port = free_port()
    settings = settings_for(influx_store, decode=DecodeSettings(max_age_days=30))
    worker = IngestWorker(settings, ingest_for(metrics_port=port), catalog, influx_store, clock=lambda: (T0 + 3_600_000) / 1000)
    worker.start()
    try:
        wait_until(worker.connected.is_set)
        publish_all(settings.mqtt.url, reading_messages(50) + [("plants/kotim/sensors/o2", b"[")])
        wait_until(lambda: stored_count(influx_store) == 50)

        def scrape() -> str | None:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            return text if "wastewatch_ingest_points_written_total 50.0" in text else None

        body = wait_until(scrape, what="metrics with 50 points written")
        assert 'wastewatch_ingest_dead_letters_total{reason="malformed_json"} 1.0' in body
        assert "wastewatch_ingest_spool_batches 0.0" in body
        assert "wastewatch_ingest_write_latency_seconds_count" in body
    finally:
        worker.stop()
