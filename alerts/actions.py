"""What operators do to an alert (the CLI now, the HTTP API later): acknowledge, comment, assign.

Each action is one transaction: the alert row and its audit-trail entry, with who and when.
"""

from __future__ import annotations

from alerts.database import Database
from alerts.store import AlertChange, AlertNotFound, AlertRecord, AlertStateError, AlertStore


def _get(store: AlertStore, alert_id: int, *, for_update: bool = False) -> AlertRecord:
    alert = store.get(alert_id, for_update=for_update)
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}")
    return alert


def acknowledge(db: Database, alert_id: int, by: str, now_ms: int, comment: str | None = None) -> AlertChange:
    """Acknowledge an alert (active or cleared); acknowledging twice is an `AlertStateError`."""
    store = AlertStore(db)
    with db.transaction():
        # locked: two operators acknowledging at once on PostgreSQL, the second sees the first's
        alert = _get(store, alert_id, for_update=True)
        if alert.acknowledged:
            raise AlertStateError(f"alert {alert_id} was acknowledged by {alert.ack_by} already")
        store.acknowledge(alert_id, by, now_ms, comment)
        tid = store.add_transition(alert_id, now_ms, "acknowledged", by, comment=comment)
        return AlertChange("acknowledged", _get(store, alert_id), tid)


def comment(db: Database, alert_id: int, by: str, text: str, now_ms: int) -> AlertChange:
    store = AlertStore(db)
    with db.transaction():
        _get(store, alert_id)
        tid = store.add_transition(alert_id, now_ms, "commented", by, comment=text)
        return AlertChange("commented", _get(store, alert_id), tid)


def assign(db: Database, alert_id: int, assignee: str | None, by: str, now_ms: int) -> AlertChange:
    """Assign the alert to someone (None: unassign)."""
    store = AlertStore(db)
    with db.transaction():
        _get(store, alert_id)
        store.assign(alert_id, assignee)
        tid = store.add_transition(alert_id, now_ms, "assigned", by, detail={"assignee": assignee})
        return AlertChange("assigned", _get(store, alert_id), tid)
