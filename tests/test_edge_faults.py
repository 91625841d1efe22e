"""The edge under faults: the broker stopped while it polls, the edge SIGKILLed with a full queue and
restarted, devices that time out, answer an exception code or drop the connection, a full queue.
After recovery every polled sample is stored exactly once; a bad device delays no other."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.service import AlertsComponent
from alerts.settings import AlertSettings
from edge import service as edge_service
from edge.devices import parse_device_file
from edge.forwarder import health_topic
from edge.service import Edge
from edge.settings import EdgeSettings
from edge.sources import PushSink, Readout
from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from tests.edge_modbus import (
    CEMS_POINTS,
    CEMS_STATUS,
    PLC_POINTS,
    DroppingServer,
    ModbusDevice,
    ModbusTcpDevice,
    load_cems,
    load_plc,
    tcp_device,
)
from tests.helpers import wait_until
from tests.servers import MosquittoServer
from tests.test_edge_end_to_end import assert_stored_exactly_once, stored
from wastewatch.plant import bundled_plant_path, load_catalog
from wastewatch.runtime import free_port
from wastewatch.settings import BrokerSettings, InfluxSettings, Settings

pytestmark = pytest.mark.fault

PLC_SENSORS = ["t_primary", "t_secondary", "draft_primary", "burner_primary"]
CEMS_SENSORS = ["co", "o2", "flow"]


@pytest.fixture
def plc() -> Iterator[ModbusTcpDevice]:
    server = ModbusTcpDevice().start()
    load_plc(server.device)
    yield server
    server.stop()


@pytest.fixture
def cems() -> Iterator[ModbusTcpDevice]:
    server = ModbusTcpDevice().start()
    load_cems(server.device)
    yield server
    server.stop()


def queue_rows(path: Path) -> int:
    with sqlite3.connect(path, timeout=5) as db:
        return int(db.execute("SELECT COUNT(*) FROM samples").fetchone()[0])


def queue_accepted(path: Path) -> dict[str, int]:
    with sqlite3.connect(path, timeout=5) as db:
        rows = db.execute("SELECT name, value FROM counters WHERE name LIKE 'accepted:%'").fetchall()
    return {name.removeprefix("accepted:"): int(value) for name, value in rows}


def start_edge(env: dict[str, str], device_file: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "launch.cli", "edge", "run", str(device_file)],
                                env={**os.environ, **env}, stdout=out, stderr=out)


def test_broker_outage_and_a_sigkill_with_a_full_queue_lose_and_double_nothing(tmp_path, own_broker, influx_store, catalog, plc, cems):
    device_file = tmp_path / "edge.yaml"
    device_file.write_text(yaml.safe_dump({"plant": "kotim", "devices": [
        tcp_device("plc", plc.port, PLC_POINTS), tcp_device("cems", cems.port, CEMS_POINTS, status=CEMS_STATUS),
    ]}))
    queue = tmp_path / "queue.sqlite3"
    env = {"WASTEWATCH_MQTT_URL": own_broker.url, "WASTEWATCH_EDGE_QUEUE_PATH": str(queue), "WASTEWATCH_EDGE_ID": "edge-fault",
           "WASTEWATCH_EDGE_HEALTH_INTERVAL_S": "1", "WASTEWATCH_EDGE_BACKFILL_FRAMES": "50"}
    log = tmp_path / "edge.log"
    settings = Settings(mqtt=BrokerSettings(url=own_broker.url), data_dir=tmp_path / "data",
                        influx=InfluxSettings(url=influx_store.url, database=influx_store.database))
    worker = IngestWorker(settings, IngestSettings(client_id="ingest-edge-fault"), catalog, influx_store)
    worker.start()
    proc = start_edge(env, device_file, log)
    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        wait_until(lambda: len(stored(influx_store, "t_primary")) >= 5, timeout_s=30, what="the first samples stored")
        own_broker.stop()  # the plant's uplink goes down: the edge goes on polling into its queue
        wait_until(lambda: queue_rows(queue) >= 30, timeout_s=30, what="the queue growing while the broker is away")
        load_plc(plc.device, t_primary=912.0)
        wait_until(lambda: queue_rows(queue) >= 60, timeout_s=30)
        os.kill(proc.pid, signal.SIGKILL)  # and the edge dies with a queue full of unpublished samples
        proc.wait(timeout=10)
        left = queue_rows(queue)
        assert left >= 60, "the queue lost samples at the SIGKILL"
        proc = start_edge(env, device_file, log)  # restarted while the broker is still away
        wait_until(lambda: queue_rows(queue) > left, timeout_s=30, what="the restarted edge queues behind the old samples")
        own_broker.start()
        wait_until(lambda: any(v == 912.0 for _, v, _ in stored(influx_store, "t_primary")), timeout_s=90, what="the back-fill stored")
        wait_until(lambda: queue_rows(queue) < 20, timeout_s=60, what="the backlog replayed")
        proc.send_signal(signal.SIGTERM)  # a clean stop drains what is left
        assert proc.wait(timeout=30) == 0, log.read_text()[-3000:]
        assert queue_rows(queue) == 0
        accepted = queue_accepted(queue)
        assert sum(accepted.values()) >= left + 1
        wait_until(lambda: len(stored(influx_store, "t_primary")) == accepted["plc"]
                   and len(stored(influx_store, "co")) == accepted["cems"], timeout_s=60, what="every accepted sample stored")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        worker.stop()
    assert_stored_exactly_once(influx_store, accepted, {"plc": PLC_SENSORS, "cems": CEMS_SENSORS})
    assert "Traceback" not in log.read_text()


def _plant_with_devices(tmp_path: Path, devices: list[str]) -> Path:
    raw = yaml.safe_load(bundled_plant_path().read_text())
    raw["devices"] = devices
    path = tmp_path / "kotim.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return path


def _retained(url_port: int, topic: str) -> str:
    result = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(url_port), "-t", topic, "-C", "1", "-W", "10"],
                            capture_output=True, text=True, timeout=20)
    return result.stdout.strip()


def test_a_device_that_times_out_fails_or_drops_goes_offline_and_delays_no_other(tmp_path, own_broker, influx_store, plc):
    mosquitto = own_broker  # its own broker: no other test's edge publishes t_primary to this ingest
    plant_file = _plant_with_devices(tmp_path, ["plc", "cems", "weighbridge", "slow", "failing", "dropping"])
    catalog = load_catalog(plant_file)
    slow = ModbusTcpDevice(ModbusDevice(mode="timeout", delay_s=30)).start()
    failing = ModbusTcpDevice(ModbusDevice(mode="exception")).start()
    dropping = DroppingServer().start()
    period_s = 0.2
    bad = {"timeout_s": 0.5, "retries": 1}
    spec = parse_device_file({"plant": "kotim", "devices": [
        tcp_device("plc", plc.port, PLC_POINTS, period_s=period_s),
        tcp_device("slow", slow.port, [{"sensor": "scrubber_ph", "address": 0, "scale": 0.01}], period_s=period_s, **bad),
        tcp_device("failing", failing.port, [{"sensor": "scrubber_dp", "address": 0, "scale": 0.01}], period_s=period_s, **bad),
        tcp_device("dropping", dropping.port, [{"sensor": "t_stack", "address": 0, "type": "float32"}], period_s=period_s, **bad),
    ]}, catalog.get("kotim"))
    settings = Settings(mqtt=BrokerSettings(url=mosquitto.url), data_dir=tmp_path / "data", plant_config=plant_file,
                        influx=InfluxSettings(url=influx_store.url, database=influx_store.database))
    worker = IngestWorker(settings, IngestSettings(client_id=f"ingest-{tmp_path.name}"), catalog, influx_store)
    worker.start()
    edge = Edge(settings, EdgeSettings(queue_path=tmp_path / "queue.sqlite3", edge_id="edge-bad", health_interval_s=0.5), spec)
    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        edge.start()
        wait_until(lambda: all(edge.health.snapshot()["devices"][d]["errors"] >= 1 for d in ("slow", "failing", "dropping")),
                   timeout_s=30, what="every bad device has failed a poll")
        before = edge.health.snapshot()["devices"]["plc"]["samples"]
        window_s = 4.0
        time.sleep(window_s)  # the window over which the good device's samples are counted
        during = edge.health.snapshot()["devices"]["plc"]["samples"] - before
        # at its period it takes about 20; blocked behind one failing poll at a time (about 1.1 s each) it would take 4
        assert during >= window_s / period_s / 2, f"plc polled {during} times in {window_s} s: it waited on the bad devices"
        snapshot = edge.health.snapshot()["devices"]
        assert snapshot["plc"]["online"] is True and snapshot["plc"]["errors"] == 0
        assert "no answer within" in snapshot["slow"]["last_error"], snapshot["slow"]
        assert "exception code 4" in snapshot["failing"]["last_error"], snapshot["failing"]
        assert snapshot["dropping"]["last_error"], snapshot["dropping"]
        for device in ("slow", "failing", "dropping"):
            assert snapshot[device]["online"] is False and snapshot[device]["consecutive_errors"] >= 1
        assert dropping.accepted >= 1
        # the retained status and health follow the edge's own view (the health every 0.5 s): waited for, not raced
        for device, online in (("plc", "online"), ("slow", "offline"), ("failing", "offline"), ("dropping", "offline")):
            wait_until(lambda d=device, o=online: _retained(mosquitto.port, f"plants/kotim/status/{d}") == o, timeout_s=20,
                       what=f"{device} retained {online}")

        def retained_health() -> dict[str, Any]:
            return json.loads(_retained(mosquitto.port, health_topic("kotim", "edge-bad")) or "{}").get("devices", {})  # type: ignore[no-any-return]

        wait_until(lambda: retained_health().get("failing", {}).get("errors", 0) >= 1
                   and retained_health().get("plc", {}).get("online") is True, timeout_s=20, what="the retained health")
        wait_until(lambda: influx_store.query("SELECT last(online) FROM device_status WHERE device = 'slow'"), timeout_s=20,
                   what="the ingest stored slow's presence")
        rows = influx_store.query("SELECT last(online) FROM device_status GROUP BY device")
        last = {s["tags"]["device"]: s["values"][0][1] for s in rows}
        assert last["plc"] == 1 and last["slow"] == 0 and last["failing"] == 0 and last["dropping"] == 0, last
        assert worker.dead_letters.counts() == {}
        failing.device.mode = "normal"  # the failing device recovers: it comes back online and is sampled again
        wait_until(lambda: edge.health.snapshot()["devices"]["failing"]["online"] is True, timeout_s=20, what="failing back online")
        wait_until(lambda: _retained(mosquitto.port, "plants/kotim/status/failing") == "online", timeout_s=20, what="failing retained online")
        wait_until(lambda: edge.health.snapshot()["devices"]["failing"]["samples"] >= 3, timeout_s=20)
        edge.stop_polling()
        assert edge.drain(30)
        accepted = edge.queue.accepted_ever()
        assert set(accepted) == {"plc", "failing"}
        wait_until(lambda: len(stored(influx_store, "burner_primary")) == accepted["plc"]
                   and len(stored(influx_store, "scrubber_dp")) == accepted["failing"], timeout_s=30)
    finally:
        edge.stop()
        worker.stop()
        slow.stop()
        failing.stop()
        dropping.stop()
    assert_stored_exactly_once(influx_store, accepted, {"plc": PLC_SENSORS, "failing": ["scrubber_dp"]})


def test_a_full_queue_refuses_new_samples_counts_them_and_keeps_the_old(tmp_path, plc, catalog):
    spec = parse_device_file({"plant": "kotim", "devices": [tcp_device("plc", plc.port, PLC_POINTS, period_s=0.05)]}, catalog.get("kotim"))
    nobody = f"mqtt://127.0.0.1:{free_port()}"  # no broker: nothing leaves the queue
    settings = Settings(mqtt=BrokerSettings(url=nobody), data_dir=tmp_path / "data")
    edge = Edge(settings, EdgeSettings(queue_path=tmp_path / "queue.sqlite3", queue_max_rows=100), spec)
    edge.start()
    try:
        wait_until(lambda: edge.queue.refused >= 5, timeout_s=30, what="samples refused by the full queue")
        health = edge.health.snapshot()["queue"]
        assert health["depth"] == 100 and health["refused"] >= 5 and "refused" in health["when_full"]
        oldest = edge.queue.oldest(1)[0][1]
        assert oldest.ts_ms == min(s.ts_ms for _, s in edge.queue.oldest(100))
        value = edge.metrics.registry.get_sample_value("wastewatch_edge_queue_refused_total")
        assert value is not None and value >= 5
    finally:
        edge.stop()


class _Stubborn:
    """A push source that goes on for 2 s after it is cancelled, then sends one last change (as a driver that
    finishes its work before it takes a cancellation would)."""

    device, period_s, timeout_s, retries = "plc", 1.0, 1.0, 0

    def describe(self) -> str:
        return "a source slow to stop"

    async def connect(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def read(self) -> Readout:
        return Readout({})

    async def run(self, sink: PushSink) -> None:
        sink.subscribed(0.0)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(2.0)
            sink.changed(Readout({"t_primary": 851.0}))


def test_pollers_slow_to_stop_are_named_and_what_they_still_send_is_queued(tmp_path, plc, catalog, monkeypatch, caplog):
    """stop() waits STOP_TIMEOUT_S for the pollers; past it the edge says so and leaves the queue open, so a
    sample polled while stopping is still queued (closed under the writer, it would have been lost)."""
    monkeypatch.setattr(edge_service, "STOP_TIMEOUT_S", 1.0)
    spec = parse_device_file({"plant": "kotim", "devices": [tcp_device("plc", plc.port, PLC_POINTS)]}, catalog.get("kotim"))
    settings = Settings(mqtt=BrokerSettings(url=f"mqtt://127.0.0.1:{free_port()}"), data_dir=tmp_path / "data")
    slow = Edge(settings, EdgeSettings(queue_path=tmp_path / "queue.sqlite3"), spec)
    slow.sources = [_Stubborn()]
    caplog.set_level(logging.WARNING, logger="edge.service")
    slow.start()
    try:
        wait_until(lambda: slow.health.snapshot()["devices"]["plc"]["online"], what="the source subscribed")
        slow.stop()
        messages = [r.getMessage() for r in caplog.records]
        assert "still stopping after 0.5 s: poll-plc" in messages, messages
        assert any("did not stop within 1 s; the queue is left open" in m for m in messages), messages
        wait_until(lambda: slow.queue.depth == 1, what="the change sent while stopping, queued")
        slow._thread.join(5)
        assert not slow._thread.is_alive()
    finally:
        slow.queue.close()


def test_a_message_the_broker_refuses_keeps_its_samples_queued(tmp_path, cems, catalog):
    """MQTT 5 (the edge's default): a broker that refuses the edge's sensor messages (its ACL) answers a failure PUBACK; the
    samples it carried stay in the queue (counted, logged) instead of being deleted as delivered."""
    server = MosquittoServer()
    server.directory.chmod(0o755)
    passwd, acl = server.directory / "passwd", server.directory / "acl"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "edge", "secret-edge"], check=True, capture_output=True)
    acl.write_text("user edge\ntopic write plants/kotim/telemetry\ntopic write plants/kotim/status/+\n")
    for path in (passwd, acl):
        path.chmod(0o644)
    server.extra_config = f"allow_anonymous false\npassword_file {passwd}\nacl_file {acl}"
    server.start()
    load_cems(cems.device, state=1)  # co in maintenance: its readings go to plants/kotim/sensors/co, which the ACL refuses
    spec = parse_device_file({"plant": "kotim", "devices": [tcp_device("cems", cems.port, CEMS_POINTS, status=CEMS_STATUS)]}, catalog.get("kotim"))
    settings = Settings(mqtt=BrokerSettings(url=f"mqtt://edge:secret-edge@127.0.0.1:{server.port}"), data_dir=tmp_path / "data")
    edge = Edge(settings, EdgeSettings(queue_path=tmp_path / "queue.sqlite3"), spec)
    try:
        edge.start()
        wait_until(lambda: edge.health.broker_refusals >= 1, timeout_s=20, what="a refused message")
        first = edge.queue.oldest(1)[0][1]
        assert first.status == {"co": "maintenance"}
        wait_until(lambda: edge.health.broker_refusals >= 2, timeout_s=30, what="offered again and refused again")
        assert edge.queue.depth == edge.queue.accepted, "refused samples were deleted as if delivered"
        assert edge.queue.oldest(1)[0][1] == first
        assert edge.health.snapshot()["broker_refusals"] >= 2
        assert edge.forwarder.protocol == "5"
    finally:
        edge.stop()
        server.cleanup()


def test_a_cems_analyser_that_stops_answering_raises_the_no_data_alert_and_clears_when_it_answers(
    tmp_path, mosquitto, influx_store, catalog, plc, cems,
):
    """The whole path an agency officer relies on: the edge's poll of the CEMS fails, its status goes
    offline on MQTT, the running alert worker raises `cems_no_data` (the bundled rule), and the alert
    clears once the analyser answers again; the PLC keeps its period meanwhile."""
    spec = parse_device_file({"plant": "kotim", "devices": [
        tcp_device("plc", plc.port, PLC_POINTS), tcp_device("cems", cems.port, CEMS_POINTS, status=CEMS_STATUS),
    ]}, catalog.get("kotim"))
    settings = Settings(mqtt=BrokerSettings(url=mosquitto.url), data_dir=tmp_path / "data",
                        influx=InfluxSettings(url=influx_store.url, database=influx_store.database))
    alerts = AlertsComponent(settings, AlertSettings(client_id=f"alerts-{tmp_path.name}", routes="operators=log", tick_interval_s=0.5),
                             catalog, influx_store, scheduler=False)
    edge = Edge(settings, EdgeSettings(queue_path=tmp_path / "queue.sqlite3", edge_id=f"edge-{tmp_path.name}"), spec)
    alerts.start()
    try:
        wait_until(alerts.worker.connected.is_set, what="alert worker subscribed")
        edge.start()
        wait_until(lambda: edge.health.snapshot()["devices"]["cems"]["samples"] >= 2, timeout_s=30, what="the CEMS polled")
        cems.device.mode, cems.device.delay_s = "timeout", 30  # the analyser stops answering
        alert = wait_until(lambda: alerts.lifecycle.alerts.active("kotim", "cems_no_data", "cems"), timeout_s=60,
                           what="cems_no_data raised by the alert worker")
        assert "device cems reports offline" in alert.message, alert.message
        plc_before = edge.health.snapshot()["devices"]["plc"]["samples"]
        # the PLC is polled on while the CEMS is silent (no count: a bound on it would be a timing assert)
        wait_until(lambda: edge.health.snapshot()["devices"]["plc"]["samples"] > plc_before, timeout_s=30, what="the PLC polled on")
        cems.device.mode = "normal"
        wait_until(lambda: alerts.lifecycle.alerts.active("kotim", "cems_no_data", "cems") is None, timeout_s=60,
                   what="the alert cleared once the CEMS answers")
    finally:
        edge.stop()
        alerts.stop()
