"""The MQTT topic contract (see README, "MQTT contract"): building and parsing topic names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_ID = re.compile(ID_PATTERN)

TopicKind = Literal["sensor", "telemetry", "batch", "status", "state", "alert"]


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic: its kind, the plant and, for sensor and status topics, the sensor or device."""

    kind: TopicKind
    plant: str
    name: str | None = None


def is_valid_id(value: str) -> bool:
    return bool(_ID.match(value))


def sensor_topic(plant: str, sensor: str) -> str:
    return f"plants/{plant}/sensors/{sensor}"


def telemetry_topic(plant: str) -> str:
    return f"plants/{plant}/telemetry"


def batch_topic(plant: str) -> str:
    return f"plants/{plant}/batches"


def status_topic(plant: str, device: str) -> str:
    return f"plants/{plant}/status/{device}"


def state_topic(plant: str) -> str:
    """Where the plant's derived operating state is published (retained)."""
    return f"plants/{plant}/state"


def data_subscriptions(plant: str = "+") -> list[str]:
    """The topic filters of the data a consumer stores or judges: sensor readings, telemetry frames,
    batches and device status, of every plant or, given `plant`, of that one."""
    return [sensor_topic(plant, "+"), telemetry_topic(plant), batch_topic(plant), status_topic(plant, "+")]


def parse_topic(topic: str) -> Topic | None:
    """Parse an ingestible topic; None when it is not one of the contract's data topics."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != "plants" or not _ID.match(parts[1]):
        return None
    plant = parts[1]
    if len(parts) == 4 and parts[2] == "sensors" and _ID.match(parts[3]):
        return Topic("sensor", plant, parts[3])
    if len(parts) == 4 and parts[2] == "status" and _ID.match(parts[3]):
        return Topic("status", plant, parts[3])
    if len(parts) == 3 and parts[2] == "telemetry":
        return Topic("telemetry", plant)
    if len(parts) == 3 and parts[2] == "batches":
        return Topic("batch", plant)
    if len(parts) == 3 and parts[2] == "state":
        return Topic("state", plant)
    if len(parts) >= 3 and parts[2] == "alerts":
        return Topic("alert", plant)
    return None
