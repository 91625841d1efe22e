"""Messages built to be dead-lettered, one per reason the ingest must give (domain.md §4.13)."""

from __future__ import annotations

import json
from random import Random

from simulators.messages import QOS, Message
from wastewatch.plant import PlantConfig
from wastewatch.topics import sensor_topic

TEN_YEARS_MS = 3650 * 86_400_000
UNKNOWN_SENSOR_ID = "t_tertiary"


def invalid_message(plant: PlantConfig, reason: str, ts_ms: int, at_ms: int, rng: Random) -> Message:
    """A sensor message stamped `ts_ms`, published at `at_ms`, that the ingest must reject with `reason`."""
    numeric = [s for s in plant.sensors if s.quantity != "state"] or plant.sensors
    sensor = rng.choice(numeric)
    topic = sensor_topic(plant.id, sensor.id)
    middle = (sensor.min + sensor.max) / 2
    if reason == "malformed_json":
        payload = f'{{"ts":{ts_ms},"value":{middle}'.encode()  # cut off before the closing brace
    elif reason == "unknown_sensor":
        unknown = UNKNOWN_SENSOR_ID
        while plant.sensor(unknown) is not None:
            unknown += "_x"
        topic = sensor_topic(plant.id, unknown)
        payload = f'{{"ts":{ts_ms},"value":{middle}}}'.encode()
    elif reason == "non_numeric":
        payload = json.dumps({"ts": ts_ms, "value": "abc"}).encode()
    elif reason == "non_finite":
        payload = json.dumps({"ts": ts_ms, "value": float("nan")}).encode()  # serialised as NaN
    elif reason == "out_of_range":
        beyond = sensor.max + max(1.0, 0.1 * (sensor.max - sensor.min))
        payload = json.dumps({"ts": ts_ms, "value": beyond}).encode()
    elif reason == "timestamp_too_old":
        payload = json.dumps({"ts": ts_ms - TEN_YEARS_MS, "value": middle}).encode()
    else:
        raise ValueError(f"no invalid message is defined for reason {reason!r}")
    return Message(topic, payload, QOS, False, "reading", False, reason, at_ms)
