"""Alerts: list and filter, one alert with its audit trail; acknowledge, comment, assign (by the key's name)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from alerts import actions
from alerts.events import Severity
from alerts.store import AlertRecord, AlertStore
from api.alert_queries import AlertFilter, find_alerts
from api.deps import AgencyKey, AlertDb, Context, Format, OperatorKey, plant_for
from api.keys import ApiKey
from api.schemas import AckIn, AlertDetail, AlertList, AlertOut, AssignIn, CommentIn, TransitionOut, to_time
from api.tabular import csv_responses, table_response
from api.timerange import epoch_ms
from wastewatch.relational import Database
from wastewatch.topics import ID_PATTERN

router = APIRouter(prefix="/alerts", tags=["alerts"])
AlertId = Annotated[int, Path(ge=1, le=2**62, description="alert id")]
NamePattern = r"^[A-Za-z0-9_.:/-]{1,120}$"


def alert_out(a: AlertRecord) -> AlertOut:
    return AlertOut(
        id=a.id, plant=a.plant, rule_id=a.rule_id, subject=a.subject, severity=a.severity, category=a.category,
        source=a.source, title=a.title, status=a.status, active=bool(a.active), acknowledged=bool(a.acknowledged),
        ack_by=a.ack_by, ack_at=to_time(a.ack_at_ms) if a.ack_at_ms is not None else None, ack_comment=a.ack_comment,
        assignee=a.assignee, first_seen=to_time(a.first_seen_ms), raised_at=to_time(a.raised_at_ms),
        last_seen=to_time(a.last_seen_ms), cleared_at=to_time(a.cleared_at_ms) if a.cleared_at_ms is not None else None,
        clear_reason=a.clear_reason, occurrences=a.occurrences, value=a.value, message=a.message,
        flapping=bool(a.flapping), escalation_level=a.escalation_level,
    )


@router.get("", response_model=AlertList, responses=csv_responses(AlertList))
def list_alerts(
    ctx: Context,
    db: AlertDb,
    key: AgencyKey,
    request: Request,
    plant: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    active: bool | None = None,
    acknowledged: bool | None = None,
    severity: Severity | None = None,
    category: Annotated[str | None, Query(pattern=NamePattern)] = None,
    rule_id: Annotated[str | None, Query(pattern=NamePattern)] = None,
    assignee: Annotated[str | None, Query(min_length=1, max_length=120)] = None,
    since: Annotated[str | None, Query(max_length=40, description="raised at or after: RFC 3339 or relative (-7d)")] = None,
    until: Annotated[str | None, Query(max_length=40, description="raised before: RFC 3339 or relative")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    format: Format = None,
) -> Response:
    """Newest raised first."""
    if plant is not None:
        plant_for(ctx, key, plant)  # unknown, or not the key's: the same 404
    now = datetime.fromtimestamp(ctx.clock(), tz=UTC)
    since_ms = epoch_ms(since, now, "since") if since else None
    until_ms = epoch_ms(until, now, "until") if until else None
    flt = AlertFilter(plant, active, acknowledged, severity, category, rule_id, assignee, since_ms, until_ms, limit, offset,
                      plants=key.plants)
    rows = [alert_out(a) for a in find_alerts(db, flt)]
    return table_response(request, format, AlertList(alerts=rows), rows, AlertOut, "alerts")


def visible_alert(db: Database, alert_id: int, key: ApiKey) -> AlertRecord:
    """The alert, if it exists and is of a plant the key reads; the same 404 otherwise."""
    alert = AlertStore(db).get(alert_id)
    if alert is None or not key.may_read(alert.plant):
        raise HTTPException(404, f"no alert {alert_id}")
    return alert


@router.get("/{alert_id}", response_model=AlertDetail)
def get_alert(alert_id: AlertId, db: AlertDb, key: AgencyKey) -> AlertDetail:
    return _detail(AlertStore(db), visible_alert(db, alert_id, key))


def _detail(store: AlertStore, alert: AlertRecord) -> AlertDetail:
    trail = [TransitionOut(id=t.id, at=to_time(t.at_ms), kind=t.kind, actor=t.actor, comment=t.comment, detail=t.detail)
             for t in store.transitions(alert.id)]
    return AlertDetail(alert=alert_out(alert), trail=trail)


@router.post("/{alert_id}/ack", response_model=AlertDetail)
def acknowledge(alert_id: AlertId, body: AckIn, ctx: Context, db: AlertDb, key: OperatorKey) -> AlertDetail:
    """Acknowledge; the trail records the key's name. A second acknowledgement is a 409."""
    visible_alert(db, alert_id, key)
    change = actions.acknowledge(db, alert_id, key.name, ctx.now_ms(), body.comment)
    return _detail(AlertStore(db), change.alert)


@router.post("/{alert_id}/comments", response_model=AlertDetail, status_code=201)
def add_comment(alert_id: AlertId, body: CommentIn, ctx: Context, db: AlertDb, key: OperatorKey) -> AlertDetail:
    visible_alert(db, alert_id, key)
    change = actions.comment(db, alert_id, key.name, body.text, ctx.now_ms())
    return _detail(AlertStore(db), change.alert)


@router.put("/{alert_id}/assignee", response_model=AlertDetail)
def assign(alert_id: AlertId, body: AssignIn, ctx: Context, db: AlertDb, key: OperatorKey) -> AlertDetail:
    """Assign to someone, or unassign with `{"assignee": null}`."""
    visible_alert(db, alert_id, key)
    change = actions.assign(db, alert_id, body.assignee, key.name, ctx.now_ms())
    return _detail(AlertStore(db), change.alert)
