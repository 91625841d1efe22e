"""The edge end to end: pymodbus's own servers (TCP, and RTU over a pseudo-terminal pair) polled by the
edge, published through the real Mosquitto into `wastewatch ingest` and InfluxDB; every sample the
edge's queue accepted stored exactly once; `wastewatch edge check` prints what the devices hold."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from edge.devices import parse_device_file
from edge.forwarder import health_topic
from edge.service import Edge
from edge.settings import EdgeSettings
from ingest.worker import IngestWorker
from tests.edge_modbus import (
    CEMS_POINTS,
    CEMS_STATUS,
    PLC_POINTS,
    ModbusRtuDevice,
    ModbusTcpDevice,
    load_cems,
    load_plc,
    tcp_device,
)
from tests.helpers import wait_until
from wastewatch.runtime import free_port
from wastewatch.store.influx import InfluxStore


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


def stored(store: InfluxStore, sensor: str) -> list[tuple[int, float, str]]:
    """(time, value, status) of every stored reading of `sensor`."""
    series = store.query(f"SELECT value, status FROM reading WHERE sensor = '{sensor}'")
    return [(int(r[0]), float(r[1]), str(r[2])) for s in series for r in s["values"]]


def assert_stored_exactly_once(store: InfluxStore, accepted: dict[str, int], sensors: dict[str, list[str]]) -> None:
    """Each sensor has one point per sample its device's queue accepted, and a device's sensors share their timestamps."""
    for device, names in sensors.items():
        stamps = None
        for sensor in names:
            rows = stored(store, sensor)
            times = {t for t, _, _ in rows}
            assert len(rows) == len(times) == accepted[device], (sensor, len(rows), len(times), accepted[device])
            assert stamps is None or times == stamps, f"{sensor}: not the timestamps of the other sensors of {device}"
            stamps = times


def test_polled_values_are_stored_once_each_with_the_status_register_s_word(
    tmp_path, settings_for, ingest_for, influx_store, catalog, plc, cems, mosquitto,
):
    spec = parse_device_file(
        {"plant": "kotim", "devices": [tcp_device("plc", plc.port, PLC_POINTS), tcp_device("cems", cems.port, CEMS_POINTS, status=CEMS_STATUS)]},
        catalog.get("kotim"),
    )
    settings = settings_for(influx_store)
    worker = IngestWorker(settings, ingest_for(), catalog, influx_store)
    worker.start()
    metrics_port = free_port()
    edge = Edge(settings, EdgeSettings(queue_path=tmp_path / "queue.sqlite3", edge_id="edge-e2e", health_interval_s=0.5, metrics_port=metrics_port), spec)
    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        edge.start()
        wait_until(lambda: any(v == 850.5 for _, v, _ in stored(influx_store, "t_primary")), timeout_s=20, what="first value stored")
        load_plc(plc.device, t_primary=905.0, burner=False)  # the test changes the device's registers while it is polled
        load_cems(cems.device, co=44.5, state=1)  # the analyser goes into calibration: co is in maintenance
        wait_until(lambda: any(s == "maintenance" for _, _, s in stored(influx_store, "co")), timeout_s=20, what="maintenance stored")
        load_cems(cems.device, co=13.0, state=0)
        wait_until(lambda: any(v == 13.0 and s == "valid" for _, v, s in stored(influx_store, "co")), timeout_s=20, what="valid again")
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        assert re.search(r'^wastewatch_edge_polls_total\{device="cems"\} [1-9]', metrics, re.M), metrics
        assert re.search(r'^wastewatch_edge_device_online\{device="plc"\} 1', metrics, re.M)
        assert "wastewatch_edge_queue_depth" in metrics and 'wastewatch_edge_clock_jumps_total{direction="backward"} 0' in metrics
        edge.stop_polling()
        assert edge.drain(30), "the queue did not empty"
        accepted = edge.queue.accepted_ever()
        assert edge.queue.refused == 0
        wait_until(lambda: len(stored(influx_store, "o2")) == accepted["cems"], timeout_s=30, what="every cems sample stored")
        wait_until(lambda: len(stored(influx_store, "burner_primary")) == accepted["plc"], timeout_s=30, what="every plc sample stored")
        assert worker.dead_letters.counts() == {}  # the edge's health topic is not a data topic: the ingest never sees it
    finally:
        edge.stop()
        worker.stop()
    assert_stored_exactly_once(influx_store, accepted, {"plc": ["t_primary", "t_secondary", "draft_primary", "burner_primary"], "cems": ["co", "o2", "flow"]})
    values = {sensor: {v for _, v, _ in stored(influx_store, sensor)} for sensor in ("t_primary", "t_secondary", "draft_primary", "burner_primary", "flow")}
    assert values["t_primary"] == {850.5, 905.0}
    assert values["t_secondary"] == {1010.25}
    assert values["draft_primary"] == {-12.5}
    assert values["burner_primary"] == {0.0, 1.0}
    assert values["flow"] == {5800.0}
    co = stored(influx_store, "co")
    assert {(v, s) for _, v, s in co} >= {(12.5, "valid"), (44.5, "maintenance"), (13.0, "valid")}
    assert all(s == "maintenance" for _, v, s in co if v == 44.5)
    assert all(s == "valid" for _, _, s in stored(influx_store, "o2"))  # the status register covers co only
    status = influx_store.query("SELECT last(online) FROM device_status WHERE device = 'plc'")
    assert status, "the plc's presence was stored"
    health = edge.health.snapshot()
    assert health["devices"]["plc"]["online"] and health["devices"]["plc"]["errors"] == 0
    assert health["queue"]["depth"] == 0 and "edge clock" in health["timestamps"]
    assert health_topic("kotim", "edge-e2e") == "plants/kotim/edge/edge-e2e/health"


def _write(tmp_path: Path, document: dict[str, object]) -> Path:
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTEWATCH_")}
    return subprocess.run([sys.executable, "-m", "launch.cli", "edge", "check", str(path)], capture_output=True, text=True, timeout=60, env=env)


def test_edge_check_prints_what_each_mapped_value_reads_with_its_unit(tmp_path, plc, cems):
    load_cems(cems.device, state=2)  # malfunction
    path = _write(tmp_path, {"plant": "kotim", "devices": [tcp_device("plc", plc.port, PLC_POINTS), tcp_device("cems", cems.port, CEMS_POINTS, status=CEMS_STATUS)]})
    result = _check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"t_primary\s+850\.5 degC", out), out
    assert re.search(r"t_secondary\s+1010\.25 degC", out), out
    assert re.search(r"draft_primary\s+-12\.5 Pa", out), out
    assert re.search(r"burner_primary\s+1 bool", out), out
    assert re.search(r"co\s+12\.5 mg/Nm3\s+\(malfunction\)", out), out
    assert re.search(r"flow\s+5800 Nm3/h", out), out
    plc.stop()  # one device gone: the check names it and fails
    result = _check(path)
    assert result.returncode == 1
    assert re.search(r"^plc .*FAILED", result.stdout, re.M), result.stdout
    assert re.search(r"^cems .*ok", result.stdout, re.M), result.stdout
    assert "1 of 2 devices failed" in result.stderr
    assert "pymodbus" not in result.stderr and "Traceback" not in result.stderr, result.stderr  # the edge says it once, its way


@pytest.fixture
def serial_pair(tmp_path) -> Iterator[tuple[str, str]]:
    """Two pseudo-terminals joined by socat: a serial line between the edge and the RTU device."""
    socat = shutil.which("socat")
    if socat is None:
        pytest.fail("socat is missing: scripts/test.sh installs it (apt-get install socat)")
    a, b = str(tmp_path / "tty-edge"), str(tmp_path / "tty-device")
    proc = subprocess.Popen([socat, "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: os.path.exists(a) and os.path.exists(b), timeout_s=10, what="socat's pseudo-terminals")
        yield a, b
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def test_modbus_rtu_over_a_serial_line_is_polled_and_stored(tmp_path, serial_pair, settings_for, ingest_for, influx_store, catalog):
    edge_end, device_end = serial_pair
    # parity N: Linux pseudo-terminals refuse a second tcsetattr with parity set (EINVAL), and pyserial
    # sets the line twice; on a real RS-485 line the edge's parity E/O works the same way
    server = ModbusRtuDevice(device_end, unit_id=7, baud=19200, parity="N").start()
    load_cems(server.device, co=21.5)
    spec = parse_device_file({"plant": "kotim", "devices": [{
        "id": "cems", "protocol": "modbus_rtu", "serial_port": edge_end, "baud": 19200, "parity": "N", "stop_bits": 1,
        "unit_id": 7, "period_s": 0.3, "timeout_s": 1.0, "retries": 2, "points": CEMS_POINTS, "status": CEMS_STATUS,
    }]}, catalog.get("kotim"))
    settings = settings_for(influx_store)
    worker = IngestWorker(settings, ingest_for(), catalog, influx_store)
    worker.start()
    edge = Edge(settings, EdgeSettings(queue_path=tmp_path / "queue.sqlite3", edge_id="edge-rtu"), spec)
    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        edge.start()
        wait_until(lambda: len(stored(influx_store, "co")) >= 3, timeout_s=30, what="RTU samples stored")
        load_cems(server.device, co=22.5)
        wait_until(lambda: any(v == 22.5 for _, v, _ in stored(influx_store, "co")), timeout_s=30, what="the changed value")
        edge.stop_polling()
        assert edge.drain(30)
        accepted = edge.queue.accepted_ever()
        wait_until(lambda: len(stored(influx_store, "flow")) == accepted["cems"], timeout_s=30, what="every RTU sample stored")
    finally:
        edge.stop()
        worker.stop()
        server.stop()
    assert_stored_exactly_once(influx_store, accepted, {"cems": ["co", "o2", "flow"]})
    assert {v for _, v, _ in stored(influx_store, "co")} == {21.5, 22.5}
    assert {v for _, v, _ in stored(influx_store, "o2")} == {10.75}
