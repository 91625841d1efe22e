"""From the queue to the broker: oldest first, QoS 1, a sample deleted only once its PUBACK is in.

A thread of its own takes up to `backfill_frames × inflight_messages` of the oldest samples, turns
them into the contract's messages (`edge.frames`), publishes them all, waits for every PUBACK and
then deletes those rows in one transaction. While the broker is away nothing is taken; what was in
flight stays in paho's session and is sent again when the connection is back (a duplicate carries
the same timestamps, which the store overwrites). The same MQTT connection carries the retained
presence of the edge (`plants/{plant}/status/{edge_id}`, last will `offline`) and of each device,
and the retained health on `plants/{plant}/edge/{edge_id}/health`.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import paho.mqtt.client as mqtt

from edge.frames import build_messages
from edge.health import EdgeHealth
from edge.queue import SampleQueue
from edge.settings import EdgeSettings
from wastewatch.mqtt import connect, make_client
from wastewatch.settings import BrokerSettings, SettingsError
from wastewatch.topics import status_topic

logger = logging.getLogger(__name__)

PUBACK_WAIT_S = 1.0
REFUSED_RETRY_S = 10.0  # a message the broker refused is offered again after this long


def health_topic(plant: str, edge_id: str) -> str:
    """Where the edge's health is retained (outside the ingest's data topics: the ingest never sees it)."""
    return f"plants/{plant}/edge/{edge_id}/health"


class Forwarder:
    def __init__(self, broker: BrokerSettings, edge: EdgeSettings, plant: str, queue: SampleQueue, health: EdgeHealth) -> None:
        address = broker.address
        if address is None:
            raise SettingsError("bad setting WASTEWATCH_MQTT_URL: required for `wastewatch edge run`")
        self.address = address
        self.edge = edge
        self.plant = plant
        self.queue = queue
        self.health = health
        self.presence: dict[str, bool] = {}
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        # MQTT 5 unless WASTEWATCH_MQTT_PROTOCOL says otherwise: its PUBACK says when the broker refuses a
        # message (an MQTT 3.1.1 broker acknowledges and drops it), and the edge publishes too little for
        # paho's MQTT 5 cost to matter (the shared default, 3.1.1, is the ingest's, for speed)
        self.protocol = broker.protocol if "protocol" in broker.model_fields_set else "5"
        client = make_client(address, f"wastewatch-edge-{plant}-{edge.edge_id}", protocol=self.protocol, ca_file=broker.ca_file)
        client.max_inflight_messages_set(edge.inflight_messages + 50)
        client.max_queued_messages_set(0)
        client.will_set(status_topic(plant, edge.edge_id), b"offline", qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self._refused: dict[int, str] = {}  # mid: the broker's reason (MQTT 5 PUBACK with a failure code)
        self._warned_refusal = False
        self.client = client
        self._thread = threading.Thread(target=self._run, name="edge-forwarder", daemon=True)
        health.on_presence = self.set_presence

    def start(self) -> None:
        connect(self.client, self.address)
        self.client.loop_start()
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop forwarding (what is not acknowledged stays queued); say offline for the edge and its devices."""
        self.stopping.set()
        self._thread.join(timeout=timeout_s)
        if self.connected.is_set():
            infos = [self.client.publish(status_topic(self.plant, d), b"offline", qos=1, retain=True) for d in self.presence]
            infos.append(self.client.publish(status_topic(self.plant, self.edge.edge_id), b"offline", qos=1, retain=True))
            for info in infos:
                try:
                    info.wait_for_publish(timeout=2)
                except (RuntimeError, ValueError):
                    pass
        self.client.disconnect()
        self.client.loop_stop()

    # --- presence and health (retained, sent only while connected; all sent again on every connect)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            logger.warning("broker refused the edge: %s", reason)
            return
        logger.info("edge connected to the broker %s:%d", self.address.host, self.address.port)
        client.publish(status_topic(self.plant, self.edge.edge_id), b"online", qos=1, retain=True)
        with self._lock:
            for device, online in self.presence.items():
                client.publish(status_topic(self.plant, device), b"online" if online else b"offline", qos=1, retain=True)
        self.health.broker_connected = True
        self.connected.set()
        self.publish_health()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if self.connected.is_set() and not self.stopping.is_set():
            logger.warning("edge lost the broker (%s): samples wait in the queue", reason)
        self.connected.clear()
        self.health.broker_connected = False

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            with self._lock:
                self._refused[mid] = str(reason)
            if not self._warned_refusal:  # a presence or health message refused too (the shipped device ACL allows neither)
                self._warned_refusal = True
                logger.warning("the broker refused a message of the edge (%s): check its ACL for plants/%s/status/+ and "
                               "plants/%s/edge/%s/health", reason, self.plant, self.plant, self.edge.edge_id)

    def set_presence(self, device: str, online: bool) -> None:
        with self._lock:
            self.presence[device] = online
            if self.connected.is_set():
                self.client.publish(status_topic(self.plant, device), b"online" if online else b"offline", qos=1, retain=True)

    def publish_health(self) -> None:
        if self.connected.is_set():
            payload = json.dumps(self.health.snapshot(), separators=(",", ":")).encode()
            self.client.publish(health_topic(self.plant, self.edge.edge_id), payload, qos=1, retain=True)

    # --- the queue

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._forward()
                return
            except Exception:  # a full disk, a bug: the rows stay queued and the forwarder goes on
                logger.exception("edge forwarder failed; retrying in 1 s (nothing is deleted before its PUBACK)")
                self.stopping.wait(1.0)

    def _forward(self) -> None:
        rows_per_round = self.edge.backfill_frames * self.edge.inflight_messages
        while not self.stopping.is_set():
            if not self.connected.wait(0.5):
                continue
            self.queue.changed.clear()
            rows = self.queue.oldest(rows_per_round)
            if not rows:
                self.queue.changed.wait(0.5)
                continue
            messages = build_messages(self.plant, [s for _, s in rows], self.edge.backfill_frames, self.edge.max_message_bytes)
            with self._lock:
                self._refused.clear()  # refusals of earlier presence or health messages, whose ids paho reuses
            infos = [self.client.publish(m.topic, m.payload, qos=1) for m in messages]
            if not self._wait_acknowledged(infos):
                return  # stopping: the rows stay queued
            with self._lock:
                refused = {m.topic: self._refused.pop(i.mid) for m, i in zip(messages, infos) if i.mid in self._refused}
            if refused:  # MQTT 5 says so; an MQTT 3.1.1 broker drops a refused message without a word
                self.health.broker_refusals += len(refused)
                logger.error("the broker refused %d messages (%s): the samples stay queued; check the edge's ACL (it publishes "
                             "plants/%s/telemetry, sensors/+, status/+ and edge/%s/health)",
                             len(refused), "; ".join(f"{t}: {r}" for t, r in refused.items())[:300], self.plant, self.edge.edge_id)
                self.stopping.wait(REFUSED_RETRY_S)
                continue
            self.queue.delete_through(rows[-1][0])
            self.health.published(sum(m.frames for m in messages), len(messages))

    def _wait_acknowledged(self, infos: list[mqtt.MQTTMessageInfo]) -> bool:
        for info in infos:
            while not _acknowledged(info):
                if self.stopping.is_set():
                    return False
                with info._condition:
                    if not info._published:
                        info._condition.wait(PUBACK_WAIT_S)
        return True


def _acknowledged(info: mqtt.MQTTMessageInfo) -> bool:
    """The PUBACK is in. Not `is_published()`: a message published while the connection was down keeps
    its MQTT_ERR_NO_CONN and raises there, though paho sends it on reconnect and marks it published
    (paho-mqtt is pinned to 2.x, whose `_published` and `_condition` this reads)."""
    return bool(info._published)
