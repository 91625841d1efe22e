"""What operators do to an alert (the CLI and the HTTP API): acknowledge, comment, assign.

Each action is one transaction: the alert row and its audit-trail entry, with who and when. An
acknowledgement is also an `alert_event` point (kind `acknowledged`, `ack_s` from raise to
acknowledgement), written to the time-series store through the outbox like the other alert events.
"""

from __future__ import annotations

from alerts.lifecycle import annotate_alert_event
from alerts.outbox import Outbox
from alerts.store import AlertChange, AlertNotFound, AlertRecord, AlertStateError, AlertStore
from wastewatch.relational import Database


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
        acknowledged = _get(store, alert_id)
        message = f"acknowledged by {by}" + (f": {comment}" if comment else "")
        ack_s = max(0.0, (now_ms - alert.raised_at_ms) / 1000)  # a clock behind the worker's does not go negative
        annotate_alert_event(Outbox(db), acknowledged, "acknowledged", tid, now_ms, message, {"ack_s": ack_s, "ack_by": by})
        return AlertChange("acknowledged", acknowledged, tid)


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
