"""Sparkplug B protobuf payloads: parsing one, reading a metric's number, building the rebirth request
and (for edge nodes, the simulator and the tests) births and data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from wastewatch.sparkplug import sparkplug_b_pb2 as pb

Payload = pb.Payload
Metric = pb.Payload.Metric

REBIRTH_METRIC = "Node Control/Rebirth"
BDSEQ_METRIC = "bdSeq"
# DataType values (sparkplug_b.proto): the numeric ones a reading can carry, and how each is encoded.
SIGNED_BITS: dict[int, int] = {pb.Int8: 8, pb.Int16: 16, pb.Int32: 32, pb.Int64: 64}
UNSIGNED_BITS: dict[int, int] = {pb.UInt8: 8, pb.UInt16: 16, pb.UInt32: 32, pb.UInt64: 64}
FLOATS: tuple[int, ...] = (pb.Float, pb.Double)
NUMERIC_TYPES: frozenset[int] = frozenset((*SIGNED_BITS, *UNSIGNED_BITS, *FLOATS, pb.Boolean))
_INT_FIELDS = ("int_value", "long_value")
_FIELD_OF_TYPE: dict[int, str] = {
    **{t: "int_value" for t in (pb.Int8, pb.Int16, pb.Int32, pb.UInt8, pb.UInt16, pb.UInt32)},
    pb.Int64: "long_value", pb.UInt64: "long_value", pb.DateTime: "long_value",
    pb.Float: "float_value", pb.Double: "double_value", pb.Boolean: "boolean_value",
    pb.String: "string_value", pb.Text: "string_value", pb.UUID: "string_value",
}


def parse_payload(data: bytes) -> pb.Payload:
    """The payload, or `ValueError` saying why the bytes are not one (not protobuf, text that is not UTF-8)."""
    try:
        payload: pb.Payload = pb.Payload.FromString(data)
    except (DecodeError, RecursionError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"not a Sparkplug B payload: {exc}"[:300]) from None
    return payload


def datatype_name(datatype: int) -> str:
    try:
        return str(pb.DataType.Name(datatype))  # an unknown number raises ValueError
    except ValueError:
        return f"datatype {datatype}"


def metric_number(metric: pb.Payload.Metric, datatype: int) -> float | None:
    """The metric's value as a number when `datatype` is numeric and the value is in its field; None when
    the datatype is not numeric; `ValueError` naming the problem when the value is missing or mismatched."""
    if datatype not in NUMERIC_TYPES:
        return None
    present = metric.WhichOneof("value")
    if present is None:
        raise ValueError(f"a {datatype_name(datatype)} metric without a value (and not is_null)")
    if datatype == pb.Boolean:
        if present != "boolean_value":
            raise ValueError(f"a Boolean metric carries {present}")
        return 1.0 if metric.boolean_value else 0.0
    if datatype in FLOATS:
        if present not in ("float_value", "double_value"):
            raise ValueError(f"a {datatype_name(datatype)} metric carries {present}")
        return float(getattr(metric, present))
    if present not in _INT_FIELDS:
        raise ValueError(f"a {datatype_name(datatype)} metric carries {present}")
    raw = int(getattr(metric, present))
    if datatype in SIGNED_BITS:
        bits = SIGNED_BITS[datatype]
        raw &= (1 << bits) - 1  # both encodings: sign-extended to 32/64 bits, or just the type's own bits
        return float(raw - (1 << bits) if raw >> (bits - 1) else raw)
    bits = UNSIGNED_BITS[datatype]
    if raw >> bits:
        raise ValueError(f"{raw} does not fit a {datatype_name(datatype)}")
    return float(raw)


def inferred_datatype(metric: pb.Payload.Metric) -> int:
    """A datatype for a metric that names none and was not announced in a birth: from the field its value is in."""
    return {
        "int_value": pb.UInt32, "long_value": pb.UInt64, "float_value": pb.Float, "double_value": pb.Double,
        "boolean_value": pb.Boolean, "string_value": pb.String,
    }.get(metric.WhichOneof("value") or "", pb.Unknown)


@dataclass(frozen=True, slots=True)
class MetricOut:
    """A metric to publish: by name, alias or both, a value of `datatype` (None: is_null)."""

    name: str | None
    value: float | int | bool | str | None
    datatype: int = pb.Double
    alias: int | None = None
    timestamp_ms: int | None = None
    quality: int | None = None  # the "Quality" property (192 = good), when the gateway sends one


def encode_payload(metrics: Sequence[MetricOut], *, timestamp_ms: int | None, seq: int | None) -> bytes:
    """A Sparkplug B payload of these metrics, as an edge node publishes it."""
    payload = pb.Payload()
    if timestamp_ms is not None:
        payload.timestamp = timestamp_ms
    if seq is not None:
        payload.seq = seq
    for out in metrics:
        metric = payload.metrics.add()
        if out.name is not None:
            metric.name = out.name
        if out.alias is not None:
            metric.alias = out.alias
        if out.timestamp_ms is not None:
            metric.timestamp = out.timestamp_ms
        metric.datatype = out.datatype
        if out.quality is not None:
            metric.properties.keys.append("Quality")
            metric.properties.values.add(type=pb.Int32, int_value=out.quality)
        if out.value is None:
            metric.is_null = True
            continue
        _set_value(metric, out.datatype, out.value)
    return bytes(payload.SerializeToString())


def _set_value(metric: pb.Payload.Metric, datatype: int, value: float | int | bool | str) -> None:
    name = _FIELD_OF_TYPE.get(datatype)
    if name is None:
        raise ValueError(f"cannot encode a {datatype_name(datatype)} metric")
    if name in _INT_FIELDS:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"a {datatype_name(datatype)} metric needs an int, got {value!r}")
        value &= (1 << (32 if name == "int_value" else 64)) - 1  # negative signed values as two's complement
    elif name == "float_value" or name == "double_value":
        if isinstance(value, (str, bool)):
            raise ValueError(f"a {datatype_name(datatype)} metric needs a number, got {value!r}")
        value = float(value)
    setattr(metric, name, value)


def rebirth_request(timestamp_ms: int) -> bytes:
    """The NCMD payload asking an edge node to publish its births again ("Node Control/Rebirth" = true)."""
    return encode_payload([MetricOut(REBIRTH_METRIC, True, pb.Boolean, timestamp_ms=timestamp_ms)], timestamp_ms=timestamp_ms, seq=None)
