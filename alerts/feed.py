"""One plant's MQTT feed for the alert worker: a persistent session of its own, `<client id>-<plant>`.

The session belongs to the plant, not to the process: when the plant's lease passes to a standby,
the standby connects with the same client id and the broker hands it what the dead owner left
unacknowledged or never received. Subscriptions are the plant's data topics only.

Every callback paho runs is guarded: an exception in one is logged and costs that call only, never
the network loop (paho would re-raise it and the loop thread would die: no more messages, no
reconnects, and the worker none the wiser).
"""

from __future__ import annotations

import json
import logging
import threading
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import paho.mqtt.client as mqtt

from wastewatch.mqtt import connect, make_client, send_pubacks
from wastewatch.settings import BrokerAddress, Settings
from wastewatch.topics import data_subscriptions, state_topic

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., None])


def guarded(callback: F) -> F:
    """`callback`, but an exception it raises is logged instead of reaching paho's network loop."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            callback(*args, **kwargs)
        except Exception:
            logger.exception("MQTT callback failed, the feed goes on callback=%s", getattr(callback, "__name__", callback))

    return run  # type: ignore[return-value]


class PlantFeed:
    """Messages of one plant, handed to `deliver(feed, message)` on paho's network thread.

    `generation` changes on every (re)connection: an acknowledgement is valid only for the
    connection that received the message (after a reconnect the broker redelivers it anyway).
    """

    def __init__(
        self, plant: str, settings: Settings, broker: BrokerAddress,
        deliver: Callable[[PlantFeed, mqtt.MQTTMessage], None], on_ready: Callable[[], None],
    ) -> None:
        self.plant = plant
        self.client_id = f"{settings.alerts_client_id}-{plant}"
        self.generation = 0
        self.subscribed = threading.Event()
        self._broker, self._deliver, self._on_ready = broker, deliver, on_ready
        self._lock = threading.Lock()
        self._stopping = False
        self._client = make_client(broker, self.client_id, protocol=settings.mqtt_protocol, ca_file=settings.mqtt_ca_file,
                                   manual_ack=True, persistent=True)
        self._client.on_connect = guarded(self._on_connect)
        self._client.on_disconnect = guarded(self._on_disconnect)
        self._client.on_subscribe = guarded(self._on_subscribe)
        self._client.on_message = guarded(self._on_message)

    def start(self) -> PlantFeed:
        connect(self._client, self._broker, persistent=True)
        self._client.loop_start()
        return self

    def stop(self) -> None:
        """Disconnect; what was not acknowledged stays in the plant's session for its next owner."""
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self.subscribed.clear()

    def current_generation(self) -> int:
        with self._lock:
            return self.generation

    def ack(self, generation: int, mids: list[int]) -> int:
        """Acknowledge the messages of connection `generation`; how many (none after a reconnect)."""
        with self._lock:
            if generation != self.generation or not mids:
                return 0
        send_pubacks(self._client, mids)
        return len(mids)

    def publish_state(self, document: dict[str, Any]) -> None:
        self._client.publish(state_topic(self.plant), json.dumps(document, sort_keys=True), qos=1, retain=True)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._deliver(self, message)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            logger.error("MQTT connect refused plant=%s reason=%s", self.plant, reason)
            return
        with self._lock:
            self.generation += 1
        if not flags.session_present:
            topics = data_subscriptions(self.plant)  # the ingest's subscriptions, narrowed to the plant
            client.subscribe([(topic, 1) for topic in topics])
            logger.info("subscribing (no session on the broker) plant=%s topics=%s", self.plant, len(topics))
        else:
            self._ready()

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        self._ready()

    def _ready(self) -> None:
        self.subscribed.set()
        self._on_ready()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        with self._lock:
            self.generation += 1  # this connection's unacknowledged messages will be redelivered
        self.subscribed.clear()
        self._on_ready()
        if not self._stopping:
            logger.warning("MQTT disconnected, reconnecting plant=%s reason=%s", self.plant, reason)
