"""The shipped Mosquitto security (deploy/mosquitto): the real broker with the shipped ACL and a
password file made by `wastewatch devices add` and the broker's entrypoint script.

"Never arrives" is proven without waiting: the forbidden publish is followed, on the same
connection, by an allowed one; the broker handles a connection's publishes in order, so once the
allowed message has arrived, the forbidden one would have arrived before it.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from launch.cli import main
from tests.helpers import wait_until
from tests.servers import MosquittoServer

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "mosquitto"
SERVICES = {
    "wastewatch-ingest": "MQTT_INGEST_PASSWORD", "wastewatch-alerts": "MQTT_ALERTS_PASSWORD",
    "wastewatch-simulator": "MQTT_SIMULATOR_PASSWORD", "wastewatch-healthcheck": "MQTT_HEALTHCHECK_PASSWORD",
}


class Broker:
    def __init__(self, server: MosquittoServer, passwords: dict[str, str]) -> None:
        self.server, self.passwords = server, passwords

    def client(self, user: str | None, password: str | None = None) -> tuple[mqtt.Client, queue.Queue[mqtt.MQTTMessage], int]:
        """A connected client (or the CONNACK reason code of a refused one) and its inbox."""
        inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        connack: queue.Queue[int] = queue.Queue()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"acl-{user}-{os.urandom(3).hex()}")
        if user is not None:
            c.username_pw_set(user, password if password is not None else self.passwords[user])
        c.on_connect = lambda cl, ud, flags, reason, props: connack.put(reason.value)
        c.on_message = lambda cl, ud, msg: inbox.put(msg)
        c.connect("127.0.0.1", self.server.port)
        c.loop_start()
        rc = connack.get(timeout=10)
        return c, inbox, rc


def _subscribe(c: mqtt.Client, topic: str) -> int:
    granted: queue.Queue[int] = queue.Queue()
    c.on_subscribe = lambda cl, ud, mid, codes, props: granted.put(codes[0].value)
    c.subscribe(topic, qos=1)
    return granted.get(timeout=10)


def _close(*clients: mqtt.Client) -> None:
    for c in clients:
        c.disconnect()
        c.loop_stop()


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    server = MosquittoServer()
    directory = server.directory  # readable by the mosquitto user the broker drops to (pytest's tmp dirs are not)
    directory.chmod(0o755)
    acl, devices = directory / "acl", directory / "devices.passwd"
    shutil.copy(DEPLOY / "acl", acl)
    passwords: dict[str, str] = {}
    for plant, device, extra in (("kotim", "plc", []), ("other", "plc", []), ("kotim", "gw", ["--sparkplug", "Kotim/plant-gateway"]),
                                 ("kotim", "edge", ["--edge"])):
        out = subprocess.run(
            ["wastewatch", "devices", "add", "--plant", plant, "--device", device, "--password-file", str(devices),
             "--acl-file", str(acl), *extra], capture_output=True, text=True, check=True,
        ).stdout
        fields = dict(line.split(": ", 1) for line in out.splitlines() if line.startswith(("user: ", "password: ")))
        passwords[fields["user"]] = fields["password"]
    env = {"PATH": os.environ["PATH"], "WASTEWATCH_DEVICES_PASSWD": str(devices), "WASTEWATCH_BROKER_PASSWD": str(directory / "passwd")}
    for user, var in SERVICES.items():
        passwords[user] = env[var] = f"{user}-{os.urandom(8).hex()}"
    subprocess.run(["sh", str(DEPLOY / "entrypoint.sh")], env=env, check=True)
    acl.chmod(0o644)
    server.extra_config = f"allow_anonymous false\npassword_file {directory / 'passwd'}\nacl_file {acl}\n"
    server.start()
    yield Broker(server, passwords)
    server.cleanup()


def test_anonymous_and_wrong_passwords_are_refused(broker: Broker) -> None:
    anonymous, _, rc = broker.client(None)
    assert rc != 0
    wrong, _, rc2 = broker.client("kotim.plc", "not-the-password")
    assert rc2 != 0
    _close(anonymous, wrong)


def test_device_publishes_to_its_plant_and_the_ingest_receives_it(broker: Broker) -> None:
    ingest, inbox, rc = broker.client("wastewatch-ingest")
    device, _, rc2 = broker.client("kotim.plc")
    assert rc == rc2 == 0
    assert _subscribe(ingest, "plants/+/sensors/+") == 1
    device.publish("plants/kotim/sensors/o2", b'{"ts": 1, "value": 9}', qos=1).wait_for_publish(10)
    assert inbox.get(timeout=10).topic == "plants/kotim/sensors/o2"
    _close(ingest, device)


def test_device_cannot_publish_to_another_plant(broker: Broker) -> None:
    ingest, inbox, _ = broker.client("wastewatch-ingest")
    device, _, _ = broker.client("kotim.plc")
    assert _subscribe(ingest, "plants/+/sensors/+") == 1
    device.publish("plants/other/sensors/o2", b'{"ts": 1, "value": 1}', qos=1).wait_for_publish(10)
    device.publish("plants/kotim/sensors/co", b'{"ts": 1, "value": 2}', qos=1).wait_for_publish(10)  # the sentinel
    assert inbox.get(timeout=10).topic == "plants/kotim/sensors/co"
    assert inbox.empty()
    _close(ingest, device)


def test_device_cannot_claim_another_devices_status(broker: Broker) -> None:
    ingest, inbox, _ = broker.client("wastewatch-ingest")
    device, _, _ = broker.client("kotim.plc")
    assert _subscribe(ingest, "plants/+/status/+") == 1
    device.publish("plants/kotim/status/cems", b"offline", qos=1).wait_for_publish(10)
    device.publish("plants/kotim/status/plc", b"online", qos=1).wait_for_publish(10)
    assert inbox.get(timeout=10).topic == "plants/kotim/status/plc"
    assert inbox.empty()
    _close(ingest, device)


def test_device_cannot_read_alerts_or_other_data(broker: Broker) -> None:
    device, inbox, _ = broker.client("kotim.plc")
    alerts, _, _ = broker.client("wastewatch-alerts")
    granted = _subscribe(device, "plants/kotim/alerts/#")
    alerts.publish("plants/kotim/alerts/t_secondary_low", b'{"kind": "raised"}', qos=1).wait_for_publish(10)
    # Mosquitto 2.0 grants the subscription but delivers nothing the ACL does not allow the reader:
    # prove it with the alert worker's own subscription as the witness.
    witness, witness_inbox, _ = broker.client("wastewatch-alerts")
    assert _subscribe(witness, "plants/kotim/alerts/#") == 1
    alerts.publish("plants/kotim/alerts/t_secondary_low", b'{"kind": "cleared"}', qos=1).wait_for_publish(10)
    assert witness_inbox.get(timeout=10).payload == b'{"kind": "cleared"}'
    # A round trip on the device's own connection: anything the broker sent it before is read by now.
    device.publish("plants/kotim/status/plc", b"online", qos=1).wait_for_publish(10)
    assert granted == 1 and inbox.empty()
    _close(device, alerts, witness)


def test_services_can_do_their_work(broker: Broker) -> None:
    alerts, alert_inbox, _ = broker.client("wastewatch-alerts")
    reader, reader_inbox, _ = broker.client("wastewatch-alerts")
    simulator, _, _ = broker.client("wastewatch-simulator")
    health, health_inbox, _ = broker.client("wastewatch-healthcheck")
    assert _subscribe(alerts, "plants/#") == 1 and _subscribe(reader, "plants/+/state") == 1
    assert _subscribe(health, "$SYS/broker/uptime") == 1
    simulator.publish("plants/kotim/batches", b"{}", qos=1).wait_for_publish(10)
    assert alert_inbox.get(timeout=10).topic == "plants/kotim/batches"
    alerts.publish("plants/kotim/state", b"burning", qos=1, retain=True).wait_for_publish(10)
    assert reader_inbox.get(timeout=10).payload == b"burning"
    assert health_inbox.get(timeout=30).topic == "$SYS/broker/uptime"
    _close(alerts, reader, simulator, health)


def test_a_sparkplug_gateway_publishes_as_its_own_edge_node_only_and_gets_its_commands(broker: Broker) -> None:
    ingest, inbox, _ = broker.client("wastewatch-ingest")
    alerts, alert_inbox, _ = broker.client("wastewatch-alerts")
    gateway, commands, rc = broker.client("kotim.gw")
    assert rc == 0
    assert _subscribe(ingest, "spBv1.0/+/DDATA/+/+") == 1 and _subscribe(alerts, "spBv1.0/+/DDATA/+/+") == 1
    assert _subscribe(gateway, "spBv1.0/Kotim/NCMD/plant-gateway") == 1
    gateway.publish("spBv1.0/Kotim/DDATA/other-gateway/cems", b"not mine", qos=1).wait_for_publish(10)  # dropped
    gateway.publish("plants/other/sensors/o2", b'{"ts": 1, "value": 1}', qos=1).wait_for_publish(10)  # dropped
    gateway.publish("spBv1.0/Kotim/DDATA/plant-gateway/cems", b"mine", qos=1).wait_for_publish(10)  # the sentinel
    assert inbox.get(timeout=10).payload == b"mine" and alert_inbox.get(timeout=10).payload == b"mine"
    assert inbox.empty()
    ingest.publish("spBv1.0/Kotim/NCMD/plant-gateway", b"rebirth", qos=1).wait_for_publish(10)
    assert commands.get(timeout=10).payload == b"rebirth"
    _close(ingest, alerts, gateway)


def test_an_edge_box_sets_its_plants_device_statuses_and_its_health_but_not_another_plants(broker: Broker) -> None:
    alerts, inbox, _ = broker.client("wastewatch-alerts")
    edge, _, rc = broker.client("kotim.edge")
    # not plants/#: another test's retained plant state would arrive first
    assert rc == 0 and _subscribe(alerts, "plants/+/status/+") == 1 and _subscribe(alerts, "plants/+/edge/+/health") == 1
    edge.publish("plants/other/status/plc", b"offline", qos=1).wait_for_publish(10)  # dropped: another plant
    edge.publish("plants/other/edge/edge/health", b"{}", qos=1).wait_for_publish(10)  # dropped
    for topic in ("plants/kotim/status/plc", "plants/kotim/status/cems", "plants/kotim/edge/edge/health"):
        edge.publish(topic, b"x", qos=1).wait_for_publish(10)
    assert [inbox.get(timeout=10).topic for _ in range(3)] == ["plants/kotim/status/plc", "plants/kotim/status/cems",
                                                               "plants/kotim/edge/edge/health"]
    assert inbox.empty()
    _close(alerts, edge)


def test_the_api_has_no_broker_user(broker: Broker) -> None:
    # the API only opens a TCP connection to the broker (/ready): it has no password to leak
    assert "wastewatch-api" not in broker.passwords
    api, _, rc = broker.client("wastewatch-api", "any-password-at-all")
    assert rc != 0
    _close(api)


def test_the_simulator_publishes_for_its_own_plant_only(broker: Broker) -> None:
    ingest, inbox, _ = broker.client("wastewatch-ingest")
    simulator, _, rc = broker.client("wastewatch-simulator")
    assert rc == 0
    assert _subscribe(ingest, "plants/+/sensors/+") == 1 and _subscribe(ingest, "plants/+/status/+") == 1
    for topic in ("plants/other/sensors/o2", "plants/other/status/plc", "plants/other/batches"):
        simulator.publish(topic, b'{"ts": 1, "value": 1}', qos=1).wait_for_publish(10)
    simulator.publish("plants/kotim/status/cems", b"online", qos=1).wait_for_publish(10)
    simulator.publish("plants/kotim/sensors/co", b'{"ts": 1, "value": 2}', qos=1).wait_for_publish(10)  # the sentinel
    assert [inbox.get(timeout=10).topic for _ in range(2)] == ["plants/kotim/status/cems", "plants/kotim/sensors/co"]
    assert inbox.empty()
    _close(ingest, simulator)


def test_the_password_file_is_not_world_readable(broker: Broker) -> None:
    import pwd
    import stat

    built = broker.server.directory / "passwd"
    mode = stat.S_IMODE(built.stat().st_mode)
    assert mode == 0o640, oct(mode)
    if os.geteuid() == 0:  # run as root, as in the container: the broker's own user owns it
        assert pwd.getpwuid(built.stat().st_uid).pw_name == "mosquitto"


def test_adding_a_device_twice_resets_its_password_and_keeps_one_acl_block(tmp_path: Path, capsys) -> None:
    shutil.copy(DEPLOY / "acl", tmp_path / "acl")
    args = ["devices", "add", "--plant", "kotim", "--device", "cems", "--password-file", str(tmp_path / "p"), "--acl-file", str(tmp_path / "acl")]
    assert main(args) == 0 and main(args) == 0
    assert (tmp_path / "acl").read_text().count("user kotim.cems\n") == 1
    assert (tmp_path / "p").read_text().count("kotim.cems:") == 1
    assert main(["devices", "add", "--plant", "Kotim!", "--device", "x", "--acl-file", str(tmp_path / "acl")]) == 2


def test_broker_entrypoint_refuses_example_passwords(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "WASTEWATCH_DEVICES_PASSWD": str(tmp_path / "none"),
           "WASTEWATCH_BROKER_PASSWD": str(tmp_path / "passwd")}
    env.update({var: "change-me-please" for var in SERVICES.values()})
    result = subprocess.run(["sh", str(DEPLOY / "entrypoint.sh")], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "example secret" in result.stderr and not (tmp_path / "passwd").exists()
    env["WASTEWATCH_DEMO"] = "1"
    assert subprocess.run(["sh", str(DEPLOY / "entrypoint.sh")], env=env).returncode == 0
