"""One plant's MQTT feed for the alert worker: a persistent session of its own, `<client id>-<plant>`.

The session belongs to the plant, not to the process: when the plant's lease passes to a standby,
the standby connects with the same client id and the broker hands it what the dead owner left
unacknowledged or never received. Subscriptions are the plant's data topics only: its JSON topics and,
given the worker's `decoder`, its Sparkplug edge nodes' (`MessageDecoder.subscriptions`); the decoder's
rebirth requests for the plant's nodes are published through this feed.

Every callback paho runs is guarded: an exception in one is logged and costs that call only, never
the network loop (paho would re-raise it and the loop thread would die: no more messages, no
reconnects, and the worker none the wiser).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from alerts.intake import MessageDecoder
from wastewatch.persistent_session import PersistentSession, guarded
from wastewatch.settings import BrokerAddress, BrokerSettings
from wastewatch.topics import data_subscriptions, state_topic

logger = logging.getLogger(__name__)


class PlantFeed:
    """Messages of one plant, handed to `deliver(feed, message)` on paho's network thread.

    The session's generation changes on every (re)connection: an acknowledgement is valid only for
    the connection that received the message (after a reconnect the broker redelivers it anyway).
    `on_ready` runs whenever the feed becomes subscribed or stops being so.
    """

    def __init__(
        self, plant: str, mqtt_settings: BrokerSettings, client_prefix: str, broker: BrokerAddress,
        deliver: Callable[[PlantFeed, mqtt.MQTTMessage], None], on_ready: Callable[[], None],
        decoder: MessageDecoder | None = None,
    ) -> None:
        self.plant = plant
        self.client_id = f"{client_prefix}-{plant}"
        self._deliver = deliver
        # No takeover watch: a standby taking a plant over from a live owner that lost its lease is
        # the lease design at work, not a misconfigured twin.
        self._session = PersistentSession(
            broker, self.client_id, decoder.subscriptions(plant) if decoder is not None else data_subscriptions(plant),
            guarded(self._on_message),
            protocol=mqtt_settings.protocol, ca_file=mqtt_settings.ca_file, watch_takeover=False, on_change=on_ready,
        )
        self.subscribed = self._session.subscribed
        self._decoder = decoder

    def start(self) -> PlantFeed:
        if self._decoder is not None:
            self._decoder.attach(self.plant, self._publish_command)
        self._session.start()
        return self

    def stop(self) -> None:
        """Disconnect; what was not acknowledged stays in the plant's session for its next owner."""
        if self._decoder is not None:
            self._decoder.attach(self.plant, None)
        self._session.stop()

    def _publish_command(self, topic: str, payload: bytes) -> None:
        self._session.publish(topic, payload, qos=0)  # a Sparkplug command (NCMD) is sent at QoS 0

    def current_generation(self) -> int:
        return self._session.generation

    def ack(self, generation: int, mids: list[int]) -> int:
        """Acknowledge the messages of connection `generation`; how many (none after a reconnect)."""
        return self._session.ack(generation, mids)

    def publish_state(self, document: dict[str, Any]) -> None:
        self._session.publish(state_topic(self.plant), json.dumps(document, sort_keys=True), qos=1, retain=True)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._deliver(self, message)
