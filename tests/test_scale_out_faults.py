"""Scale-out and misconfiguration faults of the ingest, as processes on the real Mosquitto and InfluxDB.

Every message is published once with a distinct timestamp, so the stored count equals the published
count exactly when nothing was lost; a redelivered message overwrites its own point, never adds one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.helpers import publish_all, wait_until
from tests.servers import MosquittoServer, free_port
from tests.test_ingest import reading_messages, recent_ms, stored_count
from wastewatch.store.influx import InfluxStore

pytestmark = pytest.mark.fault


@dataclass
class IngestProcess:
    """One `wastewatch ingest` process with its own data directory, log and metrics port."""

    env: dict[str, str]
    log: Path
    metrics_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> IngestProcess:
        env = {**os.environ, **self.env, "WASTEWATCH_METRICS_PORT": str(self.metrics_port)}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "launch.cli", "ingest"], env=env, stdout=out, stderr=out)
        return self

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.terminate()
        return self.proc.wait(timeout=30)

    def points_written(self) -> float:
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith("wastewatch_ingest_points_written_total "):
                return float(line.split()[1])
        return 0.0


def ingest_env(broker: MosquittoServer, store: InfluxStore, data_dir: Path, client_id: str, **extra: str) -> dict[str, str]:
    return {
        "WASTEWATCH_MQTT_URL": broker.url,
        "WASTEWATCH_INFLUX_URL": store.url,
        "WASTEWATCH_INFLUX_DATABASE": store.database,
        "WASTEWATCH_DATA_DIR": str(data_dir),
        "WASTEWATCH_INGEST_CLIENT_ID": client_id,
        "WASTEWATCH_INGEST_BATCH_MAX_LINES": "500",
        **extra,
    }


def test_three_shared_workers_store_every_message_once_when_one_is_killed_mid_stream(tmp_path, own_broker, influx_store):
    workers = [
        IngestProcess(
            ingest_env(own_broker, influx_store, tmp_path / f"data{i}", f"ingest-{i}", WASTEWATCH_INGEST_SHARED_GROUP="ingest"),
            tmp_path / f"ingest{i}.log",
        ).start()
        for i in range(3)
    ]
    total = 30_000
    try:
        for worker in workers:
            wait_until(lambda w=worker: "subscribed" in w.log_text(), timeout_s=20, what=f"{worker.log.name} subscribed")
        publisher = threading.Thread(target=publish_all, args=(own_broker.url, reading_messages(total, start_ms=recent_ms())))
        publisher.start()
        wait_until(lambda: stored_count(influx_store) > 3000, timeout_s=60, what="some written")
        workers[1].kill()
        assert stored_count(influx_store) < total, "killed too late to be mid-stream"
        workers[1].start()  # a supervisor restarts it with the same client id: its session holds its share
        publisher.join(timeout=120)
        wait_until(lambda: stored_count(influx_store) == total, timeout_s=120, what="every message stored")
        # The load was shared: each surviving worker wrote part of it, and none wrote everything.
        written = [workers[0].points_written(), workers[2].points_written()]
        assert all(0 < n < total for n in written), written
    finally:
        codes = [worker.stop() for worker in workers]
    assert codes == [0, 0, 0]
    assert stored_count(influx_store) == total


def test_the_same_client_id_started_twice_loses_nothing_and_says_why(tmp_path, own_broker, influx_store):
    env = ingest_env(own_broker, influx_store, tmp_path / "data-a", "ingest-twin")
    first = IngestProcess(env, tmp_path / "a.log").start()
    second = IngestProcess({**env, "WASTEWATCH_DATA_DIR": str(tmp_path / "data-b")}, tmp_path / "b.log")
    total = 10_000
    try:
        wait_until(lambda: "subscribed" in first.log_text(), timeout_s=20, what="first subscribed")
        second.start()  # a misconfigured second copy: the broker hands the session back and forth
        publish_all(own_broker.url, reading_messages(total, start_ms=recent_ms()))
        wait_until(lambda: stored_count(influx_store) == total, timeout_s=120, what="every message stored")
        wait_until(
            lambda: "same client id" in first.log_text() + second.log_text(), timeout_s=30, what="the takeover named in a log"
        )
    finally:
        first.stop()
        second.stop()
    assert stored_count(influx_store) == total
