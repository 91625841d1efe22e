"""Queued samples as MQTT messages of the contract (a pure function).

A sample's valid values go into a telemetry frame `{"ts": <edge epoch ms>, "values": {...}}` on
`plants/{plant}/telemetry`. A frame cannot carry a status (the contract's frames are numbers only),
so a value whose status register says `maintenance` or `malfunction` goes on its sensor's topic
instead, `plants/{plant}/sensors/{sensor}` as `{"ts": …, "value": …, "status": "maintenance"}`.
Several frames (or several readings of one sensor) in a row become one back-fill array, cut at
`max_frames` items or before `max_bytes`; a single one is sent as a plain object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from edge.sources import Sample
from wastewatch.topics import sensor_topic, telemetry_topic


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    frames: int  # telemetry frames or sensor readings it carries


def _dump(item: object) -> str:
    return json.dumps(item, separators=(",", ":"), allow_nan=False)


def _pack(topic: str, items: list[str], max_frames: int, max_bytes: int) -> list[Message]:
    out: list[Message] = []
    chunk: list[str] = []
    size = 2
    for item in items:
        if chunk and (len(chunk) >= max_frames or size + len(item) + 1 > max_bytes):
            out.append(_message(topic, chunk))
            chunk, size = [], 2
        chunk.append(item)
        size += len(item) + 1
    if chunk:
        out.append(_message(topic, chunk))
    return out


def _message(topic: str, chunk: list[str]) -> Message:
    text = chunk[0] if len(chunk) == 1 else "[" + ",".join(chunk) + "]"
    return Message(topic, text.encode(), len(chunk))


def build_messages(plant: str, samples: list[Sample], max_frames: int = 500, max_bytes: int = 128 * 1024) -> list[Message]:
    """The messages that carry `samples` (in their order): telemetry first, then flagged readings by sensor."""
    frames: list[str] = []
    flagged: dict[str, list[str]] = {}
    for sample in samples:
        valid = {k: v for k, v in sample.values.items() if k not in sample.status}
        if valid:
            frames.append(_dump({"ts": sample.ts_ms, "values": valid}))
        for sensor, status in sample.status.items():
            if sensor in sample.values:
                flagged.setdefault(sensor, []).append(_dump({"ts": sample.ts_ms, "value": sample.values[sensor], "status": status}))
    messages = _pack(telemetry_topic(plant), frames, max_frames, max_bytes)
    for sensor, items in flagged.items():
        messages += _pack(sensor_topic(plant, sensor), items, max_frames, max_bytes)
    return messages
