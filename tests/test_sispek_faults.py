"""The uploader process (`wastewatch sispek run`) SIGKILLed between a send the server took and the
commit that records it: on restart the same outbox rows (same idempotency keys) are sent again, and
the server, which keeps one record per stack and time, counts each once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sispek.outbox import SispekOutbox
from tests.helpers import wait_until
from tests.sispek_standin import APP_ID, APP_SECRET, SispekStandin
from tests.test_sispek_upload import HOUR, write_readings
from wastewatch.relational import SqliteDatabase
from wastewatch.store.influx import InfluxStore

ROOT = Path(__file__).resolve().parents[1]


def _uploader(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen([sys.executable, "-m", "launch.cli", "sispek", "run"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=err)


@pytest.mark.fault
def test_killed_between_send_and_commit_the_record_is_sent_again_and_counted_once(influx_store: InfluxStore, tmp_path: Path) -> None:
    now_ms = int(time.time() * 1000)
    hour = now_ms - now_ms % HOUR
    write_readings(influx_store, hour - HOUR, hour)  # the last closed hour: 12 records
    db_path = tmp_path / "sispek.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTEWATCH_")}
    standin = SispekStandin().start()
    env.update({
        "WASTEWATCH_DATA_DIR": str(tmp_path / "data"), "WASTEWATCH_ALERTS_DB_URL": f"sqlite:///{db_path}",
        "WASTEWATCH_INFLUX_URL": influx_store.url, "WASTEWATCH_INFLUX_DATABASE": influx_store.database,
        "WASTEWATCH_SISPEK_ENABLED": "true", "WASTEWATCH_SISPEK_BASE_URL": standin.url,
        "WASTEWATCH_SISPEK_APP_ID": APP_ID, "WASTEWATCH_SISPEK_APP_SECRET": APP_SECRET,
        "WASTEWATCH_SISPEK_SETTLE_S": "0", "WASTEWATCH_SISPEK_RETRY_BASE_S": "1",
        "WASTEWATCH_SISPEK_LEASE_S": "2",  # the killed process's lease lapses after 2 s
    })
    log = tmp_path / "uploader.log"
    first = _uploader(env, log)
    killed: list[int] = []

    def kill_before_answering() -> None:
        if not killed:  # the batch is stored; the uploader dies before it reads the answer and commits
            os.kill(first.pid, signal.SIGKILL)
            killed.append(first.pid)

    standin.on_accept = kill_before_answering
    second = None
    try:
        assert first.wait(timeout=60) == -signal.SIGKILL, log.read_text()
        db = SqliteDatabase(db_path)
        outbox = SispekOutbox(db)
        before = outbox.rows()
        assert len(before) == 12 and {r.status for r in before} == {"pending"}
        assert outbox.attempts() == []  # nothing of the send was committed
        assert len(standin.accepted) == 12 and set(standin.deliveries.values()) == {1}

        standin.on_accept = None
        second = _uploader(env, log)
        wait_until(lambda: outbox.counts() == {"sent": 12}, timeout_s=60, what="the restarted uploader to send the 12 rows")
        after = outbox.rows()
        assert [(r.id, r.idempotency_key) for r in after] == [(r.id, r.idempotency_key) for r in before]  # the same rows and keys
        assert [a.ok for a in outbox.attempts()] == [True] * 12
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, log.read_text()
        db.close()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        standin.stop()
    assert standin.violations == []
    assert len(standin.accepted) == 12  # counted once
    assert set(standin.deliveries.values()) == {2}  # each record arrived twice, with the same stack and time
    assert len(standin.arrivals) == 24
