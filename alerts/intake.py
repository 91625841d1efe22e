"""Decoding the alert worker's messages: a fast path for the usual one (one reading on a sensor topic),
the ingest's decoder (`wastewatch.decode.decode_message`) for everything else, and the ingest's
Sparkplug B decoder (`wastewatch.sparkplug.decode`) for `spBv1.0/…` topics, so the worker judges
exactly the readings the ingest stores. Sequence gaps are the ingest's to answer; the worker asks an
edge node for a rebirth (through the plant's feed, `attach`) only when it cannot read the node's data:
after its own restart, or an alias it saw no birth announce.

The fast path gives exactly the records the decoder would, or gives up: any payload it does not
recognise as plainly valid (a string timestamp, an unknown key, a value out of range, a bad status)
goes to the decoder, which also says why a message is refused. Topics are looked up once.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable

from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.plant import PlantCatalog, SensorSpec
from wastewatch.records import SAMPLE_STATUSES, Reading, Record
from wastewatch.sparkplug.decode import SparkplugDecoder
from wastewatch.sparkplug.topics import is_sparkplug, parse_sparkplug_topic, sparkplug_subscriptions
from wastewatch.topics import data_subscriptions, parse_topic

_KEYS = frozenset(("ts", "value", "status"))
MAX_TOPICS = 100_000  # a bound on the topic memo; only topics of catalogue sensors are memoised


class MessageDecoder:
    """`decode(topic, payload, now_ms)`: the records of one message (rejected parts are left out)."""

    def __init__(self, catalog: PlantCatalog, limits: DecodeLimits) -> None:
        self.catalog, self.limits = catalog, limits
        self._sensors: dict[str, tuple[str, str, SensorSpec]] = {}  # topic -> (plant, sensor, spec)
        self._sparkplug = SparkplugDecoder(catalog, limits, rebirth_on_gap=False)
        self._publishers: dict[str, Callable[[str, bytes], None]] = {}  # plant -> its feed's publish
        self._lock = threading.Lock()

    def attach(self, plant: str, publish: Callable[[str, bytes], None] | None) -> None:
        """Where the rebirth requests for `plant`'s edge nodes go (its feed), or nowhere (None)."""
        with self._lock:
            if publish is None:
                self._publishers.pop(plant, None)
            else:
                self._publishers[plant] = publish

    def subscriptions(self, plant: str) -> list[str]:
        """The topic filters of one plant's feed: its JSON data topics and its Sparkplug edge nodes'."""
        config = self.catalog.get(plant)
        nodes = [(node.group, node.edge_node) for node in config.sparkplug] if config is not None else []
        return data_subscriptions(plant) + (sparkplug_subscriptions(nodes) if nodes else [])

    def decode(self, topic: str, payload: bytes | bytearray, now_ms: int) -> list[Record]:
        reading = self._one_reading(topic, payload, now_ms)
        if reading is not None:
            return [reading]
        if is_sparkplug(topic):
            decoded = self._sparkplug.decode(topic, bytes(payload), now_ms)
            if decoded.rebirth is not None:
                self._request_rebirth(topic, *decoded.rebirth)
            return decoded.records
        return decode_message(topic, bytes(payload), self.catalog, now_ms, self.limits).records

    def _request_rebirth(self, topic: str, command_topic: str, command: bytes) -> None:
        parsed = parse_sparkplug_topic(topic)
        found = self.catalog.sparkplug_node(parsed.group, parsed.edge_node) if parsed is not None else None
        with self._lock:
            publish = self._publishers.get(found[0].id) if found is not None else None
        if publish is not None:
            publish(command_topic, command)

    def _sensor(self, topic: str) -> tuple[str, str, SensorSpec] | None:
        found = self._sensors.get(topic)
        if found is not None:
            return found
        parsed = parse_topic(topic)
        if parsed is None or parsed.kind != "sensor" or parsed.name is None:
            return None
        plant = self.catalog.get(parsed.plant)
        spec = plant.sensor(parsed.name) if plant is not None else None
        if plant is None or spec is None:
            return None
        found = (plant.id, parsed.name, spec)
        if len(self._sensors) < MAX_TOPICS:
            self._sensors[topic] = found
        return found

    def _one_reading(self, topic: str, payload: bytes | bytearray, now_ms: int) -> Reading | None:
        """The reading of a plainly valid one-reading message, or None (the decoder decides)."""
        if len(payload) > self.limits.max_payload_bytes:
            return None
        sensor = self._sensor(topic)
        if sensor is None:
            return None
        try:
            body = json.loads(payload.decode())  # as text: json.loads would first sniff the bytes' encoding
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        if type(body) is not dict or not body.keys() <= _KEYS:
            return None
        ts, raw, status = body.get("ts"), body.get("value"), body.get("status", "valid")
        # exact types: bool is an int, and the decoder refuses it as a number and as a timestamp
        if type(ts) is not int or not (type(raw) is int or type(raw) is float) or status not in SAMPLE_STATUSES:
            return None
        if not now_ms - self.limits.max_age_ms <= ts <= now_ms + self.limits.max_future_ms:
            return None
        try:
            value = float(raw)
        except OverflowError:
            return None
        plant, sensor_id, spec = sensor
        if not math.isfinite(value) or not spec.min <= value <= spec.max:
            return None
        return Reading(plant, sensor_id, ts, value, status)
