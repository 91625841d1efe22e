"""A standby taking over a killed owner's plant lease on a burning plant (issue 17, finding 1): the
owner started at 10:00 with the plant burning, the standby takes the lease and the plant's session at
noon; neither sends anything on a fault-free day. PostgreSQL, the real broker, worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from alerts.leases import Leases, plant_lease
from alerts.schema import create_schema
from alerts.store import AlertStore
from simulators import generate_messages
from tests.helpers import publish_all, wait_until
from tests.test_alert_postgres import pg_url
from tests.test_alert_worker import SECRET, morning_start_ms, receiver
from wastewatch.relational import connect_url

HOUR_MS = 3_600_000
WORKER_PROCESS = """
import threading
from alerts.service import AlertsComponent
from alerts.settings import AlertSettings
from wastewatch.settings import Settings

component = AlertsComponent(Settings(), AlertSettings())
component.start()
print("started " + ",".join(sorted(component.worker.owned)) if component.worker.connected.wait(30) else "not connected",
      flush=True)
threading.Event().wait()
"""


def start_worker(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WORKER_PROCESS], env=env, stdout=subprocess.PIPE, text=True)


def kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        kill(process)


def test_a_standby_taking_over_a_burning_plant_raises_nothing(
    tmp_path, receiver, mosquitto, pg_url, catalog, workers
):  # type: ignore[no-untyped-def]
    start_ms = morning_start_ms(2)  # 05:00
    generated = generate_messages(catalog.get("kotim"), seed=5, start_ms=start_ms, duration_s=8 * 3600)
    owner_part = [m for m in generated.messages if start_ms + 5 * HOUR_MS <= m.at_ms < start_ms + 7 * HOUR_MS]
    standby_part = [m for m in generated.messages if m.at_ms >= start_ms + 7 * HOUR_MS]
    env = {**os.environ, **{f"WASTEWATCH_{k.upper()}": str(v) for k, v in {
        "mqtt_url": mosquitto.url, "data_dir": tmp_path / "data", "alerts_db_url": pg_url,
        "alerts_client_id": f"alerts-{tmp_path.name}", "alerts_routes": "operators=log;agency=webhook",
        "alerts_webhook_url": receiver.url, "alerts_webhook_secret": SECRET, "alerts_escalation_after_min": 0,
        "alerts_tick_interval_s": 0.5, "alerts_lease_s": 1.5, "alerts_clock": "data",
    }.items()}}
    db = connect_url(pg_url)
    create_schema(db)
    store, leases = AlertStore(db), Leases(db, "observer", 1)

    def data_time_ms() -> int:
        # the data time of the last t_secondary reading the worker committed
        saved = store.load_states().get("kotim/t_secondary_low/t_secondary")
        return 0 if saved is None else (json.loads(saved[1])["leaves"].get("c", {}).get("time_ms") or 0)

    def lease_owner() -> str | None:
        held = [lease.owner for lease in leases.all([plant_lease("kotim")])]
        return held[0] if held else None

    def last_plc_ms(messages) -> int:  # type: ignore[no-untyped-def]
        return max(r.time_ms for m in messages for r in m.records if getattr(r, "sensor", None) == "t_secondary")

    try:
        owner = start_worker(env)
        workers.append(owner)
        assert owner.stdout is not None and owner.stdout.readline().strip() == "started kotim"
        first_owner = lease_owner()
        standby = start_worker(env)
        workers.append(standby)
        assert standby.stdout is not None and standby.stdout.readline().strip() == "started"
        publish_all(mosquitto.url, [(m.topic, m.payload) for m in owner_part], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: data_time_ms() >= last_plc_ms(owner_part), timeout_s=120, what="the owner's morning committed")
        kill(owner)  # no clean shutdown: the lease expires, the standby claims it
        publish_all(mosquitto.url, [(m.topic, m.payload) for m in standby_part], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: lease_owner() not in (None, first_owner), timeout_s=15, what="the standby took the lease")
        wait_until(lambda: data_time_ms() >= last_plc_ms(standby_part), timeout_s=120, what="the standby's hour committed")
        alerts = store.list_alerts(limit=100)
    finally:
        db.close()
    assert [(a.rule_id, a.message) for a in alerts] == [] and receiver.requests == []
