"""The Sparkplug births the ingest last accepted, per edge node and device, on disk: replayed into the
decoder when the ingest starts, so aliased data queued at the broker during a restart is still decoded.

One row per (group, edge node, device or '' for the node): an NBIRTH replaces the node's rows, a DBIRTH
its device's, an NDEATH deletes the node's, a DDEATH its device's. Bounded by the plant files (only
mapped nodes and devices reach it) and the payload limit. Written by the writer thread with the batch the
births belong to, before its acknowledgements; a failure is logged and costs only the replay.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from wastewatch.sparkplug.decode import SessionChange
from wastewatch.sparkplug.topics import parse_sparkplug_topic
from wastewatch.sqlite import open_sqlite

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sparkplug_births (
    group_id TEXT NOT NULL,
    edge_node TEXT NOT NULL,
    device TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (group_id, edge_node, device)
);
"""
SessionOp = tuple[SessionChange, str, bytes]  # (what changed, topic, payload)


class SparkplugBirths:
    """The kept births in SQLite (WAL), one connection shared by the network and writer threads under a lock."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_sqlite(path)
        self._db.executescript(_SCHEMA)
        self._n = int(self._db.execute("SELECT coalesce(max(n), 0) FROM sparkplug_births").fetchone()[0])

    def apply(self, ops: Sequence[SessionOp]) -> None:
        """Record the births and deaths, in order (one transaction); never raises."""
        if not ops:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN")
                for change, topic, payload in ops:
                    self._apply(change, topic, payload)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                logger.error("Sparkplug births not stored (a restart will ask for rebirths instead) error=%s", exc)

    def _apply(self, change: SessionChange, topic: str, payload: bytes) -> None:
        parsed = parse_sparkplug_topic(topic)
        if parsed is None:
            return
        node, device = (parsed.group, parsed.edge_node), parsed.device or ""
        if change == "node_death" or (change == "birth" and parsed.kind == "NBIRTH"):
            self._db.execute("DELETE FROM sparkplug_births WHERE group_id = ? AND edge_node = ?", node)
        elif change == "device_death":
            self._db.execute("DELETE FROM sparkplug_births WHERE group_id = ? AND edge_node = ? AND device = ?", (*node, device))
        if change == "birth":
            self._n += 1
            self._db.execute(
                "INSERT OR REPLACE INTO sparkplug_births (group_id, edge_node, device, topic, payload, n) VALUES (?, ?, ?, ?, ?, ?)",
                (*node, device, topic, payload, self._n),
            )

    def load(self) -> list[tuple[str, bytes]]:
        """(topic, payload) of every kept birth: each node's NBIRTH before its devices' DBIRTHs."""
        with self._lock:
            rows = self._db.execute("SELECT topic, payload FROM sparkplug_births ORDER BY device != '', n").fetchall()
        return [(str(topic), bytes(payload)) for topic, payload in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
