"""Sparkplug B births, data and deaths into the contract's records, with each edge node's session.

Pure: no clock (`now_ms` is passed in), no I/O. Unlike the JSON decoder it keeps state, in memory and
only for the edge nodes a plant file names: per node session, the aliases and datatypes its NBIRTH
and its devices' DBIRTHs announced, the last sequence number and the birth's bdSeq. A birth resets
what it announces (an NBIRTH the whole node, a DBIRTH its device); an NDEATH whose bdSeq matches the
birth's ends the session. Values go through the JSON decoder's own checks (`checked_value`,
`parse_timestamp`), so a Sparkplug reading is refused for exactly the reasons a JSON one is.

When the decoder cannot trust its picture of a node (a sequence gap, data from a node it saw no
NBIRTH from, an alias no birth announced) it asks for a rebirth: `SparkplugDecoded.rebirth` is the
NCMD to publish, at most once per `rebirth_interval_ms` per node. The data of that message is still
used as far as it can be.

Births and deaths set device status (`DeviceStatus`, at the time received, as the JSON status topic
does) for the plant devices the mapping names. A "Quality" property maps to the reading's status:
an integer 192-255 (Ignition and OPC DA "good"; with the node's `quality: opc-ua`, an OPC UA StatusCode
whose severity bits are 00) or a string starting "good" is `valid`, any other integer or string is
`malfunction`; anything else is `bad_status`. A metric with `is_null` is no
reading. Only numeric datatypes (Int8…UInt64, Float, Double, Boolean as 0/1) make readings; a mapped
metric of another datatype is `non_numeric`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from wastewatch.decode import Decoded, DecodeLimits, PartRejected, Rejection, checked_value, parse_timestamp
from wastewatch.plant import PlantCatalog, PlantConfig, SparkplugNode
from wastewatch.records import DeviceStatus, Reading, SampleStatus
from wastewatch.sparkplug import sparkplug_b_pb2 as pb
from wastewatch.sparkplug.payload import (
    BDSEQ_METRIC,
    NUMERIC_TYPES,
    datatype_name,
    inferred_datatype,
    metric_number,
    parse_payload,
    rebirth_request,
)
from wastewatch.sparkplug.topics import SparkplugTopic, ncmd_topic, parse_sparkplug_topic

CONTROL_PREFIXES = ("Node Control/", "Device Control/", "Properties/", "Node Info/", "Device Info/")
DEFAULT_REBIRTH_INTERVAL_MS = 10_000
Scope = str | None  # a device id, or None for the node's own metrics
SessionChange = Literal["birth", "node_death", "device_death"]


@dataclass(slots=True)
class SparkplugDecoded(Decoded):
    """Records and rejections, the rebirth request to publish (topic, payload) when one is due, and how the
    message changed the node's session (a consumer that keeps births across restarts replays them)."""

    rebirth: tuple[str, bytes] | None = None
    session: SessionChange | None = None


@dataclass(slots=True)
class _Session:
    """What one edge node's births announced; `born` once its NBIRTH was seen."""

    born: bool = False
    bdseq: int | None = None
    seq: int | None = None
    aliases: dict[Scope, dict[int, str]] = field(default_factory=dict)
    types: dict[Scope, dict[str, int]] = field(default_factory=dict)


class SparkplugDecoder:
    """`decode(topic, payload, now_ms)` for `spBv1.0/…` topics; thread-safe (the alert worker decodes on
    one network thread per plant)."""

    def __init__(
        self, catalog: PlantCatalog, limits: DecodeLimits, *, rebirth_interval_ms: int = DEFAULT_REBIRTH_INTERVAL_MS,
        rebirth_on_gap: bool = True,
    ) -> None:
        self.catalog, self.limits, self.rebirth_interval_ms = catalog, limits, rebirth_interval_ms
        # False: a rebirth only for what this decoder cannot read (a node it saw no NBIRTH from, an unknown alias),
        # for a second consumer of the same stream, whose gaps the first (the ingest) already answers
        self.rebirth_on_gap = rebirth_on_gap
        self._sessions: dict[tuple[str, str], _Session] = {}
        self._rebirth_at: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def decode(self, topic: str, payload: bytes, now_ms: int) -> SparkplugDecoded:
        out = SparkplugDecoded()
        try:
            with self._lock:
                self._decode(topic, payload, now_ms, out)
        except PartRejected as exc:
            out.rejections.append(exc.rejection)
        except Exception as exc:  # a bug of ours must cost one message, never the worker
            return SparkplugDecoded(rejections=[Rejection("decoder_error", f"{type(exc).__name__}: {exc}"[:300])])
        return out

    def restore(self, births: Iterable[tuple[str, bytes]], now_ms: int) -> None:
        """Take up the sessions these kept births (NBIRTH before DBIRTH) describe; their records are not wanted
        again, and no rebirth is asked for meanwhile (the first live message shows whether one is due)."""
        for topic, payload in births:
            self.decode(topic, payload, now_ms)
        with self._lock:
            self._rebirth_at.clear()

    def _decode(self, topic: str, data: bytes, now_ms: int, out: SparkplugDecoded) -> None:
        if len(data) > self.limits.max_payload_bytes:
            raise PartRejected("payload_too_large", f"{len(data)} bytes > {self.limits.max_payload_bytes}")
        parsed = parse_sparkplug_topic(topic)
        if parsed is None:
            raise PartRejected("malformed_topic", f"not a Sparkplug B data topic: {topic[:200]!r}")
        found = self.catalog.sparkplug_node(parsed.group, parsed.edge_node)
        if found is None:
            raise PartRejected("unknown_plant", f"Sparkplug edge node {parsed.group}/{parsed.edge_node} is in no plant file"[:300])
        plant, node = found
        device = node.sparkplug_device(parsed.device) if parsed.device is not None else None
        if parsed.device is not None and device is None:
            raise PartRejected("unknown_plant", f"Sparkplug device {parsed.device!r} is not in {plant.id}'s mapping of {node.edge_node}"[:300])
        try:
            payload = parse_payload(data)
        except ValueError as exc:
            raise PartRejected("malformed_protobuf", str(exc)) from None
        key = (parsed.group, parsed.edge_node)
        if parsed.kind == "NDEATH":
            self._node_death(plant, node, key, payload, now_ms, out)
            out.session = "node_death"
            return
        if parsed.kind == "NBIRTH":
            session = self._sessions[key] = _Session(born=True, bdseq=_bdseq(payload), seq=_seq(payload))
        else:
            session = self._sessions.setdefault(key, _Session())
            in_sequence = self._in_sequence(session, payload)
            if not session.born or (not in_sequence and self.rebirth_on_gap):
                self._want_rebirth(key, parsed, now_ms, out)
        scope: Scope = parsed.device
        metrics = device.metrics if device is not None else node.metrics
        status_device = device.device if device is not None else node.device
        if parsed.kind in ("NBIRTH", "DBIRTH"):
            self._learn(session, scope, payload, out)
            out.session = "birth"
            if status_device is not None:
                out.records.append(DeviceStatus(plant.id, status_device, now_ms, True))
        elif parsed.kind == "DDEATH":
            session.aliases.pop(scope, None)
            session.types.pop(scope, None)
            out.session = "device_death"
            if status_device is not None:
                out.records.append(DeviceStatus(plant.id, status_device, now_ms, False))
            return
        elif not payload.metrics:
            raise PartRejected("invalid_payload", f"{parsed.kind} without metrics")
        birth = parsed.kind in ("NBIRTH", "DBIRTH")
        for index, metric in enumerate(payload.metrics):
            try:
                reading = self._reading(plant, node, metrics, session, scope, payload, metric, now_ms, birth)
            except PartRejected as exc:
                out.rejections.append(Rejection(exc.rejection.reason, f"metric [{index}] {exc.rejection.detail}"[:300]))
                if exc.rejection.reason == "unknown_alias":
                    self._want_rebirth(key, parsed, now_ms, out)
                continue
            if reading is not None:
                out.records.append(reading)

    # -- the node's session ------------------------------------------------------------------------

    def _node_death(
        self, plant: PlantConfig, node: SparkplugNode, key: tuple[str, str], payload: pb.Payload, now_ms: int, out: SparkplugDecoded
    ) -> None:
        session = self._sessions.get(key)
        bdseq = _bdseq(payload)
        if session is not None and session.bdseq is not None and bdseq != session.bdseq:
            raise PartRejected(
                "stale_death", f"NDEATH bdSeq {bdseq} is not the current NBIRTH's {session.bdseq}: an earlier session's will"
            )
        self._sessions.pop(key, None)
        devices = [node.device] + [d.device for d in node.devices]
        for device in dict.fromkeys(d for d in devices if d is not None):
            out.records.append(DeviceStatus(plant.id, device, now_ms, False))

    @staticmethod
    def _in_sequence(session: _Session, payload: pb.Payload) -> bool:
        """Take the message's seq; False on a gap (a repeat of the last seq, a redelivery, is no gap)."""
        seq, last = _seq(payload), session.seq
        session.seq = seq
        if seq is None:
            return False
        return last is None or seq in ((last + 1) % 256, last)

    def _want_rebirth(self, key: tuple[str, str], parsed: SparkplugTopic, now_ms: int, out: SparkplugDecoded) -> None:
        if out.rebirth is not None:
            return
        last = self._rebirth_at.get(key)
        if last is not None and now_ms - last < self.rebirth_interval_ms:
            return
        self._rebirth_at[key] = now_ms
        out.rebirth = (ncmd_topic(parsed.group, parsed.edge_node), rebirth_request(now_ms))

    @staticmethod
    def _learn(session: _Session, scope: Scope, payload: pb.Payload, out: SparkplugDecoded) -> None:
        """A birth's aliases and datatypes, replacing what the scope had (an NBIRTH: every scope)."""
        if scope is None:
            session.aliases.clear()
            session.types.clear()
        aliases: dict[int, str] = {}
        types: dict[str, int] = {}
        for index, metric in enumerate(payload.metrics):
            if not metric.name:
                continue
            if metric.HasField("alias"):
                known = aliases.setdefault(metric.alias, metric.name)
                if known != metric.name:
                    out.rejections.append(Rejection(
                        "invalid_payload", f"metric [{index}] alias {metric.alias} given to {known[:60]!r} and {metric.name[:60]!r}"
                    ))
            if metric.datatype:
                types[metric.name] = metric.datatype
        session.aliases[scope], session.types[scope] = aliases, types

    # -- one metric ----------------------------------------------------------------------------------

    def _reading(
        self, plant: PlantConfig, node: SparkplugNode, metrics: dict[str, str], session: _Session, scope: Scope,
        payload: pb.Payload, metric: pb.Payload.Metric, now_ms: int, birth: bool,
    ) -> Reading | None:
        name = metric.name
        if not name:
            if not metric.HasField("alias"):
                raise PartRejected("invalid_payload", "has neither a name nor an alias")
            found = session.aliases.get(scope, {}).get(metric.alias)
            if found is None:
                raise PartRejected("unknown_alias", f"alias {metric.alias} was announced by no birth of this session")
            name = found
        sensor = metrics.get(name)
        if sensor is None:
            if birth or node.unmapped == "ignore" or name == BDSEQ_METRIC or name.startswith(CONTROL_PREFIXES):
                return None  # a birth announces every metric; control metrics are not readings
            raise PartRejected("unmapped_metric", f"{name[:80]!r} is no sensor of plant {plant.id} (its sparkplug mapping)")
        if metric.is_null:
            return None
        datatype = metric.datatype or session.types.get(scope, {}).get(name) or inferred_datatype(metric)
        if datatype not in NUMERIC_TYPES:
            raise PartRejected("non_numeric", f"{name[:80]!r} ({sensor}) is a {datatype_name(datatype)}, not a number")
        try:
            raw = metric_number(metric, datatype)
        except ValueError as exc:
            raise PartRejected("invalid_payload", f"{name[:80]!r}: {exc}"[:300]) from None
        if metric.HasField("timestamp"):
            ts = metric.timestamp
        elif payload.HasField("timestamp"):
            ts = payload.timestamp
        else:
            raise PartRejected("bad_timestamp", f"{name[:80]!r} has no timestamp, nor has its payload")
        time_ms = parse_timestamp(ts, now_ms, self.limits)
        return Reading(plant.id, sensor, time_ms, checked_value(plant, sensor, raw), _quality(metric, node.quality))


def _seq(payload: pb.Payload) -> int | None:
    return payload.seq if payload.HasField("seq") and payload.seq <= 255 else None


def _bdseq(payload: pb.Payload) -> int | None:
    for metric in payload.metrics:
        if metric.name == BDSEQ_METRIC:
            kind = metric.WhichOneof("value")
            if kind in ("int_value", "long_value"):
                return int(getattr(metric, kind))
    return None


def _good_code(code: int, scheme: Literal["opc-da", "opc-ua"]) -> bool:
    """An integer quality is good: OPC DA 192-255, or an OPC UA StatusCode of Good severity (top two bits 00)."""
    if scheme == "opc-ua":
        return 0 <= code <= 0xFFFF_FFFF and code >> 30 == 0
    return 192 <= code <= 255


def _quality(metric: pb.Payload.Metric, scheme: Literal["opc-da", "opc-ua"]) -> SampleStatus:
    if not metric.HasField("properties"):
        return "valid"
    keys = [key.lower() for key in metric.properties.keys]
    if "quality" not in keys:
        return "valid"
    index = keys.index("quality")
    if index >= len(metric.properties.values) or metric.properties.values[index].is_null:
        return "valid"
    value = metric.properties.values[index]
    kind = value.WhichOneof("value")
    if kind in ("int_value", "long_value"):
        return "valid" if _good_code(int(getattr(value, kind)), scheme) else "malfunction"
    if kind == "string_value":
        return "valid" if value.string_value.strip().lower().startswith("good") else "malfunction"
    raise PartRejected("bad_status", f"Quality property holds {kind or 'no value'}, not a code or a word")
