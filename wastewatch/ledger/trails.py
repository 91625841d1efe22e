"""The append-only trails of the relational database as ledger records: a plant's alert transitions
(`alert_transitions`, with the alert's plant; the alert rows themselves change and are not sealed)
and the API's audit trail (`api_audit`: key and user changes, logins), which is one for the whole
site, so every plant's day seals it. Plain SQL on the tables `alerts.schema` and `api.keys` create.

Which rows a reading takes (`Span`): ids up to the watermarks, times before `before_ms`, and either an
id above the previous watermark or a time from `from_ms` on; `check.RowDays` then gives each its day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from wastewatch.ledger.leaves import ALERT_TRANSITION, API_AUDIT, TRAILS, Record, row_record
from wastewatch.relational import Database


@dataclass(frozen=True, slots=True)
class Span:
    """Rows with at_ms < before_ms and id <= upto[table], and id > after[table] or at_ms >= from_ms."""

    from_ms: int
    before_ms: int
    after: Mapping[str, int]
    upto: Mapping[str, int]

    def params(self, table: str) -> tuple[int, int, int, int]:
        return self.before_ms, self.upto.get(table, 0), self.after.get(table, 0), self.from_ms


def max_ids(db: Database) -> dict[str, int]:
    """Each trail table's highest id now (0 when empty): the watermarks of a seal. Read when no insert
    is in flight, so no row below a watermark commits after it: SQLite's write transaction excludes
    other writers, and on PostgreSQL (which hands out ids before commit) a SHARE lock waits for the
    transactions that inserted to end and holds new inserts for the two reads."""
    out: dict[str, int] = {}
    with db.transaction():
        if db.dialect.name == "postgresql":
            db.execute(f"LOCK TABLE {', '.join(TRAILS)} IN SHARE MODE")
        for table in TRAILS:
            row = db.query_one(f"SELECT COALESCE(MAX(id), 0) AS n FROM {table}")
            out[table] = int(row["n"]) if row is not None else 0
    return out


def alert_transitions(db: Database, plant: str, zone: ZoneInfo, span: Span) -> list[Record]:
    """The plant's alert transitions in the span, in id order."""
    rows = db.query(
        "SELECT t.id, t.alert_id, t.at_ms, t.kind, t.actor, t.comment, t.detail, a.plant FROM alert_transitions t"
        " JOIN alerts a ON a.id = t.alert_id WHERE a.plant = ? AND t.at_ms < ? AND t.id <= ? AND (t.id > ? OR t.at_ms >= ?)"
        " ORDER BY t.id",
        (plant, *span.params("alert_transitions")),
    )
    return [row_record(ALERT_TRANSITION, "alert_transitions", row, zone) for row in rows]


def audit_rows(db: Database, zone: ZoneInfo, span: Span) -> list[Record]:
    """The API audit trail's rows in the span, in id order."""
    rows = db.query(
        "SELECT id, at_ms, actor, action, target, detail FROM api_audit WHERE at_ms < ? AND id <= ? AND (id > ? OR at_ms >= ?)"
        " ORDER BY id",
        span.params("api_audit"),
    )
    return [row_record(API_AUDIT, "api_audit", row, zone) for row in rows]
