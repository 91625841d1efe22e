"""The broker as the stack starts it: the real Mosquitto, started by the shipped entrypoint
(deploy/mosquitto/entrypoint.sh) with the shipped deploy/mosquitto/mosquitto.conf, ACL and tuning, and
certificates made by deploy/gen-certs.sh. The container's mount points (/mosquitto/config, /data,
/tuning, /certs) become folders of a temporary directory and the two listeners (1883 plain for the
compose network, 8883 TLS for the plants) free loopback ports; nothing else of the file is changed.

"Never arrives" is proven without waiting, as in tests/test_mosquitto_acl.py: a later message on the
same connection arrives first only if the earlier one was dropped.
"""

from __future__ import annotations

import os
import pwd
import queue
import re
import shutil
import ssl
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.servers import _stop_process, free_port, wait_for_port
from tests.test_stack_secrets import COMPOSE
from wastewatch.settings import DecodeSettings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SERVICES = {"wastewatch-ingest": "MQTT_INGEST_PASSWORD", "wastewatch-alerts": "MQTT_ALERTS_PASSWORD",
            "wastewatch-simulator": "MQTT_SIMULATOR_PASSWORD", "wastewatch-healthcheck": "MQTT_HEALTHCHECK_PASSWORD"}
LIMIT = 262144


def shipped_conf(directory: Path, plain_port: int, tls_port: int) -> str:
    """deploy/mosquitto/mosquitto.conf with the container's paths under `directory` and the listeners on loopback ports."""
    text = (DEPLOY / "mosquitto" / "mosquitto.conf").read_text()
    for old, new in (("\nlistener 1883\n", f"\nlistener {plain_port} 127.0.0.1\n"), ("\nlistener 8883\n", f"\nlistener {tls_port} 127.0.0.1\n")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.replace("/mosquitto/", f"{directory}/")


@dataclass
class ShippedBroker:
    directory: Path
    passwords: dict[str, str] = field(default_factory=dict)
    plain_port: int = field(default_factory=free_port)
    tls_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def ca_file(self) -> Path:
        return self.directory / "certs" / "ca.crt"

    def environment(self) -> dict[str, str]:
        d = self.directory
        env = {"PATH": os.environ["PATH"], "WASTEWATCH_DEVICES_PASSWD": str(d / "config" / "passwd"),
               "WASTEWATCH_BROKER_PASSWD": str(d / "data" / "passwd"), "WASTEWATCH_BROKER_CERTS": str(d / "certs"),
               "WASTEWATCH_BROKER_TLS_DIR": str(d / "data" / "tls")}
        env.update({var: self.passwords[user] for user, var in SERVICES.items()})
        return env

    def start(self) -> ShippedBroker:
        d = self.directory
        shutil.copytree(DEPLOY / "mosquitto", d / "config")
        shutil.copytree(ROOT / "deploy" / "mosquitto" / "tuning", d / "tuning")
        (d / "data").mkdir()
        subprocess.run(["sh", str(DEPLOY / "gen-certs.sh"), "localhost"], check=True, capture_output=True,
                       env={**os.environ, "WASTEWATCH_CERTS_DIR": str(d / "certs"), "WASTEWATCH_CA_DIR": str(d / "ca")})
        for plant in ("kotim", "other"):
            out = subprocess.run(
                ["wastewatch", "devices", "add", "--plant", plant, "--device", "plc", "--password-file", str(d / "config" / "passwd"),
                 "--acl-file", str(d / "config" / "acl")], capture_output=True, text=True, check=True,
            ).stdout
            fields = dict(line.split(": ", 1) for line in out.splitlines() if line.startswith(("user: ", "password: ")))
            self.passwords[fields["user"]] = fields["password"]
        for user in SERVICES:
            self.passwords[user] = f"{user}-{os.urandom(8).hex()}"
        conf = d / "config" / "mosquitto.conf"
        conf.write_text(shipped_conf(d, self.plain_port, self.tls_port))
        # the broker drops to its own user: it must reach what the container mounts read-only (as a
        # checkout is), but not the key, which gen-certs.sh makes 0600 and root's here
        for path in [d, *d.rglob("*")]:
            if path.parent.name != "ca" and path.name != "server.key":
                path.chmod(path.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))
        assert stat.S_IMODE((d / "certs" / "server.key").stat().st_mode) == 0o600
        with open(d / "mosquitto.log", "ab") as log:
            # the container's start: the entrypoint builds the password file, then execs the broker
            self.proc = subprocess.Popen(["sh", str(d / "config" / "entrypoint.sh"), shutil.which("mosquitto") or "/usr/sbin/mosquitto",
                                          "-c", str(conf)], env=self.environment(), stdout=log, stderr=log, start_new_session=True)
        wait_for_port(self.plain_port)
        wait_for_port(self.tls_port)
        return self

    def log(self) -> str:
        return (self.directory / "mosquitto.log").read_text(errors="replace")

    def client(self, user: str | None, password: str | None = None, *, tls: bool = True, ca_file: Path | None = None,
               protocol: int = mqtt.MQTTv311) -> tuple[mqtt.Client, queue.Queue[mqtt.MQTTMessage], object]:
        """A client on the TLS listener (or the plain one) and its inbox, with the CONNACK reason (0: accepted)."""
        inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        connack: queue.Queue[object] = queue.Queue()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"stack-{os.urandom(3).hex()}", protocol=protocol)
        if user is not None:
            c.username_pw_set(user, password if password is not None else self.passwords[user])
        if tls:
            c.tls_set(ca_certs=str(ca_file or self.ca_file))
        c.on_connect = lambda cl, ud, flags, reason, props: connack.put(reason.value)
        c.on_message = lambda cl, ud, msg: inbox.put(msg)
        c.connect("127.0.0.1", self.tls_port if tls else self.plain_port)
        c.loop_start()
        return c, inbox, connack.get(timeout=10)

    def stop(self) -> None:
        _stop_process(self.proc)


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
def broker() -> Iterator[ShippedBroker]:
    # not pytest's tmp_path: its folders are closed to the user the broker drops to
    directory = Path(tempfile.mkdtemp(prefix="ww-shipped-broker-"))
    shipped = ShippedBroker(directory)
    try:
        yield shipped.start()
    finally:
        shipped.stop()
        shutil.rmtree(directory, ignore_errors=True)


def test_a_device_publishes_over_tls_and_the_ingest_reads_on_the_compose_network(broker: ShippedBroker) -> None:
    ingest, inbox, rc = broker.client("wastewatch-ingest", tls=False)
    device, _, rc2 = broker.client("kotim.plc")  # over TLS, trusting only gen-certs.sh's CA
    assert rc == rc2 == 0
    assert _subscribe(ingest, "plants/+/sensors/+") == 1
    device.publish("plants/kotim/sensors/o2", b'{"ts": 1, "value": 9}', qos=1).wait_for_publish(10)
    assert inbox.get(timeout=10).topic == "plants/kotim/sensors/o2"
    _close(ingest, device)


def test_the_tls_listener_needs_the_password_and_speaks_only_tls(broker: ShippedBroker) -> None:
    anonymous, _, rc = broker.client(None)
    wrong, _, rc2 = broker.client("kotim.plc", "not-the-password")
    assert rc != 0 and rc2 != 0
    _close(anonymous, wrong)
    # plain MQTT to the TLS port: no CONNACK ever comes back
    plain = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="plain-to-tls")
    plain.username_pw_set("kotim.plc", broker.passwords["kotim.plc"])
    connected: queue.Queue[object] = queue.Queue()
    plain.on_connect = lambda cl, ud, flags, reason, props: connected.put(reason.value)
    plain.connect("127.0.0.1", broker.tls_port)
    for _ in range(20):
        if plain.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS:
            break
    assert connected.empty()
    plain.disconnect()


# paho leaves the socket of a failed TLS handshake to the garbage collector, which warns about it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_client_trusting_another_ca_refuses_the_broker(broker: ShippedBroker, tmp_path: Path) -> None:
    subprocess.run(["sh", str(DEPLOY / "gen-certs.sh"), "localhost"], check=True, capture_output=True,
                   env={**os.environ, "WASTEWATCH_CERTS_DIR": str(tmp_path / "certs"), "WASTEWATCH_CA_DIR": str(tmp_path / "ca")})
    with pytest.raises(ssl.SSLCertVerificationError):
        broker.client("kotim.plc", ca_file=tmp_path / "certs" / "ca.crt")


def test_the_broker_refuses_a_message_larger_than_the_ingest_takes(broker: ShippedBroker) -> None:
    # one limit: the ingest's default, the value docker-compose.yml gives it, the broker's message_size_limit
    conf = (DEPLOY / "mosquitto" / "mosquitto.conf").read_text()
    assert re.findall(r"^message_size_limit (\d+)$", conf, re.MULTILINE) == [str(LIMIT)]
    assert DecodeSettings().max_payload_bytes == LIMIT
    assert COMPOSE["services"]["ingest"]["environment"]["WASTEWATCH_INGEST_MAX_PAYLOAD_BYTES"] == str(LIMIT)
    ingest, inbox, _ = broker.client("wastewatch-ingest", tls=False)
    device, _, _ = broker.client("kotim.plc")  # MQTT 3.1.1, as the devices and the project default
    assert _subscribe(ingest, "plants/+/batches") == 1
    # the broker completes the QoS 1 flow and drops the message (an MQTT 5 client is disconnected instead)
    device.publish("plants/kotim/batches", b"x" * (LIMIT + 1), qos=1).wait_for_publish(10)
    device.publish("plants/kotim/batches", b"y" * LIMIT, qos=1).wait_for_publish(10)  # the largest allowed: the sentinel
    message = inbox.get(timeout=10)
    assert len(message.payload) == LIMIT and message.payload[:1] == b"y"
    assert inbox.empty()
    _close(ingest, device)


def test_the_built_password_file_and_the_key_copy_are_the_brokers_alone(broker: ShippedBroker) -> None:
    built = broker.directory / "data" / "passwd"
    key = broker.directory / "data" / "tls" / "server.key"
    assert stat.S_IMODE(built.stat().st_mode) == 0o640 and stat.S_IMODE(key.stat().st_mode) == 0o600
    if os.geteuid() == 0:  # started as root, like the container: the broker's own user owns them
        assert pwd.getpwuid(built.stat().st_uid).pw_name == pwd.getpwuid(key.stat().st_uid).pw_name == "mosquitto"
    assert key.read_bytes() == (broker.directory / "certs" / "server.key").read_bytes()
    assert {line.split(":", 1)[0] for line in built.read_text().splitlines()} == {"kotim.plc", "other.plc", *SERVICES}


def test_the_broker_does_not_start_without_its_certificate(broker: ShippedBroker, tmp_path: Path) -> None:
    env = {**broker.environment(), "WASTEWATCH_BROKER_CERTS": str(tmp_path / "none"), "WASTEWATCH_BROKER_PASSWD": str(tmp_path / "passwd")}
    result = subprocess.run(["sh", str(DEPLOY / "mosquitto" / "entrypoint.sh"), "true"], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "gen-certs.sh" in result.stderr


def test_the_compose_file_mounts_the_certificates_and_publishes_only_tls(broker: ShippedBroker) -> None:
    mosquitto = COMPOSE["services"]["mosquitto"]
    assert "./deploy/certs:/mosquitto/certs:ro" in mosquitto["volumes"]
    assert mosquitto["ports"] == ["8883:8883"]
    # the CA's key is in no mounted folder
    mounted = {v.split(":")[0] for s in COMPOSE["services"].values() for v in s.get("volumes", []) if v.startswith("./")}
    assert not any(m in ("./deploy", "./deploy/ca") for m in mounted)
