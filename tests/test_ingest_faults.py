"""No acknowledged reading is lost, none doubled: InfluxDB down, broker restarted, ingest SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from tests.helpers import publish_all, wait_until
from tests.test_ingest import STEP_MS, reading_messages, recent_ms, stored_count
from wastewatch.settings import BrokerSettings, InfluxSettings, Settings
from wastewatch.store.influx import InfluxStore

pytestmark = pytest.mark.fault


def test_influx_stopped_mid_stream_spools_then_drains_exactly(tmp_path, mosquitto, own_influx, catalog):
    store = InfluxStore(own_influx.url, "faults")
    settings = Settings(mqtt=BrokerSettings(url=mosquitto.url), data_dir=tmp_path, influx=InfluxSettings(url=own_influx.url))
    worker = IngestWorker(settings, IngestSettings(client_id="ingest-influx-down"), catalog, store)
    worker.start()
    try:
        wait_until(worker.connected.is_set)
        start = recent_ms()
        publish_all(mosquitto.url, reading_messages(2000, start_ms=start))
        wait_until(lambda: stored_count(store) == 2000, timeout_s=30)
        own_influx.stop()
        publish_all(mosquitto.url, reading_messages(3000, start_ms=start + 2000 * STEP_MS))
        wait_until(lambda: worker.counts().acked == 5000, timeout_s=60, what="acknowledged from the spool")
        assert worker.spool.points > 0
        own_influx.start()
        wait_until(lambda: worker.spool.batches == 0 and stored_count(store) == 5000, timeout_s=90, what="spool drained")
        assert worker.dead_letters.counts() == {}
    finally:
        worker.stop()
        store.close()


def test_broker_restarted_mid_stream_loses_nothing(tmp_path, own_broker, influx_store, catalog):
    settings = Settings(
        mqtt=BrokerSettings(url=own_broker.url), data_dir=tmp_path,
        influx=InfluxSettings(url=influx_store.url, database=influx_store.database),
    )
    worker = IngestWorker(settings, IngestSettings(client_id="ingest-broker-restart"), catalog, influx_store)
    worker.start()
    try:
        wait_until(worker.connected.is_set)
        start = recent_ms()
        publish_all(own_broker.url, reading_messages(20_000, start_ms=start))
        own_broker.restart()  # the ingest is still working through the queue: the broker keeps it on disk
        publish_all(own_broker.url, reading_messages(1000, start_ms=start + 20_000 * STEP_MS))
        wait_until(lambda: stored_count(influx_store) == 21_000, timeout_s=90, what="all readings after restart")
        assert (worker.metrics.registry.get_sample_value("wastewatch_ingest_reconnects_total") or 0) >= 2
    finally:
        worker.stop()


def _start_ingest(settings_env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env}
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "launch.cli", "ingest"], env=env, stdout=out, stderr=out)


def test_ingest_sigkilled_mid_batch_loses_and_doubles_nothing(tmp_path, own_broker, influx_store, catalog):
    env = {
        "WASTEWATCH_MQTT_URL": own_broker.url,
        "WASTEWATCH_INFLUX_URL": influx_store.url,
        "WASTEWATCH_INFLUX_DATABASE": influx_store.database,
        "WASTEWATCH_DATA_DIR": str(tmp_path / "data"),
        "WASTEWATCH_INGEST_CLIENT_ID": "ingest-sigkill",
        "WASTEWATCH_INGEST_BATCH_MAX_LINES": "500",
    }
    total = 30_000
    proc = _start_ingest(env, tmp_path / "ingest.log")
    try:
        # The first run subscribes; wait for its session before publishing.
        wait_until(lambda: b"subscribed" in (tmp_path / "ingest.log").read_bytes(), timeout_s=20)
        publisher = threading.Thread(target=publish_all, args=(own_broker.url, reading_messages(total, start_ms=recent_ms())))
        publisher.start()  # still publishing when the ingest is killed: the kill lands mid-stream
        wait_until(lambda: stored_count(influx_store) > 0, timeout_s=30, what="some written")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert stored_count(influx_store) < total, "killed too late to be mid-stream"
        proc = _start_ingest(env, tmp_path / "ingest.log")
        publisher.join(timeout=120)
        wait_until(lambda: stored_count(influx_store) == total, timeout_s=120, what="all stored after restart")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode == 0
    assert stored_count(influx_store) == total
