"""The alert worker on PostgreSQL with the real broker: workers partitioned by plant, each
subscribed to its own plants only; and a standby that takes a killed owner's plant lease and
session over, so the alert still fires once, on time."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from alerts import RuleState
from alerts.clock import DataClock
from alerts.leases import Leases, plant_lease
from alerts.schema import create_schema
from alerts.service import AlertsComponent
from alerts.store import AlertStore
from tests.alert_receivers import WebhookReceiver
from tests.helpers import plant_twin, publish_all, wait_until
from tests.test_alert_worker import RULES, SECRET, alert_settings, reading
from wastewatch.plant import bundled_plant_path, load_catalog
from wastewatch.relational import connect_url

_numbers = itertools.count(1)
STATE_KEY = "kotim/t_secondary_low/t_secondary"


@pytest.fixture
def pg_url(postgres) -> Iterator[str]:  # type: ignore[no-untyped-def]
    name = f"alerts_worker_{next(_numbers)}"
    yield postgres.create_database(name)
    postgres.drop_database(name)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(SECRET).start()
    yield server
    server.stop()


def two_plants(tmp_path: Path) -> tuple[Path, Path]:
    """A plant folder (Kotim and a copy named katingan) and a rule folder (the test rule for each)."""
    plants, rules = tmp_path / "plants", tmp_path / "rules"
    plants.mkdir()
    rules.mkdir()
    kotim = bundled_plant_path().read_text()
    (plants / "kotim.yaml").write_text(kotim)
    (plants / "katingan.yaml").write_text(plant_twin(kotim, "katingan"))
    (rules / "kotim.yaml").write_text(RULES)
    (rules / "katingan.yaml").write_text(RULES.replace("plant: kotim", "plant: katingan"))
    return plants, rules


def test_workers_partitioned_by_plant_each_evaluate_and_notify_only_their_own(
    settings_for, tmp_path, receiver, mosquitto, pg_url
):  # type: ignore[no-untyped-def]
    plants, rules = two_plants(tmp_path)
    catalog = load_catalog(plants)
    t0 = (round(datetime.now().timestamp()) - 3600) * 1000
    components = {
        plant: AlertsComponent(
            *alert_settings(settings_for, tmp_path, receiver, shared={"plant_config": plants, "alerts_db_url": pg_url},
                            rules_file=rules, plants=[plant], client_id=f"alerts-{tmp_path.name}"),
            catalog, clock=DataClock(), scheduler=False,
        )
        for plant in ("kotim", "katingan")
    }
    for component in components.values():
        component.start()
    try:
        for component in components.values():
            wait_until(component.worker.connected.is_set, what="subscribed")
        messages = []
        for plant in ("kotim", "katingan"):
            messages += [(f"plants/{plant}/sensors/t_secondary", json.dumps({"ts": t0 + i * 30_000, "value": 950}).encode())
                         for i in range(4)]
        publish_all(mosquitto.url, messages, client_id=f"pub-{tmp_path.name}")
        for component in components.values():
            wait_until(lambda c=component: c.worker.counts["processed"] >= 4, what="messages processed")
        wait_until(lambda: len(receiver.requests) == 2, what="one webhook per plant")
    finally:
        for component in components.values():
            component.stop()
    for plant, component in components.items():
        # each saw only its own plant's four readings, and owns only its own plant
        assert component.worker.counts["received"] == 4 and component.worker.owned == {plant}
        assert {rs.plant for rs in component.worker.rulesets} == {"kotim", "katingan"}
        assert [r.plant for r in component.worker.engine.book.rules] == [plant]
    db = connect_url(pg_url)
    try:
        alerts = AlertStore(db).list_alerts()
    finally:
        db.close()
    assert sorted((a.plant, a.raised_at_ms) for a in alerts) == [("katingan", t0 + 60_000), ("kotim", t0 + 60_000)]
    assert sorted((r.body["plant"], r.body["kind"]) for r in receiver.requests) == [("katingan", "raised"), ("kotim", "raised")]


WORKER_PROCESS = """
import sys, threading
from pathlib import Path
from alerts.service import AlertsComponent
from alerts.settings import AlertSettings
from wastewatch.settings import Settings

clock_file = Path(sys.argv[1])
component = AlertsComponent(Settings(), AlertSettings(), clock=lambda: float(clock_file.read_text()))
component.start()
print("started " + ",".join(sorted(component.worker.owned)) if component.worker.connected.wait(30) else "not connected",
      flush=True)
threading.Event().wait()
"""


def start_worker(env: dict[str, str], clock_file: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WORKER_PROCESS, str(clock_file)], env=env, stdout=subprocess.PIPE,
                            text=True)


def kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    if process.stdout is not None:
        process.stdout.close()


def test_a_standby_takes_over_from_a_killed_owner_and_the_alert_fires_once_on_time(
    settings_for, tmp_path, receiver, mosquitto, pg_url
):  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    t0 = (round(datetime.now().timestamp()) - 3600) * 1000
    clock_file = tmp_path / "clock"
    clock_file.write_text(str(t0 / 1000))
    env = {**os.environ, **{f"WASTEWATCH_{k.upper()}": str(v) for k, v in {
        "mqtt_url": mosquitto.url, "data_dir": tmp_path / "data", "alerts_rules_file": rules, "alerts_db_url": pg_url,
        "alerts_client_id": f"alerts-{tmp_path.name}", "alerts_routes": "operators=log;agency=webhook",
        "alerts_webhook_url": receiver.url, "alerts_webhook_secret": SECRET, "alerts_escalation_after_min": 0,
        "alerts_tick_interval_s": 0.5, "alerts_lease_s": 1.5, "alerts_retry_base_s": 0.05,
    }.items()}}
    db = connect_url(pg_url)
    create_schema(db)
    states, leases = AlertStore(db), Leases(db, "observer", 1)

    def saved_value() -> float | None:
        text = states.load_states().get(STATE_KEY)
        return RuleState.model_validate_json(text[1]).leaves["c"].value if text else None

    def lease_owner() -> str | None:
        held = [lease.owner for lease in leases.all([plant_lease("kotim")])]
        return held[0] if held else None

    owner = start_worker(env, clock_file)
    standby: subprocess.Popen[str] | None = None
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "started kotim"
        first_owner = lease_owner()
        standby = start_worker(env, clock_file)
        assert standby.stdout is not None and standby.stdout.readline().strip() == "started"  # nothing free to claim
        publish_all(mosquitto.url, [reading(950, t0)], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: saved_value() == 950, what="first reading committed by the owner")
        clock_file.write_text(str((t0 + 30_000) / 1000))
        publish_all(mosquitto.url, [reading(940, t0 + 30_000)], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: saved_value() == 940, what="second reading committed by the owner")
        kill(owner)  # mid-tolerance, no clean shutdown: the lease is not released, it expires
        publish_all(mosquitto.url, [reading(930, t0 + 40_000)], client_id=f"pub-{tmp_path.name}")  # in the plant's session
        wait_until(lambda: lease_owner() not in (None, first_owner), timeout_s=15, what="the standby took the lease")
        wait_until(lambda: saved_value() == 930, timeout_s=15, what="the standby got the session's queued reading")
        assert states.list_alerts() == []
        clock_file.write_text(str((t0 + 90_000) / 1000))  # the standby's ticks walk the grid through t0 + 60 s
        (alert,) = wait_until(lambda: states.list_alerts(), timeout_s=15, what="alert raised")
        wait_until(lambda: len(receiver.requests) == 1, what="webhook")
    finally:
        kill(owner)
        if standby is not None:
            kill(standby)
        db.close()
    assert (alert.raised_at_ms, alert.first_seen_ms, alert.value, alert.occurrences) == (t0 + 60_000, t0, 930, 1)
    assert [(r.body["kind"], r.body["alert_id"]) for r in receiver.requests] == [("raised", alert.id)]
