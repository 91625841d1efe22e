"""The dead-letter record: every message (or part) the ingest could not use, with its reason, on disk."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from wastewatch.sqlite import open_sqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_ms INTEGER NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_reason ON dead_letters (reason, id);
"""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    received_ms: int
    topic: str
    reason: str
    detail: str
    payload: bytes


class DeadLetterStore:
    """Dead letters in SQLite (WAL): each is committed before its message is acknowledged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = open_sqlite(path)
        self._db.executescript(_SCHEMA)

    def add(self, received_ms: int, topic: str, reason: str, detail: str, payload: bytes) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO dead_letters (received_ms, topic, reason, detail, payload) VALUES (?, ?, ?, ?, ?)",
                (received_ms, topic, reason, detail, payload),
            )

    def counts(self) -> dict[str, int]:
        """How many dead letters there are, by reason."""
        with self._lock:
            rows = self._db.execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason").fetchall()
        return {str(reason): int(n) for reason, n in rows}

    def list(self, reason: str | None = None, limit: int = 100) -> list[DeadLetter]:
        """The newest dead letters, optionally of one reason."""
        sql = "SELECT id, received_ms, topic, reason, detail, payload FROM dead_letters"
        args: tuple[object, ...] = ()
        if reason:
            sql += " WHERE reason = ?"
            args = (reason,)
        sql += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, args + (limit,)).fetchall()
        return [DeadLetter(int(r[0]), int(r[1]), str(r[2]), str(r[3]), str(r[4]), bytes(r[5])) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
