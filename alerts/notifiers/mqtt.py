"""The MQTT channel: the notification's JSON on `plants/{plant}/alerts/{rule}/{subject}`, QoS 1.

A send returns once the broker has acknowledged the message (PUBACK); while the broker is away it
fails (retryable), and the outbox retries it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt

from alerts.notifiers import Channel, Notification, NotifierError, Receipt
from alerts.settings import AlertSettings
from alerts.templates import SEALED_DAY
from wastewatch.mqtt import connect, make_client
from wastewatch.points import Store
from wastewatch.settings import BrokerAddress, Settings

logger = logging.getLogger(__name__)


def alert_topic(plant: str, rule_id: str, subject: str) -> str:
    return f"plants/{plant}/alerts/{rule_id}/{subject}"


def notification_topic(notification: Notification) -> str:
    p = notification.payload
    if notification.kind == "digest":
        return f"plants/{p.get('plant') or 'all'}/alerts/digest"
    if notification.kind == SEALED_DAY:  # a day sealed into the ledger: its root and chain hash
        return f"plants/{p['plant']}/alerts/ledger"
    return alert_topic(str(p["plant"]), str(p["rule"]), str(p["subject"]))


class MqttNotifier:
    name = "mqtt"

    def __init__(self, broker: BrokerAddress, client_id: str, *, protocol: str = "5", ack_timeout_s: float = 5.0, **kw: Any) -> None:
        self._timeout_s = ack_timeout_s
        self._connected = threading.Event()
        self._client = make_client(broker, client_id, protocol=protocol, **kw)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        connect(self._client, broker)
        self._client.loop_start()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if not reason.is_failure:
            self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._connected.clear()

    def send(self, notification: Notification) -> Receipt:
        if not self._connected.wait(self._timeout_s):
            raise NotifierError("MQTT broker not connected")
        info = self._client.publish(notification_topic(notification), notification.body_json(), qos=1)
        try:
            info.wait_for_publish(self._timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise NotifierError(f"MQTT publish failed: {exc}") from exc
        if not info.is_published():
            raise NotifierError("MQTT publish not acknowledged in time")
        return Receipt(self.name, f"mid {info.mid}")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def _build(settings: Settings, alerts: AlertSettings, store: Store | None) -> MqttNotifier:
    broker = settings.mqtt.address
    assert broker is not None
    # a clean session, so unique per process: workers sharing a client id prefix must not evict each other
    return MqttNotifier(broker, f"{alerts.client_id}-notify-{uuid.uuid4().hex[:8]}", protocol=settings.mqtt.protocol,
                        ca_file=settings.mqtt.ca_file)


CHANNEL = Channel("mqtt", configured=lambda settings, alerts: settings.mqtt.address is not None, build=_build)
