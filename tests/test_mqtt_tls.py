"""MQTT over TLS with client authentication, on the real Mosquitto with fixture-made certificates."""

from __future__ import annotations

import gc
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from tests.certificates import TlsFiles, make_tls_files
from tests.helpers import publish_all, wait_until
from tests.servers import MosquittoServer
from tests.test_ingest import reading_messages, recent_ms, stored_count
from wastewatch.mqtt import make_client
from wastewatch.settings import BrokerSettings, InfluxSettings, Settings, parse_mqtt_url

PASSWORD = "s3cret-for-tests"


@pytest.fixture(scope="module")
def tls_broker() -> Iterator[tuple[MosquittoServer, TlsFiles]]:
    server = MosquittoServer()
    server.directory.chmod(0o755)  # the broker drops to the `mosquitto` user and must read these files
    tls = make_tls_files(server.directory / "tls")
    (server.directory / "tls").chmod(0o755)
    passwords = server.directory / "passwords"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "ingest", PASSWORD], check=True, capture_output=True)
    passwords.chmod(0o644)
    server.extra_config = (
        f"cafile {tls.ca_file}\ncertfile {tls.cert_file}\nkeyfile {tls.key_file}\n"
        f"allow_anonymous false\npassword_file {passwords}\n"
    )
    server.start()
    yield server, tls
    server.cleanup()


def connect_outcome(url: str, ca_file: Path | None) -> str:
    """'connected', the broker's refusal reason, or the name of the exception the handshake raised."""
    broker = parse_mqtt_url(url)
    client = make_client(broker, "tls-probe", protocol="5", ca_file=ca_file)
    outcome: list[str] = []
    done = threading.Event()

    def on_connect(client, userdata, flags, reason, properties):  # type: ignore[no-untyped-def]
        outcome.append("connected" if not reason.is_failure else str(reason))
        done.set()

    def on_disconnect(client, userdata, flags, reason, properties):  # type: ignore[no-untyped-def]
        outcome.append(f"disconnected: {reason}")
        done.set()

    client.on_connect, client.on_disconnect = on_connect, on_disconnect
    try:
        client.connect(broker.host, broker.port, keepalive=5)
    except (ssl.SSLError, OSError) as exc:
        gc.collect()  # collect the socket paho left behind now, inside the test that made it
        return type(exc).__name__
    client.loop_start()
    try:
        done.wait(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()
    return outcome[0] if outcome else "no answer"


def test_ingest_over_tls_with_credentials_stores_every_reading(tls_broker, influx_store, catalog, tmp_path):
    server, tls = tls_broker
    url = f"mqtts://ingest:{PASSWORD}@127.0.0.1:{server.port}"
    settings = Settings(
        mqtt=BrokerSettings(url=url, ca_file=tls.ca_file), data_dir=tmp_path,
        influx=InfluxSettings(url=influx_store.url, database=influx_store.database),
    )
    worker = IngestWorker(settings, IngestSettings(client_id="ingest-tls"), catalog, influx_store)
    worker.start()
    try:
        wait_until(worker.connected.is_set, what="ingest connected over TLS")
        publish_all(url, reading_messages(500, start_ms=recent_ms()), ca_file=tls.ca_file)
        wait_until(lambda: stored_count(influx_store) == 500, timeout_s=30, what="every reading stored")
    finally:
        worker.stop()


def test_the_right_ca_and_password_connect(tls_broker):
    server, tls = tls_broker
    assert connect_outcome(f"mqtts://ingest:{PASSWORD}@127.0.0.1:{server.port}", tls.ca_file) == "connected"


def test_a_wrong_password_and_no_credentials_are_refused(tls_broker):
    server, tls = tls_broker
    assert connect_outcome(f"mqtts://ingest:wrong@127.0.0.1:{server.port}", tls.ca_file) != "connected"
    assert connect_outcome(f"mqtts://127.0.0.1:{server.port}", tls.ca_file) != "connected"


# paho leaves the socket of a failed TLS handshake to the garbage collector, which warns about it.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_broker_certificate_from_another_ca_is_refused_by_the_client(tls_broker, tmp_path):
    server, _ = tls_broker
    other = make_tls_files(tmp_path / "other", common_name="somebody else's CA")
    assert connect_outcome(f"mqtts://ingest:{PASSWORD}@127.0.0.1:{server.port}", other.ca_file) == "SSLCertVerificationError"


def test_plain_mqtt_to_the_tls_listener_gets_nowhere(tls_broker):
    server, _ = tls_broker
    assert connect_outcome(f"mqtt://ingest:{PASSWORD}@127.0.0.1:{server.port}", None) != "connected"
