"""The append-only trails of the relational database as ledger records: a plant's alert transitions
(`alert_transitions`, with the alert's plant; the alert rows themselves change and are not sealed)
and the API's audit trail (`api_audit`: key and user changes, logins), which is one for the whole
site, so every plant's day seals it. Plain SQL on the tables `alerts.schema` and `api.keys` create."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from wastewatch.ledger.leaves import ALERT_TRANSITION, API_AUDIT, Record, row_record
from wastewatch.relational import Database


def alert_transitions(db: Database, plant: str, zone: ZoneInfo, start_ms: int, end_ms: int) -> list[Record]:
    """The plant's alert transitions with at_ms in [start_ms, end_ms), in id order."""
    rows = db.query(
        "SELECT t.id, t.alert_id, t.at_ms, t.kind, t.actor, t.comment, t.detail, a.plant FROM alert_transitions t"
        " JOIN alerts a ON a.id = t.alert_id WHERE a.plant = ? AND t.at_ms >= ? AND t.at_ms < ? ORDER BY t.id",
        (plant, start_ms, end_ms),
    )
    return [row_record(ALERT_TRANSITION, "alert_transitions", row, zone) for row in rows]


def audit_rows(db: Database, zone: ZoneInfo, start_ms: int, end_ms: int) -> list[Record]:
    """The API audit trail's rows with at_ms in [start_ms, end_ms), in id order."""
    rows = db.query(
        "SELECT id, at_ms, actor, action, target, detail FROM api_audit WHERE at_ms >= ? AND at_ms < ? ORDER BY id",
        (start_ms, end_ms),
    )
    return [row_record(API_AUDIT, "api_audit", row, zone) for row in rows]
