"""The store-and-forward queue: every polled sample is written here before anything is published.

One SQLite file (`WASTEWATCH_EDGE_QUEUE_PATH`) in WAL mode with `synchronous=FULL`: a sample the
queue has accepted (its transaction committed, one per batch of samples) survives a SIGKILL of the
edge and a power cut of the box. The forwarder reads the oldest rows first and deletes them only
once the broker has acknowledged them (PUBACK), so a restart replays what was not acknowledged;
the store overwrites a point with the same timestamp, so a replay never doubles one.

The queue is bounded (`WASTEWATCH_EDGE_QUEUE_MAX_ROWS`). A warning is logged when it fills past
50 %, 80 % and 95 %. When it is full, **new samples are refused**: they are counted (`refused`,
kept in the file across restarts, shown in the health and the metrics) and an error is logged;
the oldest samples are never dropped to make room, because they are the ones the plant's
reports are missing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from edge.sources import Sample
from wastewatch.sqlite import open_sqlite

logger = logging.getLogger(__name__)

WARN_AT = (0.5, 0.8, 0.95)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT NOT NULL, ts_ms INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class SampleQueue:
    """A bounded, durable FIFO of samples, safe to use from the poller's and the forwarder's threads."""

    def __init__(self, path: Path, max_rows: int) -> None:
        self.path = path
        self.max_rows = max_rows
        self._db = open_sqlite(path, synchronous="FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self.depth = int(self._db.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
        row = self._db.execute("SELECT value FROM counters WHERE name = 'refused'").fetchone()
        self.refused = int(row[0]) if row else 0
        self.accepted = 0  # since this process started
        self._warned = {level for level in WARN_AT if self.depth >= level * max_rows}
        self._full_logged = False
        self.changed = threading.Event()  # set when samples are added (the forwarder waits on it)

    def append(self, samples: Iterable[Sample]) -> int:
        """Add samples in one transaction; returns how many were accepted (the rest, when full, are refused)."""
        batch = list(samples)
        if not batch:
            return 0
        with self._lock:
            room = max(0, self.max_rows - self.depth)
            taken, refused = batch[:room], len(batch) - min(room, len(batch))
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO samples (device, ts_ms, body) VALUES (?, ?, ?)",
                    [(s.device, s.ts_ms, json.dumps({"v": s.values, "s": s.status} if s.status else {"v": s.values},
                                                    separators=(",", ":"))) for s in taken],
                )
                if taken:
                    db.execute(
                        "INSERT INTO counters (name, value) VALUES ('last_ts', ?) "
                        "ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)",
                        (max(s.ts_ms for s in taken),),
                    )
                per_device: dict[str, int] = {}
                for sample in taken:
                    per_device[sample.device] = per_device.get(sample.device, 0) + 1
                db.executemany(
                    "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                    [(f"accepted:{device}", n) for device, n in per_device.items()],
                )
                if refused:
                    db.execute(
                        "INSERT INTO counters (name, value) VALUES ('refused', ?) "
                        "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                        (refused,),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self.depth += len(taken)
            self.accepted += len(taken)
            self.refused += refused
            self._check_fill(refused)
        if taken:
            self.changed.set()
        return len(taken)

    def _check_fill(self, refused: int) -> None:
        fill = self.depth / self.max_rows
        for level in WARN_AT:
            if fill >= level and level not in self._warned:
                self._warned.add(level)
                logger.warning("edge queue %.0f %% full: %d of %d samples wait for the broker", level * 100, self.depth, self.max_rows)
            elif fill < level - 0.05 and level in self._warned:  # re-armed once it has drained a little
                self._warned.discard(level)
        if refused and not self._full_logged:
            self._full_logged = True
            logger.error(
                "edge queue full (%d samples): new samples are refused and counted (%d so far); none already queued is dropped",
                self.max_rows, self.refused,
            )
        elif not refused and self.depth < self.max_rows:
            self._full_logged = False

    def oldest(self, limit: int) -> list[tuple[int, Sample]]:
        """Up to `limit` of the oldest samples with their row ids, in the order they were accepted."""
        with self._lock:
            rows = self._db.execute("SELECT id, device, ts_ms, body FROM samples ORDER BY id LIMIT ?", (limit,)).fetchall()
        out = []
        for row_id, device, ts_ms, body in rows:
            data = json.loads(body)
            out.append((int(row_id), Sample(str(device), int(ts_ms), data["v"], data.get("s", {}))))
        return out

    def delete_through(self, row_id: int) -> int:
        """Delete every sample up to and including `row_id` (once the broker has acknowledged them)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                deleted = db.execute("DELETE FROM samples WHERE id <= ?", (row_id,)).rowcount
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self.depth = max(0, self.depth - deleted)
            self._check_fill(0)
        return int(deleted)

    def accepted_ever(self) -> dict[str, int]:
        """Samples accepted by device, over every run of the edge on this file."""
        with self._lock:
            rows = self._db.execute("SELECT name, value FROM counters WHERE name LIKE 'accepted:%'").fetchall()
        return {str(name).removeprefix("accepted:"): int(value) for name, value in rows}

    def newest_ts(self) -> int:
        """The newest timestamp the queue ever accepted (0: none): a restarted edge stamps after it."""
        with self._lock:
            row = self._db.execute("SELECT value FROM counters WHERE name = 'last_ts'").fetchone()
        return int(row[0]) if row else 0

    @property
    def fill(self) -> float:
        return self.depth / self.max_rows

    def close(self) -> None:
        with self._lock:
            self._db.close()
