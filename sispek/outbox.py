"""The uploader's durable outbox: the notifications' guarantees for SISPEK records.

- One row per idempotency key (plant, stack, 5-minute slot): queuing a slot again adds nothing.
- Rows are queued with the cursor that says how far a stack is queued, in one transaction.
- Every attempt is a `sispek_attempts` row written in the same transaction as the row's new state.
- Rows of one stack are delivered in slot order: a row waiting for its back-off holds back the later ones.
- A row still unsent `retry_window_ms` after its slot is marked failed (and reported by the caller).

Like `alerts.outbox` (whose guarantees it copies, on its own tables: services do not import each
other), a crash between a successful send and the commit sends the row again with the same key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sispek.averages import SlotRecord
from wastewatch.relational import Database, Row

PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    plant: str
    id_cerobong: str
    slot_ms: int
    idempotency_key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at_ms: int
    receipt: str | None = None
    last_error: str | None = None

    @classmethod
    def from_row(cls, row: Row) -> OutboxRow:
        return cls(row["id"], row["plant"], row["id_cerobong"], int(row["slot_ms"]), row["idempotency_key"],
                   json.loads(row["payload"]), row["status"], int(row["attempts"]), int(row["next_attempt_at_ms"]),
                   row["receipt"], row["last_error"])


@dataclass(frozen=True, slots=True)
class Attempt:
    outbox_id: int
    attempt: int
    at_ms: int
    ok: bool
    retryable: bool
    http_status: int | None
    receipt: str
    duration_ms: float


class SispekOutbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def cursor(self, plant: str, id_cerobong: str) -> int | None:
        """The end of the last period queued for the stack (None: never)."""
        row = self.db.query_one("SELECT queued_to_ms FROM sispek_cursor WHERE plant = ? AND id_cerobong = ?", (plant, id_cerobong))
        return int(row["queued_to_ms"]) if row else None

    def queue(self, plant: str, id_cerobong: str, records: Sequence[SlotRecord], queued_to_ms: int, now_ms: int) -> int:
        """Add the records (a key already queued is skipped) and move the stack's cursor, atomically;
        the number of new rows."""
        added = 0
        with self.db.transaction():
            for record in records:
                added += bool(self.db.insert(
                    "INSERT INTO sispek_outbox (plant, id_cerobong, slot_ms, idempotency_key, payload, created_at_ms)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
                    (record.plant, record.id_cerobong, record.slot_ms, record.key,
                     json.dumps(record.payload(), sort_keys=True), now_ms),
                ))
            self.db.execute(
                "INSERT INTO sispek_cursor (plant, id_cerobong, queued_to_ms) VALUES (?, ?, ?)"
                " ON CONFLICT (plant, id_cerobong) DO UPDATE SET queued_to_ms = excluded.queued_to_ms"
                " WHERE excluded.queued_to_ms > sispek_cursor.queued_to_ms",
                (plant, id_cerobong, queued_to_ms),
            )
        return added

    def stacks_pending(self) -> list[str]:
        return [str(r["id_cerobong"]) for r in self.db.query(
            "SELECT DISTINCT id_cerobong FROM sispek_outbox WHERE status = ? ORDER BY id_cerobong", (PENDING,))]

    def pending(self, id_cerobong: str, limit: int) -> list[OutboxRow]:
        """The stack's oldest pending rows, in slot order."""
        rows = self.db.query(
            "SELECT * FROM sispek_outbox WHERE status = ? AND id_cerobong = ? ORDER BY slot_ms, id LIMIT ?",
            (PENDING, id_cerobong, limit),
        )
        return [OutboxRow.from_row(r) for r in rows]

    def get(self, row_id: int) -> OutboxRow | None:
        row = self.db.query_one("SELECT * FROM sispek_outbox WHERE id = ?", (row_id,))
        return OutboxRow.from_row(row) if row else None

    def rows(self, status: str | None = None) -> list[OutboxRow]:
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        return [OutboxRow.from_row(r) for r in self.db.query(f"SELECT * FROM sispek_outbox {where} ORDER BY id_cerobong, slot_ms", params)]

    def record(self, attempt: Attempt) -> None:
        self.db.execute(
            "INSERT INTO sispek_attempts (outbox_id, attempt, at_ms, ok, retryable, http_status, receipt, duration_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (attempt.outbox_id, attempt.attempt, attempt.at_ms, int(attempt.ok), int(attempt.retryable), attempt.http_status,
             attempt.receipt, attempt.duration_ms),
        )
        self.db.execute("UPDATE sispek_outbox SET attempts = ? WHERE id = ?", (attempt.attempt, attempt.outbox_id))

    def sent(self, row_id: int, now_ms: int, receipt: str) -> None:
        self.db.execute("UPDATE sispek_outbox SET status = ?, done_at_ms = ?, receipt = ? WHERE id = ? AND status = ?",
                        (SENT, now_ms, receipt, row_id, PENDING))

    def failed(self, row_id: int, now_ms: int, error: str) -> None:
        self.db.execute("UPDATE sispek_outbox SET status = ?, done_at_ms = ?, last_error = ? WHERE id = ? AND status = ?",
                        (FAILED, now_ms, error, row_id, PENDING))

    def retry_at(self, row_id: int, at_ms: int, error: str) -> None:
        self.db.execute("UPDATE sispek_outbox SET next_attempt_at_ms = ?, last_error = ? WHERE id = ?", (at_ms, error, row_id))

    def expire(self, older_than_slot_ms: int, now_ms: int) -> list[OutboxRow]:
        """Mark failed every pending row whose slot began before `older_than_slot_ms`; those rows."""
        with self.db.transaction():
            rows = [OutboxRow.from_row(r) for r in self.db.query(
                f"SELECT * FROM sispek_outbox WHERE status = ? AND slot_ms < ? ORDER BY id_cerobong, slot_ms{self.db.dialect.for_update}",
                (PENDING, older_than_slot_ms))]
            for row in rows:
                self.failed(row.id, now_ms, f"unsent after the retry window (last error: {row.last_error or 'none'})")
        return rows

    def attempts(self, outbox_id: int | None = None) -> list[Attempt]:
        sql, params = "SELECT * FROM sispek_attempts ORDER BY id", tuple[int, ...]()
        if outbox_id is not None:
            sql, params = "SELECT * FROM sispek_attempts WHERE outbox_id = ? ORDER BY id", (outbox_id,)
        return [Attempt(int(r["outbox_id"]), int(r["attempt"]), int(r["at_ms"]), bool(r["ok"]), bool(r["retryable"]),
                        r["http_status"], r["receipt"], float(r["duration_ms"])) for r in self.db.query(sql, params)]

    def counts(self) -> dict[str, int]:
        return {str(r["status"]): int(r["n"]) for r in self.db.query("SELECT status, COUNT(*) AS n FROM sispek_outbox GROUP BY status")}

    def last_receipt(self) -> Row | None:
        """The newest successful attempt: when, and the server's receipt."""
        return self.db.query_one(
            "SELECT a.at_ms, a.receipt, o.id_cerobong, o.slot_ms FROM sispek_attempts a JOIN sispek_outbox o ON o.id = a.outbox_id"
            " WHERE a.ok = 1 ORDER BY a.id DESC LIMIT 1"
        )

    def oldest_pending(self) -> Row | None:
        return self.db.query_one(
            "SELECT id_cerobong, slot_ms, attempts, last_error FROM sispek_outbox WHERE status = ? ORDER BY slot_ms LIMIT 1", (PENDING,))
