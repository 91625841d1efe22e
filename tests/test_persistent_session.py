"""The persistent session against a real Mosquitto: it subscribes again when the broker lost its
session, and an acknowledgement for an earlier connection reaches no broker."""

from __future__ import annotations

import logging
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from tests.helpers import publish_all, wait_until
from tests.servers import MosquittoServer
from wastewatch.mqtt import make_client
from wastewatch.persistent_session import PersistentSession
from wastewatch.settings import parse_mqtt_url

Received = list[tuple[int, int, bytes]]  # (generation at delivery, mid, payload)


def _session(broker: MosquittoServer, client_id: str, topic: str, received: Received, **options: Any) -> PersistentSession:
    def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        received.append((session.generation, message.mid, bytes(message.payload)))

    session = PersistentSession(parse_mqtt_url(broker.url), client_id, [topic], on_message, **options)
    return session


def _reconnected(session: PersistentSession, after_generation: int) -> bool:
    """A disconnect and a connect (two generations) have happened since `after_generation`."""
    return session.generation >= after_generation + 2 and session.connected.is_set()


def _flush(session: PersistentSession) -> None:
    """Return once the broker has read everything this session sent so far: it acknowledges a later
    publish of ours only after handling the packets before it."""
    info = session.publish("session-test/barrier", b"", qos=1)
    info.wait_for_publish(timeout=10)
    assert info.is_published()


def test_a_session_the_broker_lost_is_subscribed_again(own_broker):
    received: Received = []
    session = _session(own_broker, "session-test-lost", "session-test/lost", received, shared_group="workers")
    assert session.topics == ("$share/workers/session-test/lost",)
    session.start()
    try:
        wait_until(session.subscribed.is_set, timeout_s=10, what="first subscription")
        publish_all(own_broker.url, [("session-test/lost", b"before")])
        wait_until(lambda: [p for _, _, p in received] == [b"before"], what="the message before the loss")

        own_broker.stop()
        wait_until(lambda: not session.subscribed.is_set(), what="the session noticing the broker gone")
        (own_broker.directory / "mosquitto.db").unlink(missing_ok=True)  # the broker forgets every session
        own_broker.start()

        wait_until(session.subscribed.is_set, timeout_s=60, what="subscribed again on the new broker")
        publish_all(own_broker.url, [("session-test/lost", b"after")])
        wait_until(lambda: [p for _, _, p in received] == [b"before", b"after"], what="the message after the loss")
    finally:
        session.stop()


def test_an_acknowledgement_for_an_earlier_connection_sends_nothing(own_broker):
    received: Received = []
    session = _session(own_broker, "session-test-ack", "session-test/ack", received)
    session.start()
    try:
        wait_until(session.subscribed.is_set, timeout_s=10, what="subscribed")
        publish_all(own_broker.url, [("session-test/ack", b"one")])
        wait_until(lambda: len(received) == 1, what="the first delivery")
        first_generation, first_mid, _ = received[0]

        own_broker.restart()  # the broker keeps the session and the unacknowledged message
        wait_until(lambda: len(received) == 2, timeout_s=60, what="the redelivery after the reconnect")
        assert received[1][2] == b"one" and received[1][0] > first_generation
        assert session.ack(first_generation, [first_mid]) == 0
        _flush(session)  # had a PUBACK gone out, the broker would have read it by now

        own_broker.restart()
        wait_until(lambda: len(received) == 3, timeout_s=60, what="the message still unacknowledged, redelivered again")
        generation, mid, payload = received[2]
        assert payload == b"one"
        assert session.ack(generation, [mid]) == 1
        _flush(session)

        own_broker.restart()
        wait_until(lambda: _reconnected(session, generation), timeout_s=60, what="the third reconnect")
        publish_all(own_broker.url, [("session-test/ack", b"two")])
        wait_until(lambda: received[-1][2] == b"two", what="a new message")
        # A redelivered "one" would have come first: the broker resends what is in flight when the session resumes.
        assert [p for _, _, p in received] == [b"one", b"one", b"one", b"two"]
    finally:
        session.stop()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_restart_with_new_topics_subscribes_them_on_the_kept_session(own_broker, protocol):
    """An upgrade (Sparkplug B topics) or a plant added to the catalogue: the broker kept the session of
    the old topic list, and the restarted process still gets the new topics, while what the session
    queued for the old ones meanwhile is delivered too."""
    received: Received = []
    old = _session(own_broker, f"session-test-new-{protocol}", "session-test/old", received, protocol=protocol)
    old.start()
    try:
        wait_until(old.subscribed.is_set, timeout_s=10, what="the first run's subscription")
    finally:
        old.stop()
    publish_all(own_broker.url, [("session-test/old", b"queued while stopped")])

    def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        received.append((new.generation, message.mid, bytes(message.payload)))

    new = PersistentSession(parse_mqtt_url(own_broker.url), f"session-test-new-{protocol}",
                            ["session-test/old", "session-test/new"], on_message, protocol=protocol)
    new.start()
    try:
        wait_until(new.subscribed.is_set, timeout_s=10, what="the second run subscribed")
        _flush(new)
        publish_all(own_broker.url, [("session-test/new", b"on the new topic")])
        wait_until(lambda: {p for _, _, p in received} == {b"queued while stopped", b"on the new topic"},
                   what="the queued message and the new topic's")
    finally:
        new.stop()


def test_a_network_loop_without_a_socket_logs_no_error(caplog: Any) -> None:
    """paho logs "Client is not connected" as an ERROR when its loop turns with no socket (after our own
    disconnect at a stop, or between reconnect attempts): our clients log it at DEBUG, and a healthy
    stop logs no ERROR; paho's other errors stay errors."""
    client = make_client(parse_mqtt_url("mqtt://127.0.0.1:1"), "never-connected")
    with caplog.at_level(logging.DEBUG):
        assert client.loop(timeout=0.01) == mqtt.MQTT_ERR_NO_CONN
        logging.getLogger("paho").error("a real paho error")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["a real paho error"]
    assert any("Client is not connected" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)
