"""Decode and validate one MQTT message into records (pure: no clock, no I/O).

A message that cannot be used at all is one `Rejection`; a message with some bad parts (one bad
value in a telemetry frame, one bad element of a back-fill array) keeps its good records and
carries a rejection for each bad part, so nothing good is lost with the bad.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.records import SAMPLE_STATUSES, Batch, DeviceStatus, Reading, Record
from wastewatch.topics import is_valid_id, parse_topic

RejectReason = Literal[
    "payload_too_large",
    "malformed_topic",
    "unknown_plant",
    "unknown_sensor",
    "malformed_json",
    "invalid_payload",
    "bad_timestamp",
    "timestamp_too_old",
    "timestamp_in_future",
    "non_numeric",
    "non_finite",
    "out_of_range",
    "bad_status",
    "unknown_facility",
    "decoder_error",
    # Sparkplug B (wastewatch.sparkplug.decode)
    "malformed_protobuf",
    "unknown_alias",
    "unmapped_metric",
    "stale_death",
]
REJECT_REASONS: tuple[str, ...] = RejectReason.__args__  # type: ignore[attr-defined]
MAX_BACKFILL_ITEMS = 10_000
# A waste code is a tag: letters, digits and the separators codes use ("A337-1", EU "18 01 03*"); never a
# backslash, quote or control character, which line protocol would carry badly or not at all.
WASTE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .*/-]{0,15}")
FacilityPolicy = Literal["reject", "accept"]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why (part of) a message was not used: a reason code and a human-readable detail."""

    reason: RejectReason
    detail: str


class LimitSettings(Protocol):
    """What the limits are read from (`wastewatch.settings.DecodeSettings`; the decoder imports no settings)."""

    @property
    def max_payload_bytes(self) -> int: ...
    @property
    def max_age_days(self) -> float: ...
    @property
    def max_future_s(self) -> float: ...
    @property
    def unknown_facility(self) -> FacilityPolicy: ...


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    max_payload_bytes: int = 256 * 1024
    max_age_ms: int = 400 * 86_400_000
    max_future_ms: int = 300_000
    # "reject": a batch from a facility the plant file does not list is dead-lettered (it would count as a
    # facility served); "accept": any well-formed facility id is stored. A plant file that lists no
    # facilities accepts any well-formed id either way.
    unknown_facility: FacilityPolicy = "reject"

    @classmethod
    def from_settings(cls, settings: LimitSettings) -> DecodeLimits:
        """The limits a live consumer decodes with: the `WASTEWATCH_INGEST_MAX_*` settings and the facility policy."""
        return cls(
            max_payload_bytes=settings.max_payload_bytes,
            max_age_ms=int(settings.max_age_days * 86_400_000),
            max_future_ms=int(settings.max_future_s * 1000),
            unknown_facility=settings.unknown_facility,
        )


@dataclass(slots=True)
class Decoded:
    records: list[Record] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


_parse_topic = functools.lru_cache(maxsize=4096)(parse_topic)  # a Topic is immutable; live topics repeat


class _Reject(Exception):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        self.rejection = Rejection(reason, detail)


# The checks other decoders share (the Sparkplug decoder): they raise `PartRejected`, whose `rejection` says why.
PartRejected = _Reject


def decode_message(topic: str, payload: bytes, catalog: PlantCatalog, now_ms: int, limits: DecodeLimits) -> Decoded:
    """Records from one message, and a rejection for each part that could not be used."""
    out = Decoded()
    try:
        _decode(topic, payload, catalog, now_ms, limits, out)
    except _Reject as exc:
        out.rejections.append(exc.rejection)
    except Exception as exc:  # a bug of ours must cost one message, never the worker
        return Decoded(rejections=[Rejection("decoder_error", f"{type(exc).__name__}: {exc}"[:300])])
    return out


def _decode(topic: str, payload: bytes, catalog: PlantCatalog, now_ms: int, limits: DecodeLimits, out: Decoded) -> None:
    if len(payload) > limits.max_payload_bytes:
        raise _Reject("payload_too_large", f"{len(payload)} bytes > {limits.max_payload_bytes}")
    parsed = _parse_topic(topic)
    if parsed is None or parsed.kind in ("state", "alert"):
        raise _Reject("malformed_topic", f"not a data topic of the contract: {topic[:200]!r}")
    plant = catalog.get(parsed.plant)
    if plant is None:
        raise _Reject("unknown_plant", f"plant {parsed.plant!r} is not in the catalogue")
    if parsed.kind == "status":
        out.records.append(_status(plant.id, parsed.name or "", payload, now_ms))
        return
    body = _json(payload)
    is_list = isinstance(body, list)
    items = body if is_list else [body]
    if not items:
        raise _Reject("invalid_payload", "empty back-fill array")
    if len(items) > MAX_BACKFILL_ITEMS:
        raise _Reject("invalid_payload", f"back-fill array of {len(items)} > {MAX_BACKFILL_ITEMS} items")
    kind, records = parsed.kind, out.records
    for index, item in enumerate(items):
        try:
            if kind == "sensor":
                records.append(_reading(plant, parsed.name or "", item, now_ms, limits))
            elif kind == "batch":
                records.append(_batch(plant, item, now_ms, limits))
            else:
                _telemetry(plant, item, now_ms, limits, out, f"[{index}] " if is_list else "")
        except _Reject as exc:
            where = f"[{index}] " if is_list else ""
            out.rejections.append(Rejection(exc.rejection.reason, where + exc.rejection.detail))


def _json(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Reject("malformed_json", f"not JSON: {exc}"[:300]) from None


def _object(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _Reject("invalid_payload", f"expected a JSON object, got {type(item).__name__}")
    return item


def parse_timestamp(value: Any, now_ms: int, limits: DecodeLimits) -> int:
    """Epoch milliseconds from an RFC 3339 string or an integer of epoch milliseconds."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _Reject("bad_timestamp", f"ts must be an RFC 3339 string or integer epoch ms, got {value!r}"[:200])
    if isinstance(value, int):
        ts_ms = value
    else:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _Reject("bad_timestamp", f"ts {value[:60]!r} is not RFC 3339") from None
        if parsed.tzinfo is None:
            raise _Reject("bad_timestamp", f"ts {value[:60]!r} has no UTC offset")
        try:
            ts_ms = round(parsed.timestamp() * 1000)
        except (OverflowError, OSError, ValueError):
            raise _Reject("bad_timestamp", f"ts {value[:60]!r} is out of range") from None
    if ts_ms < now_ms - limits.max_age_ms:
        raise _Reject("timestamp_too_old", f"ts {value!r} is older than {limits.max_age_ms // 86_400_000} days"[:200])
    if ts_ms > now_ms + limits.max_future_ms:
        raise _Reject("timestamp_in_future", f"ts {value!r} is more than {limits.max_future_ms // 1000} s ahead"[:200])
    return ts_ms


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Reject("non_numeric", f"{what} is not a number: {value!r}"[:200])
    try:
        number = float(value)
    except OverflowError:
        raise _Reject("non_finite", f"{what} is too large for a float") from None
    if not math.isfinite(number):
        raise _Reject("non_finite", f"{what} is {number}")
    return number


def _checked_value(plant: PlantConfig, sensor_id: str, raw: Any) -> float:
    sensor = plant.sensor(sensor_id)
    if sensor is None:
        raise _Reject("unknown_sensor", f"sensor {sensor_id[:80]!r} is not in plant {plant.id}'s catalogue")
    # A finite float (inf - inf and nan - nan are nan) needs no further check; anything else goes through _number.
    value = raw if type(raw) is float and raw - raw == 0.0 else _number(raw, f"{sensor_id} value")
    if not sensor.min <= value <= sensor.max:
        raise _Reject("out_of_range", f"{sensor_id} value {value} outside [{sensor.min}, {sensor.max}] {sensor.unit}")
    return value


def checked_value(plant: PlantConfig, sensor_id: str, raw: Any) -> float:
    """`raw` as a sensor's value: a known sensor, a finite number within its plausible range (or `PartRejected`)."""
    return _checked_value(plant, sensor_id, raw)


def _reading(plant: PlantConfig, sensor_id: str, item: Any, now_ms: int, limits: DecodeLimits) -> Reading:
    obj = _object(item)
    if "value" not in obj or "ts" not in obj:
        raise _Reject("invalid_payload", "a sensor message needs 'ts' and 'value'")
    status = obj.get("status", "valid")
    if status not in SAMPLE_STATUSES:
        raise _Reject("bad_status", f"status {status!r} is not one of {', '.join(SAMPLE_STATUSES)}"[:200])
    value = _checked_value(plant, sensor_id, obj["value"])
    return Reading(plant.id, sensor_id, parse_timestamp(obj["ts"], now_ms, limits), value, status)


def _telemetry(plant: PlantConfig, item: Any, now_ms: int, limits: DecodeLimits, out: Decoded, where: str) -> None:
    obj = _object(item)
    values = obj.get("values")
    if "ts" not in obj or not isinstance(values, dict) or not values:
        raise _Reject("invalid_payload", "a telemetry frame needs 'ts' and a non-empty 'values' object")
    ts_ms = parse_timestamp(obj["ts"], now_ms, limits)
    for sensor_id, raw in values.items():
        try:
            out.records.append(Reading(plant.id, sensor_id, ts_ms, _checked_value(plant, str(sensor_id), raw)))
        except _Reject as exc:
            out.rejections.append(Rejection(exc.rejection.reason, where + exc.rejection.detail))


def _text(obj: dict[str, Any], key: str, max_len: int, required: bool, pattern: re.Pattern[str] | None = None) -> str | None:
    """A printable string of at most `max_len` characters (no control character, no lone surrogate)."""
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise _Reject("invalid_payload", f"{key} must be a non-empty string of at most {max_len} characters")
    value = value.strip()
    if not value.isprintable():
        raise _Reject("invalid_payload", f"{key} {value[:40]!r} holds a control character or an invalid code point"[:200])
    if pattern is not None and not pattern.fullmatch(value):
        raise _Reject("invalid_payload", f"{key} {value[:40]!r} does not match {pattern.pattern}"[:200])
    return value


def _batch(plant: PlantConfig, item: Any, now_ms: int, limits: DecodeLimits) -> Batch:
    obj = _object(item)
    if "ts" not in obj:
        raise _Reject("invalid_payload", "a batch needs 'ts'")
    batch_id = _text(obj, "batch_id", 128, required=True)
    source = _text(obj, "source", 64, required=True)
    if source is None or not is_valid_id(source):
        raise _Reject("invalid_payload", f"source {obj.get('source')!r} is not a valid facility id"[:200])
    if limits.unknown_facility == "reject" and plant.facilities and not any(f.id == source for f in plant.facilities):
        raise _Reject("unknown_facility", f"source {source!r} is not a facility of plant {plant.id} (its plant file)")
    if "mass_kg" not in obj:
        raise _Reject("invalid_payload", "a batch needs 'mass_kg'")
    mass_kg = _number(obj["mass_kg"], "mass_kg")
    max_kg = plant.capacity_kg_h  # one batch heavier than an hour's capacity cannot be a real weighing
    if not 0 < mass_kg <= max_kg:
        raise _Reject("out_of_range", f"mass_kg {mass_kg} outside (0, {max_kg}]")
    return Batch(
        plant.id,
        batch_id or "",
        parse_timestamp(obj["ts"], now_ms, limits),
        mass_kg,
        source,
        _text(obj, "waste_code", 16, required=False, pattern=WASTE_CODE),
        _text(obj, "manifest_no", 64, required=False),
    )


def _status(plant_id: str, device: str, payload: bytes, now_ms: int) -> DeviceStatus:
    text = payload.decode("utf-8", errors="replace").strip().strip('"').lower()
    if text not in ("online", "offline"):
        raise _Reject("bad_status", f"device status must be 'online' or 'offline', got {text[:40]!r}")
    return DeviceStatus(plant_id, device, now_ms, text == "online")
