"""The demo's embedded amqtt broker: carries QoS 1 traffic and stops cleanly, releasing its port."""

from __future__ import annotations

import logging
import socket
import threading

import paho.mqtt.client as mqtt
import pytest

from tests.helpers import wait_until
from tests.servers import free_port
from wastewatch.embedded_broker import EmbeddedBroker


def _connected_client(port: int, client_id: str) -> tuple[mqtt.Client, threading.Event]:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    connected = threading.Event()
    client.on_connect = lambda _c, _u, _f, reason_code, _p: connected.set() if not reason_code.is_failure else None
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client, connected


def test_embedded_broker_delivers_qos1_and_frees_its_port_on_stop(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wastewatch.embedded_broker")
    port = free_port()
    broker = EmbeddedBroker(port).start()
    received: list[tuple[str, bytes, int]] = []
    subscriber = publisher = None
    try:
        subscriber, sub_connected = _connected_client(port, "test-embedded-sub")
        subscribed = threading.Event()
        subscriber.on_subscribe = lambda *_args: subscribed.set()
        subscriber.on_message = lambda _c, _u, msg: received.append((msg.topic, msg.payload, msg.qos))
        wait_until(sub_connected.is_set, timeout_s=5, what="subscriber connected")
        subscriber.subscribe("wastewatch/test/#", qos=1)
        wait_until(subscribed.is_set, timeout_s=5, what="SUBACK")

        publisher, pub_connected = _connected_client(port, "test-embedded-pub")
        wait_until(pub_connected.is_set, timeout_s=5, what="publisher connected")
        info = publisher.publish("wastewatch/test/reading", b'{"v": 1}', qos=1)
        info.wait_for_publish(timeout=5)
        assert info.is_published()

        wait_until(lambda: received, timeout_s=5, what="message at the subscriber")
        assert received == [("wastewatch/test/reading", b'{"v": 1}', 1)]
    finally:
        for client in (publisher, subscriber):
            if client is not None:
                client.disconnect()
                client.loop_stop()
        broker.stop()

    # A prompt stop is one whose shutdown completed rather than ran into stop()'s timeout.
    assert not [r for r in caplog.records if "shutdown incomplete" in r.getMessage()]
    assert not broker._thread.is_alive()
    # The listener is closed: the port can be bound again (SO_REUSEADDR, as any server restarting would).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
