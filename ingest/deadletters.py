"""The dead-letter record: every message the ingest could not (wholly) use, with its reasons, on disk.

One row per message, however many of its parts were rejected: the first reason, the count of
rejected parts and their details (shortened), and the payload cut to `max_payload_bytes` with its
original size. The table is bounded by bytes and by age; what the bound deletes, and what is refused
because the disk is down to the spool's free-space reserve, is counted (`dropped()`), never silent.
A dead letter never blocks the ingest: when SQLite refuses the insert the letter is counted as dropped.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wastewatch.sqlite import open_sqlite

logger = logging.getLogger(__name__)

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
CREATE TABLE IF NOT EXISTS dead_letter_drops (cause TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""
_ADDED_COLUMNS = {"size": "INTEGER NOT NULL DEFAULT 0", "parts": "INTEGER NOT NULL DEFAULT 1"}
MAX_DETAIL_CHARS = 1000
_ROW_OVERHEAD = 64  # bytes a row costs beyond its text and payload, for the byte bound
_ROW_BYTES = f"{_ROW_OVERHEAD} + length(topic) + length(detail) + length(payload)"
_AGE_SWEEP_S = 60.0

DropCause = str  # "bound" (oldest deleted for room), "age", "disk_reserve", "insert_failed"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-lettered message. `payload` is at most the store's `max_payload_bytes`; `size` is the original."""

    id: int
    received_ms: int
    topic: str
    reason: str
    detail: str
    payload: bytes
    size: int = 0
    parts: int = 1


def dead_letter(received_ms: int, topic: str, rejections: Sequence[tuple[str, str]], payload: bytes, max_payload: int) -> DeadLetter:
    """The one row for a message with these (reason, detail) rejections; the payload cut to `max_payload`."""
    reason = rejections[0][0]
    details = [f"{r}: {d}" if r != reason else d for r, d in rejections[:5]]
    more = f" (+{len(rejections) - 5} more parts)" if len(rejections) > 5 else ""
    detail = _printable("; ".join(details))[: MAX_DETAIL_CHARS - len(more)] + more
    return DeadLetter(0, received_ms, _printable(topic)[:300], reason, detail, payload[:max_payload], len(payload), len(rejections))


def _printable(text: str) -> str:
    """`text` as valid UTF-8 (a lone surrogate becomes its escape), so SQLite can always store it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _row_bytes(letter: DeadLetter) -> int:
    return _ROW_OVERHEAD + len(letter.topic) + len(letter.detail) + len(letter.payload)


class DeadLetterStore:
    """Dead letters in SQLite (WAL): each is committed before its message is acknowledged."""

    def __init__(
        self,
        path: Path,
        *,
        max_payload_bytes: int = 4096,
        max_bytes: int = 64 * 1024 * 1024,
        max_age_s: float = 30 * 86_400,
        min_free_bytes: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_payload_bytes, self.max_bytes, self.max_age_s = max_payload_bytes, max_bytes, max_age_s
        self.min_free_bytes = min_free_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._db = open_sqlite(path)
        self._db.executescript(_SCHEMA)
        present = {row[1] for row in self._db.execute("PRAGMA table_info(dead_letters)")}
        for name, kind in _ADDED_COLUMNS.items():
            if name not in present:  # a table from an earlier version
                self._db.execute(f"ALTER TABLE dead_letters ADD COLUMN {name} {kind}")
        self._bytes = int(self._db.execute(f"SELECT coalesce(sum({_ROW_BYTES}), 0) FROM dead_letters").fetchone()[0])
        self._swept_at = 0.0

    @property
    def stored_bytes(self) -> int:
        """What the rows hold, as the byte bound counts it."""
        return self._bytes

    def letter(self, received_ms: int, topic: str, rejections: Sequence[tuple[str, str]], payload: bytes) -> DeadLetter:
        return dead_letter(received_ms, topic, rejections, payload, self.max_payload_bytes)

    def add(self, received_ms: int, topic: str, reason: str, detail: str, payload: bytes) -> None:
        self.add_all([self.letter(received_ms, topic, [(reason, detail)], payload)])

    def add_all(self, letters: Sequence[DeadLetter]) -> None:
        """Commit the letters (one transaction), keeping the table within its bounds; never raises."""
        if not letters:
            return
        with self._lock:
            if self.min_free_bytes and shutil.disk_usage(self.path.parent).free - 2 * sum(map(_row_bytes, letters)) < self.min_free_bytes:
                self._count_drop("disk_reserve", len(letters))
                logger.warning("disk at the free-space reserve: dead letters dropped n=%s", len(letters))
                return
            try:
                self._db.executemany(  # autocommit: executemany is one statement, one transaction
                    "INSERT INTO dead_letters (received_ms, topic, reason, detail, payload, size, parts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(x.received_ms, x.topic, x.reason, x.detail, x.payload, x.size, x.parts) for x in letters],
                )
                self._bytes += sum(map(_row_bytes, letters))
                self._enforce_bounds()
            except sqlite3.Error as exc:
                self._count_drop("insert_failed", len(letters))
                logger.error("dead letters could not be stored, dropped n=%s error=%s", len(letters), exc)

    def _enforce_bounds(self) -> None:
        now = self._clock()
        if now - self._swept_at >= _AGE_SWEEP_S:
            self._swept_at = now
            self._delete("age", "received_ms < ?", (int((now - self.max_age_s) * 1000),))
        if self._bytes > self.max_bytes:
            # Delete the oldest rows holding the excess and a tenth of the bound more, so this is rare.
            excess = self._bytes - self.max_bytes + self.max_bytes // 10
            row = self._db.execute(
                f"SELECT id FROM (SELECT id, sum({_ROW_BYTES}) OVER (ORDER BY id) AS running FROM dead_letters)"
                " WHERE running >= ? ORDER BY id LIMIT 1",
                (excess,),
            ).fetchone()
            cut = row[0] if row else self._db.execute("SELECT max(id) FROM dead_letters").fetchone()[0]
            if cut is not None:
                self._delete("bound", "id <= ?", (int(cut),))

    def _delete(self, cause: DropCause, where: str, args: tuple[int, ...]) -> None:
        count, size = self._db.execute(
            f"SELECT count(*), coalesce(sum({_ROW_BYTES}), 0) FROM dead_letters WHERE {where}", args
        ).fetchone()
        if not count:
            return
        self._db.execute("BEGIN")
        try:
            self._db.execute(f"DELETE FROM dead_letters WHERE {where}", args)
            self._bump(cause, int(count))
            self._db.execute("COMMIT")
        except sqlite3.Error:
            self._db.execute("ROLLBACK")
            raise
        self._bytes -= int(size)

    def _bump(self, cause: DropCause, n: int) -> None:
        self._db.execute(
            "INSERT INTO dead_letter_drops (cause, n) VALUES (?, ?) ON CONFLICT (cause) DO UPDATE SET n = n + excluded.n",
            (cause, n),
        )

    def _count_drop(self, cause: DropCause, n: int) -> None:
        try:
            self._bump(cause, n)
        except sqlite3.Error:
            logger.error("dead-letter drop count not stored cause=%s n=%s", cause, n)

    def dropped(self) -> dict[str, int]:
        """Dead letters deleted or never stored, by cause."""
        with self._lock:
            rows = self._db.execute("SELECT cause, n FROM dead_letter_drops").fetchall()
        return {str(cause): int(n) for cause, n in rows}

    def counts(self) -> dict[str, int]:
        """How many dead letters there are, by reason."""
        with self._lock:
            rows = self._db.execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason").fetchall()
        return {str(reason): int(n) for reason, n in rows}

    def list(self, reason: str | None = None, limit: int = 100) -> list[DeadLetter]:
        """The newest dead letters, optionally of one reason."""
        sql = "SELECT id, received_ms, topic, reason, detail, payload, size, parts FROM dead_letters"
        args: tuple[object, ...] = ()
        if reason:
            sql += " WHERE reason = ?"
            args = (reason,)
        sql += " ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, args + (limit,)).fetchall()
        return [
            DeadLetter(int(r[0]), int(r[1]), str(r[2]), str(r[3]), str(r[4]), bytes(r[5]), int(r[6]), int(r[7]))
            for r in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()
