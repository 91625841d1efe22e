"""The spool: batches of points kept on disk, in order, while the store is unreachable.

A batch is committed with a full fsync before its messages are acknowledged, so a crash or a
power cut after the acknowledgement loses nothing. The spool is bounded: when it is full the
ingest stops acknowledging (back-pressure) instead of dropping anything. It is full at its byte
bound, or when appending would leave less than `min_free_bytes` free on its disk: a spool that
filled the disk could not drain, because SQLite needs room to delete.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from wastewatch.points import Point
from wastewatch.sqlite import open_sqlite

_SCHEMA = "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL, n INTEGER NOT NULL)"


_CHECKPOINT_PAGES = 64  # a small WAL: on a nearly full disk every byte the spool holds twice counts


def _encode(points: Sequence[Point]) -> bytes:
    return json.dumps([[p.measurement, dict(p.tags), dict(p.fields), p.time_ms] for p in points]).encode()


def _decode(body: bytes) -> list[Point]:
    return [Point(m, t, f, ts) for m, t, f, ts in json.loads(body)]


class Spool:
    """A durable FIFO of point batches in SQLite (WAL, synchronous=FULL)."""

    def __init__(self, path: Path, max_bytes: int, min_free_bytes: int = 0) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.min_free_bytes = min_free_bytes
        self._lock = threading.Lock()
        self._db = open_sqlite(path, synchronous="FULL")
        self._db.execute(_SCHEMA)
        self._db.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
        row = self._db.execute("SELECT count(*), coalesce(sum(length(body)), 0), coalesce(sum(n), 0) FROM spool").fetchone()
        self._batches, self._bytes, self._points = int(row[0]), int(row[1]), int(row[2])

    @property
    def batches(self) -> int:
        return self._batches

    @property
    def bytes(self) -> int:
        return self._bytes

    @property
    def points(self) -> int:
        return self._points

    def has_room(self, points: Sequence[Point]) -> bool:
        return self._bytes + len(_encode(points)) <= self.max_bytes

    def append(self, points: Sequence[Point]) -> bool:
        """Store a batch durably; False (nothing stored) when it would exceed the bound or the disk is full."""
        body = _encode(points)
        with self._lock:
            if self._bytes + len(body) > self.max_bytes or not self._disk_has_room(len(body)):
                return False
            try:
                self._db.execute("INSERT INTO spool (body, n) VALUES (?, ?)", (body, len(points)))
            except sqlite3.OperationalError:  # the disk is full: the caller backs off, nothing is lost
                return False
            self._batches += 1
            self._bytes += len(body)
            self._points += len(points)
        return True

    def _disk_has_room(self, size: int) -> bool:
        if not self.min_free_bytes:
            return True
        # The batch lands in the WAL first and in the database file at the next checkpoint, and what
        # the WAL holds now may still grow the database file: count all of it against the reserve.
        wal = self.path.with_name(self.path.name + "-wal")
        pending = wal.stat().st_size if wal.exists() else 0
        return shutil.disk_usage(self.path.parent).free - pending - 2 * size >= self.min_free_bytes

    def oldest(self) -> tuple[int, list[Point]] | None:
        with self._lock:
            row = self._db.execute("SELECT id, body FROM spool ORDER BY id LIMIT 1").fetchone()
        return (int(row[0]), _decode(bytes(row[1]))) if row else None

    def remove(self, batch_id: int) -> bool:
        """Forget a batch that was written; False when the disk is too full to delete (it stays, and a
        later drain writes it again, which overwrites the same points)."""
        with self._lock:
            row = self._db.execute("SELECT length(body), n FROM spool WHERE id = ?", (batch_id,)).fetchone()
            if row is None:
                return True
            try:
                self._db.execute("DELETE FROM spool WHERE id = ?", (batch_id,))
            except sqlite3.OperationalError:
                return False
            self._batches -= 1
            self._bytes -= int(row[0])
            self._points -= int(row[1])
        return True

    def close(self) -> None:
        with self._lock:
            self._db.close()
