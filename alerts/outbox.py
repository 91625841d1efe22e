"""The durable outbox: notification rows written with the alert change, and each delivery attempt.

Row status: `pending` → `sent` | `failed` (permanent, no channel left) | `failed_over` (the next
channel of its chain got a new row) | `suppressed` (held back by the channel's rate limit; a later
digest row lists it). The idempotency key is unique, so an event reaches a channel through one row.
Each row names its plant: a sender delivers the rows of the plants its worker owns (None: all).

Severity: the rows of a critical alert come first (`pending`) and are never rate-limited; the rate
limit is a budget per channel and audience for everything else (`limited_sent_since`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from alerts.notifiers import Notification
from wastewatch.relational import Database, Row


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    alert_id: int | None
    transition_id: int | None
    kind: str
    audience: str
    channel: str
    chain: tuple[str, ...]
    level: int
    idempotency_key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at_ms: int
    created_at_ms: int
    plant: str | None = None

    @classmethod
    def from_row(cls, row: Row) -> OutboxRow:
        return cls(
            row["id"], row["alert_id"], row["transition_id"], row["kind"], row["audience"], row["channel"],
            tuple(row["chain"].split(">")), row["level"], row["idempotency_key"], json.loads(row["payload"]),
            row["status"], row["attempts"], row["next_attempt_at_ms"], row["created_at_ms"], row["plant"],
        )

    @property
    def critical(self) -> bool:
        """A notification of a critical alert: never rate-limited, never digested, sent first."""
        return self.alert_id is not None and self.payload.get("severity") == CRITICAL

    @property
    def lane(self) -> tuple[int | str, str]:
        """Rows of one lane are delivered in id order: per alert and channel (other rows stand alone)."""
        return (self.alert_id if self.alert_id is not None else f"row{self.id}", self.channel)

    def notification(self) -> Notification:
        return Notification(self.id, self.idempotency_key, self.channel, self.kind, self.payload)


@dataclass(frozen=True, slots=True)
class Delivery:
    outbox_id: int
    channel: str
    attempt: int
    at_ms: int
    ok: bool
    retryable: bool
    receipt: str
    duration_ms: float


def idempotency_key(event_ref: str, channel: str) -> str:
    return f"ww-{event_ref}-{channel}"


Plants = Collection[str] | None  # the plants whose rows a sender delivers; None: every row
CRITICAL = "critical"
# rows of critical alerts first: a flood of lower-severity rows never delays one
_PRIORITY = f"CASE WHEN a.severity = '{CRITICAL}' THEN 0 ELSE 1 END"
_NOT_CRITICAL = f"(a.severity IS NULL OR a.severity <> '{CRITICAL}')"


def plant_filter(plants: Plants, column: str = "plant") -> tuple[str, list[str]]:
    """An SQL condition (`AND …`) and its parameters limiting rows to `plants`."""
    if plants is None:
        return "", []
    if not plants:
        return " AND 1 = 0", []
    ordered = sorted(plants)
    return f" AND {column} IN ({', '.join('?' * len(ordered))})", ordered


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self, *, plant: str | None, alert_id: int | None, transition_id: int | None, kind: str, audience: str,
        chain: tuple[str, ...], level: int, key: str, payload: Mapping[str, Any], now_ms: int, status: str = "pending",
    ) -> int:
        """A new row for `chain[level]`, due at once; 0 when a row with this key exists (the event already
        reaches the channel). `now_ms` is the evaluation clock's; the sender schedules retries on its own."""
        return self.db.insert(
            """INSERT INTO outbox (plant, alert_id, transition_id, kind, audience, channel, chain, level, idempotency_key,
                   payload, status, next_attempt_at_ms, created_at_ms)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id""",
            (plant, alert_id, transition_id, kind, audience, chain[level], ">".join(chain), level, key,
             json.dumps(dict(payload), sort_keys=True, ensure_ascii=False), status, now_ms),
        )

    def pending(self, channel: str | None = None, limit: int = 5000, *, plants: Plants = None) -> list[OutboxRow]:
        """Pending rows (of `channel`, or all): those of critical alerts first, then in id order."""
        where, params = plant_filter(plants, "o.plant")
        by_channel, channel_params = (" AND o.channel = ?", [channel]) if channel is not None else ("", [])
        rows = self.db.query(
            f"SELECT o.* FROM outbox o LEFT JOIN alerts a ON a.id = o.alert_id WHERE o.status = 'pending'{by_channel}{where}"
            f" ORDER BY {_PRIORITY}, o.id LIMIT ?",
            (*channel_params, *params, limit),
        )
        return [OutboxRow.from_row(r) for r in rows]

    def critical_pending_after(self, channel: str, after_id: int, plants: Plants = None) -> bool:
        """Whether a row of a critical alert newer than `after_id` waits on `channel` (an index read)."""
        where, params = plant_filter(plants, "o.plant")
        return self.db.query_one(
            f"SELECT 1 AS x FROM outbox o JOIN alerts a ON a.id = o.alert_id WHERE o.status = 'pending' AND o.id > ?"
            f" AND o.channel = ? AND a.severity = '{CRITICAL}'{where} LIMIT 1",
            (after_id, channel, *params),
        ) is not None

    def get(self, row_id: int) -> OutboxRow | None:
        row = self.db.query_one("SELECT * FROM outbox WHERE id = ?", (row_id,))
        return OutboxRow.from_row(row) if row else None

    def rows(self, *, channel: str | None = None, alert_id: int | None = None) -> list[OutboxRow]:
        where: list[str] = ["1 = 1"]
        params: list[str | int] = []
        if channel is not None:
            where.append("channel = ?")
            params.append(channel)
        if alert_id is not None:
            where.append("alert_id = ?")
            params.append(alert_id)
        return [OutboxRow.from_row(r) for r in self.db.query(f"SELECT * FROM outbox WHERE {' AND '.join(where)} ORDER BY id", params)]

    def record(self, delivery: Delivery) -> None:
        self.db.execute(
            "INSERT INTO deliveries (outbox_id, channel, attempt, at_ms, ok, retryable, receipt, duration_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (delivery.outbox_id, delivery.channel, delivery.attempt, delivery.at_ms, int(delivery.ok),
             int(delivery.retryable), delivery.receipt, delivery.duration_ms),
        )
        self.db.execute("UPDATE outbox SET attempts = ? WHERE id = ?", (delivery.attempt, delivery.outbox_id))

    def finish(self, row_id: int, status: str, now_ms: int, error: str | None = None) -> None:
        self.db.execute(
            "UPDATE outbox SET status = ?, done_at_ms = ?, last_error = COALESCE(?, last_error) WHERE id = ?",
            (status, now_ms, error, row_id),
        )

    def retry_at(self, row_id: int, at_ms: int, error: str) -> None:
        self.db.execute("UPDATE outbox SET next_attempt_at_ms = ?, last_error = ? WHERE id = ?", (at_ms, error, row_id))

    def deliveries(self, outbox_id: int | None = None) -> list[Delivery]:
        sql, params = "SELECT * FROM deliveries ORDER BY id", tuple[int, ...]()
        if outbox_id is not None:
            sql, params = "SELECT * FROM deliveries WHERE outbox_id = ? ORDER BY id", (outbox_id,)
        return [
            Delivery(r["outbox_id"], r["channel"], r["attempt"], r["at_ms"], bool(r["ok"]), bool(r["retryable"]),
                     r["receipt"], r["duration_ms"])
            for r in self.db.query(sql, params)
        ]

    def limited_sent_since(self, channel: str, audience: str, since_ms: int) -> int:
        """Deliveries to `channel` for `audience` since `since_ms` that count against its rate limit:
        every successful one but those of critical alerts (digests count)."""
        row = self.db.query_one(
            "SELECT COUNT(*) AS n FROM deliveries d JOIN outbox o ON o.id = d.outbox_id LEFT JOIN alerts a ON a.id = o.alert_id"
            f" WHERE d.channel = ? AND d.ok = 1 AND d.at_ms >= ? AND o.audience = ? AND {_NOT_CRITICAL}",
            (channel, since_ms, audience),
        )
        return int(row["n"]) if row else 0

    def has_undigested(self, channel: str, plants: Plants = None) -> bool:
        """Whether the rate limit held back a row of `channel` that no digest names yet (an index read)."""
        where, params = plant_filter(plants)
        return self.db.query_one(
            f"SELECT 1 AS x FROM outbox WHERE channel = ? AND status = 'suppressed' AND digest_id IS NULL{where} LIMIT 1",
            (channel, *params),
        ) is not None

    def undigested_audiences(self, channel: str, plants: Plants = None) -> list[str]:
        """The audiences with rows of `channel` held back by the rate limit that no digest names yet."""
        where, params = plant_filter(plants)
        rows = self.db.query(
            f"SELECT DISTINCT audience FROM outbox WHERE channel = ? AND status = 'suppressed' AND digest_id IS NULL{where}",
            (channel, *params),
        )
        return sorted(str(r["audience"]) for r in rows)

    def undigested(self, channel: str, plants: Plants = None) -> list[OutboxRow]:
        where, params = plant_filter(plants)
        rows = self.db.query(
            f"SELECT * FROM outbox WHERE channel = ? AND status = 'suppressed' AND digest_id IS NULL{where} ORDER BY id"
            f"{self.db.dialect.for_update}",
            (channel, *params),
        )
        return [OutboxRow.from_row(r) for r in rows]

    def mark_digested(self, row_ids: list[int], digest_id: int) -> None:
        for row_id in row_ids:
            self.db.execute("UPDATE outbox SET digest_id = ? WHERE id = ?", (digest_id, row_id))

    def counts(self) -> dict[str, int]:
        return {r["status"]: int(r["n"]) for r in self.db.query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")}
