"""Sparkplug B topic names: `spBv1.0/<group>/<message type>/<edge node>[/<device>]`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

NAMESPACE = "spBv1.0"
MessageType = Literal["NBIRTH", "NDATA", "NDEATH", "DBIRTH", "DDATA", "DDEATH"]
NODE_MESSAGES: tuple[MessageType, ...] = ("NBIRTH", "NDATA", "NDEATH")
DEVICE_MESSAGES: tuple[MessageType, ...] = ("DBIRTH", "DDATA", "DDEATH")
_FORBIDDEN = frozenset("+#")


@dataclass(frozen=True, slots=True)
class SparkplugTopic:
    """A parsed Sparkplug data topic; `device` is None for the node's own messages (N…)."""

    kind: MessageType
    group: str
    edge_node: str
    device: str | None = None


def is_sparkplug(topic: str) -> bool:
    """Whether `topic` is in the Sparkplug B namespace (decoded by `wastewatch.sparkplug.decode`)."""
    return topic.startswith(NAMESPACE + "/")


def _valid_id(part: str) -> bool:
    return bool(part) and not _FORBIDDEN.intersection(part)


def parse_sparkplug_topic(topic: str) -> SparkplugTopic | None:
    """The data topic's parts; None for anything else (commands, STATE, a malformed name)."""
    parts = topic.split("/")
    if len(parts) not in (4, 5) or parts[0] != NAMESPACE or not all(_valid_id(p) for p in parts[1:]):
        return None
    kind = parts[2]
    if len(parts) == 4 and kind in NODE_MESSAGES:
        return SparkplugTopic(kind, parts[1], parts[3])
    if len(parts) == 5 and kind in DEVICE_MESSAGES:
        return SparkplugTopic(kind, parts[1], parts[3], parts[4])
    return None


def sparkplug_topic(kind: MessageType, group: str, edge_node: str, device: str | None = None) -> str:
    return f"{NAMESPACE}/{group}/{kind}/{edge_node}" + (f"/{device}" if device is not None else "")


def ncmd_topic(group: str, edge_node: str) -> str:
    """Where a command to an edge node (the rebirth request) is published."""
    return f"{NAMESPACE}/{group}/NCMD/{edge_node}"


def sparkplug_subscriptions(nodes: Iterable[tuple[str, str]] | None = None) -> list[str]:
    """Topic filters for the births, data and deaths of the (group, edge node) pairs, or of every node (None).
    Commands and STATE are left out: they are not data, and the ingest's own rebirth requests are commands."""
    pairs = [("+", "+")] if nodes is None else list(nodes)
    filters = []
    for group, edge in pairs:
        filters += [sparkplug_topic(kind, group, edge) for kind in NODE_MESSAGES]
        filters += [sparkplug_topic(kind, group, edge, "+") for kind in DEVICE_MESSAGES]
    return filters
