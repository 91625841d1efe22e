"""The edge's OPC UA source against asyncua's own server (tests/edge_opcua.py): data-change subscriptions
stored through the real Mosquitto, `wastewatch ingest` and InfluxDB with their status; Basic256Sha256
SignAndEncrypt with a username (a wrong password refused with a clear health and log line); the Aes
policies with encrypted keys and a certificate login, through `wastewatch edge check`; the server
stopped and restarted (the device offline, then re-subscribed); `wastewatch edge check`; hostile OPC UA
device entries (Hypothesis: a DeviceFileError naming the field, never a traceback)."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from asyncua import ua
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.devices import DeviceFile, DeviceFileError, parse_device_file
from edge.forwarder import health_topic
from edge.opcua import OpcUaSource
from edge.service import Edge, build_sources
from edge.settings import EdgeSettings
from edge.sources import Readout, SourceError
from ingest.worker import IngestWorker
from tests.edge_opcua import OpcUaPlant, encrypted_key, make_opcua_certificates, opcua_device
from tests.helpers import hostile_examples, wait_until
from tests.test_edge_end_to_end import stored
from tests.test_edge_faults import _retained, start_edge
from wastewatch.errors import ConfigError
from wastewatch.plant import PlantConfig, load_catalog
from wastewatch.runtime import free_port
from wastewatch.settings import BrokerSettings, Settings

PLANT: PlantConfig = load_catalog(None).get("kotim")  # type: ignore[assignment]
PASSWORD_ENV = "WASTEWATCH_TEST_OPCUA_PASSWORD"
KEY_ENV, USER_KEY_ENV = "WASTEWATCH_TEST_OPCUA_KEY_PASSWORD", "WASTEWATCH_TEST_OPCUA_USER_KEY_PASSWORD"


@pytest.fixture
def plant() -> Iterator[OpcUaPlant]:
    server = OpcUaPlant().start()
    yield server
    server.close()


def _spec(*devices: dict[str, object]) -> DeviceFile:
    return parse_device_file({"plant": "kotim", "devices": list(devices)}, PLANT)


def _pairs(store, sensor: str) -> set[tuple[float, str]]:  # type: ignore[no-untyped-def]
    return {(v, s) for _, v, s in stored(store, sensor)}


def test_data_changes_are_stored_with_their_status(tmp_path, settings_for, ingest_for, influx_store, catalog, plant):
    spec = _spec(opcua_device("plc", plant.endpoint))
    settings = settings_for(influx_store)
    worker = IngestWorker(settings, ingest_for(), catalog, influx_store)
    worker.start()
    edge = Edge(settings, EdgeSettings(queue_path=tmp_path / "queue.sqlite3", edge_id="edge-opcua", health_interval_s=0.5), spec)
    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        edge.start()
        # the subscription's first notification carries every node's value
        wait_until(lambda: (850.5, "valid") in _pairs(influx_store, "t_primary") and (10.75, "valid") in _pairs(influx_store, "o2"),
                   timeout_s=20, what="the first values stored")
        assert _pairs(influx_store, "t_secondary") == {(1010.25, "valid")}
        plant.write("TPrimary", 905.0)  # the test writes the server's variable: a data change, no poll
        wait_until(lambda: (905.0, "valid") in _pairs(influx_store, "t_primary"), timeout_s=20, what="the change stored")
        plant.write("State", 1)  # the analyser in calibration: o2 (which the state word covers) in maintenance
        wait_until(lambda: (10.75, "maintenance") in _pairs(influx_store, "o2"), timeout_s=20, what="maintenance stored")
        plant.write("O2", 11.5)
        wait_until(lambda: (11.5, "maintenance") in _pairs(influx_store, "o2"), timeout_s=20, what="a value in maintenance")
        plant.write("State", 0)
        wait_until(lambda: (11.5, "valid") in _pairs(influx_store, "o2"), timeout_s=20, what="o2 valid again")
        plant.write("TPrimary", 906.0, status=ua.StatusCodes.BadSensorFailure)  # a bad StatusCode on the node
        wait_until(lambda: any(s == "malfunction" for _, s in _pairs(influx_store, "t_primary")), timeout_s=20, what="malfunction stored")
        plant.write("TPrimary", 907.0)
        wait_until(lambda: (907.0, "valid") in _pairs(influx_store, "t_primary"), timeout_s=20, what="good again")
        plant.write("TcBreak", True)  # the thermocouple-break flag (a Boolean status node) covers t_primary
        wait_until(lambda: (907.0, "malfunction") in _pairs(influx_store, "t_primary"), timeout_s=20, what="the flag's malfunction")
        health = edge.health.snapshot()["devices"]["plc"]
        assert health["online"] is True and health["errors"] == 0 and health["address"].startswith("opcua opc.tcp://127.0.0.1")
        edge.stop_polling()
        assert edge.drain(30)
        accepted = edge.queue.accepted_ever()["plc"]
        assert edge.queue.refused == 0
        assert worker.dead_letters.counts() == {}
    finally:
        edge.stop()
        worker.stop()
    assert _pairs(influx_store, "t_secondary") == {(1010.25, "valid")}  # never changed: sent again every period_s
    assert len(stored(influx_store, "t_secondary")) >= 3
    assert {v for v, s in _pairs(influx_store, "t_primary") if s == "valid"} == {850.5, 905.0, 907.0}
    rows = [r for sensor in ("t_primary", "t_secondary", "o2") for r in stored(influx_store, sensor)]
    assert len({t for t, _, _ in rows}) <= accepted  # one edge-clock stamp per sample, shared by the values that changed together


def test_basic256sha256_sign_and_encrypt_with_a_username_and_a_wrong_password_refused(
    tmp_path, settings_for, ingest_for, influx_store, catalog, monkeypatch, caplog,
):
    certs = make_opcua_certificates(tmp_path / "pki")
    secure = OpcUaPlant(certificates=certs, users={"wastewatch": "right-password"}).start()
    security = {"policy": "Basic256Sha256", "mode": "SignAndEncrypt", "certificate": str(certs.edge_cert),
                "private_key": str(certs.edge_key), "server_certificate": str(certs.server_cert)}
    device = opcua_device("plc", secure.endpoint, security=security, username="wastewatch", password_env=PASSWORD_ENV)
    settings = settings_for(influx_store)
    worker = IngestWorker(settings, ingest_for(), catalog, influx_store)
    worker.start()
    monkeypatch.setenv(PASSWORD_ENV, "right-password")
    edge = Edge(settings, EdgeSettings(queue_path=tmp_path / "queue.sqlite3", edge_id="edge-secure"), _spec(device))
    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        edge.start()
        wait_until(lambda: (850.5, "valid") in _pairs(influx_store, "t_primary"), timeout_s=30, what="read over SignAndEncrypt")
        secure.write("TPrimary", 912.5)
        wait_until(lambda: (912.5, "valid") in _pairs(influx_store, "t_primary"), timeout_s=20, what="a change over SignAndEncrypt")
        assert secure.users is not None and secure.users.refused == 0
    finally:
        edge.stop()
        worker.stop()
    monkeypatch.setenv(PASSWORD_ENV, "wrong-password")
    nobody = Settings(mqtt=BrokerSettings(url=f"mqtt://127.0.0.1:{free_port()}"), data_dir=tmp_path / "data2")
    refused = Edge(nobody, EdgeSettings(queue_path=tmp_path / "queue2.sqlite3", edge_id="edge-refused"), _spec(device))
    caplog.set_level(logging.WARNING, logger="edge.health")
    try:
        refused.start()
        wait_until(lambda: refused.health.snapshot()["devices"]["plc"]["errors"] >= 1, timeout_s=30, what="the refusal")
        health = refused.health.snapshot()["devices"]["plc"]
        assert health["online"] is False
        assert "refused user 'wastewatch' (BadUserAccessDenied): check the password in WASTEWATCH_TEST_OPCUA_PASSWORD" in health["last_error"], health
        assert "wrong-password" not in json.dumps(refused.health.snapshot())
        assert any("device plc offline" in r.getMessage() and "BadUserAccessDenied" in r.getMessage() for r in caplog.records), caplog.text
        assert refused.queue.depth == 0
    finally:
        refused.stop()
        secure.close()
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(DeviceFileError, match=f"device 'plc': password_env: the environment variable {PASSWORD_ENV}"):
        build_sources(_spec(device))  # no password in the environment: the edge does not start


@pytest.mark.parametrize(("policy", "mode"), [("Aes128Sha256RsaOaep", "Sign"), ("Aes256Sha256RsaPss", "SignAndEncrypt")])
def test_the_aes_policies_with_encrypted_keys_and_a_certificate_login(tmp_path, policy, mode):  # type: ignore[no-untyped-def]
    """`wastewatch edge check` over each Aes policy, the edge's application key and the login's key both
    encrypted (their passwords from the environment), logged in with a certificate (an X509 identity
    token); a certificate the server does not know, and a wrong key password, refused in one line each."""
    certs = make_opcua_certificates(tmp_path / "pki")
    server = OpcUaPlant(certificates=certs, policy=f"{policy}_{mode}", certificate_users=(certs.user_cert,)).start()
    security = {"policy": policy, "mode": mode, "certificate": str(certs.edge_cert), "private_key": str(encrypted_key(certs.edge_key, "key-secret")),
                "private_key_password_env": KEY_ENV, "server_certificate": str(certs.server_cert)}
    device = opcua_device("plc", server.endpoint, security=security, user_certificate=str(certs.user_cert),
                          user_private_key=str(encrypted_key(certs.user_key, "user-secret")), user_private_key_password_env=USER_KEY_ENV)
    path = _write(tmp_path, {"plant": "kotim", "devices": [device]})
    secrets = {KEY_ENV: "key-secret", USER_KEY_ENV: "user-secret"}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WASTEWATCH_")}, **secrets}
    # a certificate and key pair the server has no user for
    stranger = {**device, "user_certificate": str(certs.edge_cert), "user_private_key": str(encrypted_key(certs.edge_key, "user-secret"))}
    try:
        result = subprocess.run([sys.executable, "-m", "launch.cli", "edge", "check", str(path)], capture_output=True, text=True,
                                timeout=60, env=env)
        logins = server.users.certificate_logins if server.users else 0
        refused = _read_error(stranger, secrets)
        wrong_key = _read_error(device, {**secrets, KEY_ENV: "not-the-key-secret"})
    finally:
        server.close()
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(rf"^plc \(opcua opc\.tcp://\S+ \({policy} {mode}\)\): ok, 3 values", result.stdout, re.M), result.stdout
    assert re.search(r"t_primary\s+850\.5 degC", result.stdout), result.stdout
    assert logins == 1
    assert f"refused the certificate login {certs.edge_cert}" in refused and "BadUserAccessDenied" in refused, refused
    assert "cannot load the security files of plc" in wrong_key and "not-the-key-secret" not in wrong_key, wrong_key
    with pytest.raises(DeviceFileError, match=f"device 'plc': security.private_key_password_env: the environment variable {KEY_ENV}"):
        OpcUaSource(_spec(device).devices[0], {USER_KEY_ENV: "user-secret"})  # type: ignore[arg-type]


def _read_error(device: dict[str, object], environ: dict[str, str]) -> str:
    """The SourceError of reading the device once (it must fail)."""
    source = OpcUaSource(_spec(device).devices[0], environ)  # type: ignore[arg-type]

    async def read() -> str:
        try:
            await source.read()
        except SourceError as exc:
            return str(exc)
        finally:
            await source.close()
        raise AssertionError("the read did not fail")

    return asyncio.run(read())


class _Changes:
    """A push source's sink that keeps what it is told (the source driven directly, no broker)."""

    def __init__(self) -> None:
        self.readouts: list[Readout] = []
        self.subscriptions = 0
        self.errors: list[str] = []

    def subscribed(self, latency_s: float) -> None:
        self.subscriptions += 1

    def changed(self, readout: Readout) -> None:
        self.readouts.append(readout)

    def lost(self, error: str, latency_s: float) -> None:
        self.errors.append(error)

    def values(self, sensor: str) -> list[float]:
        return [r.values[sensor] for r in self.readouts if sensor in r.values]


def test_changes_only_or_every_period_the_unchanged_values_again(plant):
    async def watch(repeat: bool, values: list[float]) -> _Changes:
        device = _spec(opcua_device("plc", plant.endpoint, period_s=0.2, repeat_unchanged=repeat)).devices[0]
        source = OpcUaSource(device)  # type: ignore[arg-type]
        sink = _Changes()
        task = asyncio.create_task(source.run(sink))
        try:
            await asyncio.to_thread(wait_until, lambda: sink.values("t_primary"), 20, 0.05, "the first notification")
            for value in values:
                await asyncio.to_thread(plant.write, "TPrimary", value)
                await asyncio.to_thread(wait_until, lambda v=value: v in sink.values("t_primary"), 20, 0.05, f"{value}")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await source.close()
        return sink

    changes = asyncio.run(watch(False, [921.0, 922.0, 923.0, 924.0, 925.0]))  # values no other test writes
    assert changes.values("t_primary")[-5:] == [921.0, 922.0, 923.0, 924.0, 925.0]
    assert changes.values("t_secondary") == [1010.25]  # changes only: the one value of the subscription's first notification
    assert all(set(r.values) == {"t_primary"} for r in changes.readouts[1:])
    assert changes.errors == [] and changes.subscriptions == 1
    repeated = asyncio.run(watch(True, [911.0, 912.0, 913.0, 914.0, 915.0]))
    runs = [v for i, v in enumerate(repeated.values("t_primary")) if i == 0 or repeated.values("t_primary")[i - 1] != v]
    assert runs[-5:] == [911.0, 912.0, 913.0, 914.0, 915.0]  # each change once, in order (and held values again between)
    assert len(repeated.values("t_secondary")) >= 2  # unchanged, sent again at the period


def _write(tmp_path: Path, document: dict[str, object]) -> Path:
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_edge_check_reads_each_node_once_and_prints_it_with_its_unit(tmp_path, plant):
    plant.write("State", 2)  # o2 in malfunction by the state word
    path = _write(tmp_path, {"plant": "kotim", "devices": [opcua_device("plc", plant.endpoint)]})
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTEWATCH_")}
    command = [sys.executable, "-m", "launch.cli", "edge", "check", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^plc \(opcua opc\.tcp://127\.0\.0\.1:\d+/wastewatch/\): ok, 3 values", result.stdout, re.M), result.stdout
    assert re.search(r"t_primary\s+850\.5 degC", result.stdout), result.stdout
    assert re.search(r"t_secondary\s+1010\.25 degC", result.stdout), result.stdout
    assert re.search(r"o2\s+10\.75 \S+\s+\(malfunction\)", result.stdout), result.stdout
    plant.stop()
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    assert re.search(r"^plc .*FAILED: cannot connect to opc\.tcp://", result.stdout, re.M), result.stdout
    assert "asyncua" not in result.stderr and "Traceback" not in result.stderr, result.stderr  # the edge says it once, its way


@pytest.mark.fault
def test_the_server_restarted_the_device_goes_offline_and_the_edge_re_subscribes(tmp_path, mosquitto, settings_for, ingest_for, influx_store, catalog, plant):
    device_file = _write(tmp_path, {"plant": "kotim", "devices": [opcua_device("plc", plant.endpoint, period_s=0.2)]})
    queue = tmp_path / "queue.sqlite3"
    env = {"WASTEWATCH_MQTT_URL": mosquitto.url, "WASTEWATCH_EDGE_QUEUE_PATH": str(queue), "WASTEWATCH_EDGE_ID": "edge-opcua-restart",
           "WASTEWATCH_EDGE_HEALTH_INTERVAL_S": "0.5"}
    log = tmp_path / "edge.log"
    worker = IngestWorker(settings_for(influx_store), ingest_for(), catalog, influx_store)
    worker.start()
    proc = start_edge(env, device_file, log)
    status = "plants/kotim/status/plc"

    def health() -> dict[str, object]:
        return json.loads(_retained(mosquitto.port, health_topic("kotim", "edge-opcua-restart")) or "{}").get("devices", {}).get("plc", {})  # type: ignore[no-any-return]

    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        wait_until(lambda: (850.5, "valid") in _pairs(influx_store, "t_primary"), timeout_s=30, what="the first values stored")
        wait_until(lambda: _retained(mosquitto.port, status) == "online", timeout_s=20, what="plc online")
        plant.stop()  # the PLC's server goes away (a restart, a cable)
        wait_until(lambda: _retained(mosquitto.port, status) == "offline", timeout_s=30, interval_s=0.3, what="plc offline")
        # the health is published every 0.5 s, the status at once: wait for the health to say why
        wait_until(lambda: "opc.tcp://127.0.0.1" in str(health().get("last_error")), timeout_s=20, what="the health naming the server")
        plant.write("TPrimary", 777.0)  # while it is down (kept for the next start, as a PLC keeps its process image)
        plant.start()  # same port, same namespace, a new session
        wait_until(lambda: _retained(mosquitto.port, status) == "online", timeout_s=60, interval_s=0.3, what="plc online again")
        wait_until(lambda: (777.0, "valid") in _pairs(influx_store, "t_primary"), timeout_s=30, what="the value after the re-subscription")
        plant.write("TPrimary", 778.0)  # the new subscription delivers new changes
        wait_until(lambda: (778.0, "valid") in _pairs(influx_store, "t_primary"), timeout_s=30, what="a new change stored")
        wait_until(lambda: int(health().get("errors", 0)) >= 1 and health().get("online") is True, timeout_s=20, what="the health")  # type: ignore[call-overload]
        rows = influx_store.query("SELECT online FROM device_status WHERE device = 'plc'")
        presence = [r[1] for s in rows for r in s["values"]]
        assert 0 in presence and presence[-1] == 1, presence
        assert worker.dead_letters.counts() == {}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        worker.stop()
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    assert "device plc offline" in text and "device plc online" in text, text[-3000:]


# --- hostile device entries

RAW = {"plant": "kotim", "devices": [opcua_device(
    "plc", "opc.tcp://192.168.10.10:4840/plant", username="wastewatch", password_env="WASTEWATCH_EDGE_OPCUA_PASSWORD",
    security={"policy": "Basic256Sha256", "mode": "SignAndEncrypt", "certificate": "/etc/edge.der", "private_key": "/etc/edge.pem"},
)]}
FIELDS = ["id", "protocol", "endpoint", "security", "username", "password_env", "user_certificate", "user_private_key",
          "user_private_key_password_env", "period_s", "timeout_s", "retries", "points", "status"]
POINT_FIELDS = ["sensor", "node_id", "scale", "offset"]
STATUS_FIELDS = ["node_id", "when_set", "values", "covers"]
SECURITY_FIELDS = ["policy", "mode", "certificate", "private_key", "private_key_password_env", "server_certificate"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
hostile = json_values | st.sampled_from([
    -1, 0, 10**30, float("nan"), float("inf"), "", "x" * 5000, "\ud800", "\x00", [], {}, True, "bad id!",
    "ns=70000;i=1", "ns=2;i=99999999999", "ns=2;s=", "ns=2;x=1", "i=", "ns=2;g=not-a-guid", "ns=2;b=!!", "s=a\nb",
    "opc.tcp://", "opc.tcp://:4840", "opc.tcp://h:0/", "opc.tcp://h:70000/", "opc.tcp://user:pw@h:4840/", "http://h:4840/",
    "opc.tcp://h:4840/a b", "opc.tcp://[::1:4840/", "Basic128Rsa15", "None", "Encrypt", "1BAD_ENV", "PASS-WORD",
])
node_ids = st.one_of(
    st.text(max_size=40),
    st.builds(lambda ns, rest: f"ns={ns};{rest}", st.integers(-5, 70_000), st.text(max_size=30)),
    st.builds(lambda kind, rest: f"ns=2;{kind}={rest}", st.sampled_from("isgbx"), st.text(max_size=40)),
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[dict[str, object], str]:
    """The OPC UA device with one field of it, a point, a status entry or its security replaced: (file, field)."""
    raw = copy.deepcopy(RAW)
    device = raw["devices"][0]
    where = draw(st.sampled_from(["device", "point", "status", "security"]))
    if where == "device":
        field, target = draw(st.sampled_from(FIELDS)), device
    elif where == "point":
        field, target = draw(st.sampled_from(POINT_FIELDS)), device["points"][draw(st.integers(0, 2))]
    elif where == "status":
        field, target = draw(st.sampled_from(STATUS_FIELDS)), device["status"][draw(st.integers(0, 1))]
    else:
        field, target = draw(st.sampled_from(SECURITY_FIELDS)), device["security"]
    target[field] = draw(node_ids) if field == "node_id" and draw(st.booleans()) else draw(hostile)
    return raw, field


@given(mutated())
@settings(max_examples=hostile_examples(400), suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_a_hostile_opcua_entry_is_a_device_file_error_naming_the_field(case: tuple[dict[str, object], str]) -> None:
    raw, field = case
    try:
        spec = parse_device_file(raw, PLANT, "edge.yaml")
    except DeviceFileError as exc:
        text = str(exc)
        assert isinstance(exc, ConfigError) and text.startswith("edge.yaml: ") and "\n" not in text
        if field != "id":
            assert "device 'plc'" in text, text
        assert field in text or "points" in text or "status" in text or "protocol" in text or "sensor" in text, text
        return
    # accepted: the source is built from it without a traceback (asyncua parses every node id the file let in)
    device = spec.devices[0]
    try:
        source = OpcUaSource(device, {"WASTEWATCH_EDGE_OPCUA_PASSWORD": "x"})  # type: ignore[arg-type]
    except DeviceFileError as exc:
        assert "password_env" in str(exc)
        return
    assert len(source.nodes) >= 1 and source.describe().startswith("opcua opc.tcp://")


@given(st.dictionaries(st.sampled_from(FIELDS), hostile, max_size=6))
@settings(max_examples=hostile_examples(200), deadline=None)
def test_any_opcua_device_mapping_loads_or_fails_as_a_device_file_error(device: dict[str, object]) -> None:
    try:
        parse_device_file({"plant": "kotim", "devices": [{"protocol": "opcua", **device}]}, PLANT)
    except DeviceFileError as exc:
        assert "\n" not in str(exc) and str(exc)


def test_the_example_s_commented_opcua_plc_loads_in_place_of_the_modbus_one() -> None:
    example = Path(__file__).resolve().parents[1] / "edge" / "examples" / "kotim.yaml"
    text = example.read_text()
    block = text.split("  # - id: plc\n", 1)[1]
    entry = yaml.safe_load("\n".join(["  - id: plc", *(re.sub(r"^  # ", "  ", line) for line in block.splitlines())]))
    raw = yaml.safe_load(text)
    raw["devices"][0] = entry[0]
    spec = parse_device_file(raw, PLANT)
    plc = spec.devices[0]
    assert plc.protocol == "opcua" and plc.password_env == "WASTEWATCH_EDGE_OPCUA_PASSWORD"
    assert "UNCONFIRMED" in text.split("  # - id: plc")[0].rsplit("\n\n", 1)[1]  # its own paragraph says so
    source = OpcUaSource(plc, {"WASTEWATCH_EDGE_OPCUA_PASSWORD": "x"})  # type: ignore[arg-type]
    assert source.nodes[0] == 'ns=3;s="DB_Process"."TPrimary"'
