"""Reading and writing alerts, their audit trail and the persisted rule states in the alert database.

Plain statements only; the lifecycle decides what to write and in which transaction.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from alerts.events import AlertCleared, AlertRaised, AlertUpdated
from alerts.outbox import plant_filter
from alerts.queries import AlertFilter, filtered_rows
from wastewatch.errors import Conflict, NotFound
from wastewatch.relational import Database, Row


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert row. Status has two axes, as ThingsBoard has them: active/cleared × (un)acknowledged."""

    id: int
    plant: str
    rule_id: str
    subject: str
    severity: str
    category: str
    source: str
    title: str
    active: int
    acknowledged: int
    ack_by: str | None
    ack_at_ms: int | None
    ack_comment: str | None
    assignee: str | None
    first_seen_ms: int
    raised_at_ms: int
    last_seen_ms: int
    cleared_at_ms: int | None
    clear_reason: str | None
    occurrences: int
    value: float | None
    message: str
    detail: str
    notified: int
    flapping: int
    escalation_level: int

    @property
    def status(self) -> str:
        """ACTIVE_UNACK, ACTIVE_ACK, CLEARED_UNACK or CLEARED_ACK."""
        return f"{'ACTIVE' if self.active else 'CLEARED'}_{'ACK' if self.acknowledged else 'UNACK'}"

    @property
    def key(self) -> str:
        return f"{self.plant}/{self.rule_id}/{self.subject}"

    @classmethod
    def from_row(cls, row: Row) -> AlertRecord:
        return cls(**{f.name: row[f.name] for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class Transition:
    """One entry of the append-only audit trail."""

    id: int
    alert_id: int
    at_ms: int
    kind: str
    actor: str
    comment: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AlertChange:
    """What happened to an alert row: raised, updated, cleared, escalated, acknowledged, commented, assigned."""

    kind: str
    alert: AlertRecord
    transition_id: int


class AlertNotFound(NotFound):
    """No alert has this id."""


class AlertStateError(Conflict):
    """The alert is not in a state that allows this action (e.g. already acknowledged)."""


SYSTEM_ACTOR = "system"


class AlertStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- alerts ----------------------------------------------------------------------------------

    def active(self, plant: str, rule_id: str, subject: str) -> AlertRecord | None:
        row = self.db.query_one(
            "SELECT * FROM alerts WHERE plant = ? AND rule_id = ? AND subject = ? AND active = 1", (plant, rule_id, subject)
        )
        return AlertRecord.from_row(row) if row else None

    def get(self, alert_id: int, *, for_update: bool = False) -> AlertRecord | None:
        """The alert; `for_update` (inside a transaction that changes it) locks its row until the commit."""
        lock = self.db.dialect.for_update if for_update else ""
        row = self.db.query_one(f"SELECT * FROM alerts WHERE id = ?{lock}", (alert_id,))
        return AlertRecord.from_row(row) if row else None

    def list_alerts(self, *, active_only: bool = False, plant: str | None = None, limit: int = 50) -> list[AlertRecord]:
        """The newest raised first (the CLI's listing): `find` with two of its filters."""
        return self.find(AlertFilter(plant=plant or None, active=True if active_only else None, limit=limit))

    def find(self, flt: AlertFilter) -> list[AlertRecord]:
        """Alerts matching `flt`, newest raised first (the API's listing; SQL in `alerts.queries`)."""
        return [AlertRecord.from_row(r) for r in filtered_rows(self.db, flt)]

    def open(self, event: AlertRaised, title: str, *, notified: bool, flapping: bool) -> int:
        return self.db.insert(
            """INSERT INTO alerts (plant, rule_id, subject, severity, category, source, title, active, first_seen_ms,
                   raised_at_ms, last_seen_ms, occurrences, value, message, detail, notified, flapping)
               VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, 1, ?, ?, ?, ?, ?) RETURNING id""",
            (event.plant, event.rule_id, event.subject, event.severity, event.category, event.source, title,
             event.condition_since_ms, event.at_ms, event.at_ms, event.value, event.message, event.detail,
             int(notified), int(flapping)),
        )

    def touch(self, alert_id: int, event: AlertUpdated | AlertRaised) -> None:
        """A repeat of the condition while active: the same alert, seen again."""
        self.db.execute(
            "UPDATE alerts SET last_seen_ms = ?, occurrences = occurrences + 1, value = ?, message = ?, detail = ? WHERE id = ?",
            (event.at_ms, event.value, event.message, event.detail, alert_id),
        )

    def clear(self, alert_id: int, event: AlertCleared) -> None:
        self.db.execute(
            "UPDATE alerts SET active = 0, cleared_at_ms = ?, clear_reason = ?, last_seen_ms = ?, value = COALESCE(?, value) "
            "WHERE id = ?",
            (event.at_ms, event.reason, event.at_ms, event.value, alert_id),
        )

    def acknowledge(self, alert_id: int, by: str, at_ms: int, comment: str | None) -> None:
        self.db.execute(
            "UPDATE alerts SET acknowledged = 1, ack_by = ?, ack_at_ms = ?, ack_comment = ? WHERE id = ?",
            (by, at_ms, comment, alert_id),
        )

    def assign(self, alert_id: int, assignee: str | None) -> None:
        self.db.execute("UPDATE alerts SET assignee = ? WHERE id = ?", (assignee, alert_id))

    def set_escalation_level(self, alert_id: int, level: int) -> None:
        self.db.execute("UPDATE alerts SET escalation_level = ? WHERE id = ?", (level, alert_id))

    def raises_since(self, plant: str, rule_id: str, subject: str, since_ms: int) -> int:
        row = self.db.query_one(
            "SELECT COUNT(*) AS n FROM alerts WHERE plant = ? AND rule_id = ? AND subject = ? AND raised_at_ms >= ?",
            (plant, rule_id, subject, since_ms),
        )
        return int(row["n"]) if row else 0

    def escalation_candidates(
        self, raised_before_ms: int, max_level: int, plants: Collection[str] | None = None
    ) -> list[AlertRecord]:
        """Active, unacknowledged, notified critical alerts (of `plants`, or all) raised before the given
        time, below the top level; locked until the caller's commit (an acknowledgement waits for it)."""
        where, params = plant_filter(plants)
        rows = self.db.query(
            "SELECT * FROM alerts WHERE active = 1 AND acknowledged = 0 AND notified = 1 AND severity = 'critical' "
            f"AND raised_at_ms <= ? AND escalation_level < ?{where} ORDER BY id{self.db.dialect.for_update}",
            (raised_before_ms, max_level, *params),
        )
        return [AlertRecord.from_row(r) for r in rows]

    def settle_candidates(self, quiet_since_ms: int, plants: Collection[str] | None = None) -> list[AlertRecord]:
        """The latest alert of each key that is flapping and not yet notified, unchanged (raised, or
        cleared) since `quiet_since_ms`: its flapping has ended."""
        where, params = plant_filter(plants)
        rows = self.db.query(
            "SELECT * FROM alerts a WHERE flapping = 1 AND notified = 0 "
            "AND COALESCE(cleared_at_ms, raised_at_ms) <= ?" + where.replace("plant", "a.plant") +
            " AND NOT EXISTS (SELECT 1 FROM alerts b WHERE b.plant = a.plant AND b.rule_id = a.rule_id "
            "AND b.subject = a.subject AND b.id > a.id) ORDER BY id",
            (quiet_since_ms, *params),
        )
        return [AlertRecord.from_row(r) for r in rows]

    def mark_notified(self, alert_id: int) -> None:
        self.db.execute("UPDATE alerts SET notified = 1 WHERE id = ?", (alert_id,))

    # -- the audit trail ---------------------------------------------------------------------------

    def add_transition(
        self, alert_id: int, at_ms: int, kind: str, actor: str = SYSTEM_ACTOR, *,
        comment: str | None = None, detail: Mapping[str, Any] | None = None,
    ) -> int:
        return self.db.insert(
            "INSERT INTO alert_transitions (alert_id, at_ms, kind, actor, comment, detail) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (alert_id, at_ms, kind, actor, comment, json.dumps(dict(detail or {}), sort_keys=True)),
        )

    def transitions(self, alert_id: int) -> list[Transition]:
        rows = self.db.query("SELECT * FROM alert_transitions WHERE alert_id = ? ORDER BY id", (alert_id,))
        return [
            Transition(r["id"], r["alert_id"], r["at_ms"], r["kind"], r["actor"], r["comment"], json.loads(r["detail"]))
            for r in rows
        ]

    # -- rule and plant states ---------------------------------------------------------------------

    def load_states(self, plants: Collection[str] | None = None) -> dict[str, tuple[str, str]]:
        """Every persisted state (of `plants`, or all): key → (kind, JSON)."""
        where, params = plant_filter(plants)
        rows = self.db.query(f"SELECT state_key, kind, state FROM rule_states WHERE 1 = 1{where}", params)
        return {r["state_key"]: (r["kind"], r["state"]) for r in rows}

    def save_states(self, items: Iterable[tuple[str, str, str, str]], now_ms: int) -> None:
        """Upsert (key, plant, kind, JSON) rows, in one call."""
        rows = [(key, plant, kind, text, now_ms) for key, plant, kind, text in items]
        if rows:
            self.db.execute_many(
                "INSERT INTO rule_states (state_key, plant, kind, state, updated_at_ms) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (state_key) DO UPDATE SET state = excluded.state, updated_at_ms = excluded.updated_at_ms",
                rows,
            )
