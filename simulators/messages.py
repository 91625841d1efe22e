"""The simulator's output: MQTT messages as plain data, and their payloads in the MQTT contract.

Each message also carries the records the ingest should store from it (`records`), or, for a
message built to be dead-lettered, `valid=False` and the reason the ingest should give.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from wastewatch.records import Batch, DeviceStatus, Reading

MessageKind = Literal["reading", "telemetry", "batch", "status"]
QOS = 1


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT publish and what it should become at the ingest.

    `at_ms` is the simulated instant it is published (later than its timestamps when it was held
    back or delayed); `copy` marks a deliberate duplicate of the message before it.
    """

    topic: str
    payload: bytes
    qos: int
    retain: bool
    kind: MessageKind
    valid: bool
    expected_reason: str | None
    at_ms: int
    records: tuple[Reading | Batch | DeviceStatus, ...] = ()
    copy: bool = False


def format_number(value: float, decimals: int) -> str:
    """A JSON number: integers without a fraction, others with at most `decimals` places."""
    if decimals <= 0 or value == int(value):
        return str(int(value))
    return repr(round(value, decimals))


def reading_payload(ts_ms: int, value_text: str, status: str) -> bytes:
    """`{"ts":…,"value":…}` plus `"status"` when the sample is not valid."""
    if status == "valid":
        return f'{{"ts":{ts_ms},"value":{value_text}}}'.encode()
    return f'{{"ts":{ts_ms},"value":{value_text},"status":"{status}"}}'.encode()


def telemetry_payload(ts_ms: int, values: list[tuple[str, str]]) -> bytes:
    """`{"ts":…,"values":{"sensor":number,…}}` from already formatted numbers."""
    body = ",".join(f'"{sensor}":{text}' for sensor, text in values)
    return f'{{"ts":{ts_ms},"values":{{{body}}}}}'.encode()


def batch_payload(batch: Batch) -> bytes:
    return json.dumps(
        {
            "ts": batch.time_ms,
            "batch_id": batch.batch_id,
            "mass_kg": batch.mass_kg,
            "source": batch.source,
            "waste_code": batch.waste_code,
            "manifest_no": batch.manifest_no,
        },
        separators=(",", ":"),
    ).encode()


def backfill_payload(payloads: list[bytes]) -> bytes:
    """Several JSON payloads of one topic as one JSON array, the contract's back-fill form."""
    return b"[" + b",".join(payloads) + b"]"


def status_message(topic: str, device_status: DeviceStatus, at_ms: int) -> Message:
    text = b"online" if device_status.online else b"offline"
    return Message(topic, text, QOS, True, "status", True, None, at_ms, (device_status,))
