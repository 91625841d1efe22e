"""A persistent MQTT session that acknowledges only what its owner made durable (the ingest, each alert feed).

The broker keeps the session (its subscriptions and every unacknowledged QoS 1 message) across
reconnects and restarts of the client; the client subscribes when the broker says it has no session,
and once at each start of the process (its topics may have changed since the session was made). Each connection has a generation: an acknowledgement applies only to the connection that
received the message, since after a reconnect the broker redelivers what was not acknowledged.
The owner handles its messages (paho's `on_message`, on the network thread) and calls `ack`.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from wastewatch.mqtt import connect, make_client, send_pubacks
from wastewatch.settings import BrokerAddress

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., None])
MessageHandler = Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None]


def guarded(callback: F) -> F:
    """`callback`, but an exception it raises is logged instead of reaching paho's network loop."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            callback(*args, **kwargs)
        except Exception:
            logger.exception("MQTT callback failed, the session goes on callback=%s", getattr(callback, "__name__", callback))

    return run  # type: ignore[return-value]


class TakeoverWatch:
    """Notices a second client with the same client id, which makes the broker close each in turn.

    MQTT 5 names it (reason "Session taken over"); over MQTT 3.1.1 the broker just closes the
    connection, so `threshold` disconnects in a row, each within `window_s` of connecting, are read
    as the same sign. The worker keeps reconnecting either way (no data is lost: both copies
    acknowledge only what they made durable); the error tells the operator what to fix.
    """

    def __init__(
        self, client_id: str, *, window_s: float = 10.0, threshold: int = 3, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client_id, self.window_s, self.threshold, self._clock = client_id, window_s, threshold, clock
        self._connected_at: float | None = None
        self.quick_disconnects = 0

    def connected(self) -> None:
        self._connected_at = self._clock()

    def disconnected(self, reason: object) -> None:
        """Call from `on_disconnect`; logs an error when the pattern of a duplicate client id shows."""
        quick = self._connected_at is not None and self._clock() - self._connected_at < self.window_s
        self._connected_at = None
        self.quick_disconnects = self.quick_disconnects + 1 if quick else 0
        if str(reason) == "Session taken over" or self.quick_disconnects == self.threshold:
            logger.error(
                "MQTT broker keeps closing the connection: is another client running with the same client id? "
                "client_id=%s disconnects_in_a_row=%s reason=%s",
                self.client_id, self.quick_disconnects, reason,
            )


class PersistentSession:
    """One client id's persistent session: connect, subscribe when the broker has none, acknowledge.

    `on_message` is handed to paho as it is (the hot path: no wrapper per message). `connected` is
    set from the CONNACK to the disconnect, `subscribed` from the SUBACK (or a CONNACK with the
    session present) to the disconnect; `on_change` runs after either changes, `on_connected` after
    each accepted CONNACK. With `shared_group` the topics are subscribed as `$share/<group>/<topic>`.
    `watch_takeover` logs an error when another client keeps taking the session over.
    """

    def __init__(
        self,
        broker: BrokerAddress,
        client_id: str,
        topics: Sequence[str],
        on_message: MessageHandler,
        *,
        protocol: str = "5",
        ca_file: Path | None = None,
        shared_group: str | None = None,
        receive_maximum: int | None = None,
        watch_takeover: bool = True,
        on_connected: Callable[[], None] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.client_id = client_id
        prefix = f"$share/{shared_group}/" if shared_group else ""
        self.topics = tuple(prefix + topic for topic in topics)
        # Changed on the network thread only (connect, disconnect), so a message handler reads the
        # generation of the connection it runs for; `ack` compares under the lock.
        self.generation = 0
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._broker, self._receive_maximum = broker, receive_maximum
        self._on_connected, self._on_change = on_connected, on_change
        self._takeover = TakeoverWatch(client_id) if watch_takeover else None
        self._lock = threading.Lock()
        self._stopping = False
        self._subscribed_here = False  # this process has subscribed its topics on some connection
        self._client = make_client(broker, client_id, protocol=protocol, ca_file=ca_file, manual_ack=True, persistent=True)
        self._client.on_connect = guarded(self._on_connect)
        self._client.on_disconnect = guarded(self._on_disconnect)
        self._client.on_subscribe = guarded(self._on_subscribe)
        self._client.on_message = on_message

    def start(self) -> None:
        """Start connecting; paho's network thread finishes the handshake and reconnects for ever."""
        connect(self._client, self._broker, persistent=True, receive_maximum=self._receive_maximum)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect; what was not acknowledged stays in the broker's session for the next connection."""
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self.connected.clear()
        self.subscribed.clear()

    def ack(self, generation: int, mids: list[int]) -> int:
        """Acknowledge the messages `mids` of connection `generation`; how many (none after a reconnect)."""
        with self._lock:
            if generation != self.generation or not mids:
                return 0
        send_pubacks(self._client, mids)
        return len(mids)

    def publish(self, topic: str, payload: str | bytes, *, qos: int = 1, retain: bool = False) -> mqtt.MQTTMessageInfo:
        return self._client.publish(topic, payload, qos=qos, retain=retain)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            logger.error("MQTT connect refused client_id=%s reason=%s", self.client_id, reason)
            return
        with self._lock:
            self.generation += 1
        if self._takeover is not None:
            self._takeover.connected()
        if self._on_connected is not None:
            self._on_connected()
        if flags.session_present and self._subscribed_here:
            self.subscribed.set()
        else:
            # Also on this process's first connect to a kept session: its topics may have changed since the
            # session was made (a plant added to the catalogue, an upgrade that reads new topics). Subscribing
            # again replaces a subscription and keeps the session's queued messages; over MQTT 5 the broker
            # sends retained messages only for subscriptions that are new (retain handling 1).
            if self._client.protocol == mqtt.MQTTv5:
                options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
                client.subscribe([(topic, options) for topic in self.topics])
            else:
                client.subscribe([(topic, 1) for topic in self.topics])
            self._subscribed_here = True
            why = "a kept session, first connect of this run" if flags.session_present else "no session on the broker"
            logger.info("subscribing (%s) client_id=%s topics=%s", why, self.client_id, len(self.topics))
        self.connected.set()  # after the SUBSCRIBE is queued, which reaches the broker first
        self._changed()

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        refused = [str(reason) for reason in reasons if reason.is_failure]
        if refused:
            logger.error("MQTT broker refused subscriptions client_id=%s reasons=%s", self.client_id, ",".join(refused))
        logger.info("subscribed client_id=%s topics=%s", self.client_id, len(self.topics) - len(refused))
        self.subscribed.set()
        self._changed()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        with self._lock:
            self.generation += 1  # this connection's unacknowledged messages will be redelivered
        self.connected.clear()
        self.subscribed.clear()
        self._changed()
        if not self._stopping:
            logger.warning("MQTT disconnected, reconnecting client_id=%s reason=%s", self.client_id, reason)
            if self._takeover is not None:
                self._takeover.disconnected(reason)

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()
