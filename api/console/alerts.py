"""The alert inbox and an alert's page, for operators and agency officers.

The inbox lists active and unacknowledged alerts first, filtered by plant, severity and category
(within the user's plant scope), and refreshes its rows without a reload (`/console/static/inbox.js`
asks `/console/alerts/rows` every second: plain JavaScript served by the package, no build step, no
CDN). The page and each answer carry the change token of the user's alerts (`inbox_version`); a poll
that sends the token it has (`?since=`) while nothing changed gets an empty 204, so polling every
second costs the server a session check and one indexed query, not the inbox's rows. An alert's page shows its timeline (the audit trail); an operator
(or admin) acknowledges it with a comment or comments on it there, through the same actions as the
API and the CLI, under the user's own name. Evaluators have no inbox: their place is the summaries.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from alerts import actions
from alerts.queries import AlertFilter
from alerts.store import AlertNotFound, AlertRecord, AlertStateError, AlertStore
from alerts.templates import CATEGORY, SEVERITY, TITLES_ID
from api.auth import get_context
from api.console.alert_readings import alert_readings
from api.console.pages import TEXTS, lang_of, page, render
from api.console.sessions import current_session, same_origin
from api.context import ApiContext
from api.roles import Role
from api.users import Session, UserStore, csrf_matches

router = APIRouter(prefix="/console", include_in_schema=False)
INBOX_SIZE = 200
SCRIPT = (Path(__file__).parent / "static" / "inbox.js").read_text(encoding="utf-8")
Filter = Annotated[str | None, Query(max_length=40)]
VERSION_HEADER = "X-Inbox-Version"


def _sort_key(alert: AlertRecord) -> tuple[int, int, int]:
    """Active and unacknowledged first, then active, then the rest; newest raised first within each."""
    return (0 if alert.active and not alert.acknowledged else 1 if alert.active else 2, 0 if alert.severity == "critical" else 1,
            -alert.raised_at_ms)


def _title(alert: AlertRecord, lang: str) -> str:
    return TITLES_ID.get(alert.rule_id, alert.title) if lang == "id" else alert.title


def alert_view(alert: AlertRecord, lang: str, ctx: ApiContext) -> dict[str, Any]:
    plant = ctx.catalog.get(alert.plant)
    return {"alert": alert, "title": _title(alert, lang), "severity": SEVERITY[lang].get(alert.severity, alert.severity),
            "category": CATEGORY[lang].get(alert.category, alert.category), "status": TEXTS[lang]["statuses"][alert.status],
            "zone": plant.zone if plant is not None else UTC}


def _inbox(ctx: ApiContext, session: Session, plant: str | None, severity: str | None, category: str | None) -> list[AlertRecord]:
    flt = AlertFilter(plant=plant, severity=severity, category=category, limit=INBOX_SIZE, plants=session.user.plants)
    return sorted(AlertStore(ctx.alert_db).find(flt), key=_sort_key)


def inbox_version(ctx: ApiContext, session: Session) -> str:
    """The change token of the alerts the user sees: the last transition's id among them. Every change
    to an alert (raised, updated, cleared, acknowledged, commented, assigned, escalated, settled) adds
    its transition in the same transaction and none is ever deleted, so a new token means something
    may have changed. A user scoped to some plants gets the token of their plants' alerts only (another
    plant's activity is not theirs to see). Read before the rows, so a change committed in between
    shows at the next poll."""
    plants = session.user.plants
    if plants is None:
        row = ctx.alert_db.query_one("SELECT max(id) AS last FROM alert_transitions")
    else:
        marks = ", ".join("?" for _ in plants) or "NULL"
        row = ctx.alert_db.query_one("SELECT max(t.id) AS last FROM alert_transitions t JOIN alerts a ON a.id = t.alert_id "
                                     f"WHERE a.plant IN ({marks})", tuple(plants))
    return str(row["last"] if row is not None and row["last"] is not None else 0)


def _filters(ctx: ApiContext, session: Session, plant: str | None, severity: str | None, category: str | None) -> tuple[
        str | None, str | None, str | None]:
    """The filters as given when they name something that exists (and a plant the user reads); else unset."""
    ok_plant = plant if plant in ctx.catalog.ids and session.user.may_read(plant) else None
    return ok_plant, severity if severity in SEVERITY["en"] else None, category if category in CATEGORY["en"] else None


async def session_or_login(request: Request, lang: str, title_key: str = "inbox_title",
                           refusal_key: str = "no_inbox") -> Session | Response:
    """The logged-in session of an operator, agency officer or admin; else the login page (303) or,
    for an evaluator, a 403 page titled `TEXTS[title_key]` saying `TEXTS[refusal_key]`."""
    ctx = get_context(request)
    session = await run_in_threadpool(current_session, request, ctx)
    if session is None:
        return RedirectResponse(f"/console/login?next={quote(request.url.path)}&lang={lang}", status_code=303)
    if not session.user.role.allows(Role.AGENCY):
        return page("message.html.j2", lang, 403, title=TEXTS[lang][title_key], user=session.user,
                    message=TEXTS[lang][refusal_key])
    return session


@router.get("/alerts")
async def inbox(request: Request, plant: Filter = None, severity: Filter = None, category: Filter = None,
                lang: str | None = None) -> Response:
    language = lang_of(lang)
    session = await session_or_login(request, language)
    if isinstance(session, Response):
        return session
    ctx = get_context(request)
    chosen = _filters(ctx, session, plant, severity, category)
    version = await run_in_threadpool(inbox_version, ctx, session)
    alerts = await run_in_threadpool(_inbox, ctx, session, *chosen)
    query = urlencode({k: v for k, v in zip(("plant", "severity", "category"), chosen, strict=True) if v} | {"lang": language})
    plants = [p for p in ctx.catalog.ids if session.user.may_read(p)]
    return page("inbox.html.j2", language, title=TEXTS[language]["inbox_title"], user=session.user, rows=[alert_view(a, language, ctx) for a in alerts],
                plants=plants, chosen=dict(zip(("plant", "severity", "category"), chosen, strict=True)), query=query,
                severities=SEVERITY[language], categories=CATEGORY[language], wide=True, version=version)


@router.get("/alerts/rows")
async def inbox_rows(request: Request, plant: Filter = None, severity: Filter = None, category: Filter = None,
                     lang: str | None = None, since: Annotated[str | None, Query(max_length=24)] = None) -> Response:
    """The inbox's table rows alone, for the page's refresh; an empty 204 when `since` is the current change token."""
    language = lang_of(lang)
    ctx = get_context(request)
    session = await run_in_threadpool(current_session, request, ctx)
    if session is None or not session.user.role.allows(Role.AGENCY):
        return PlainTextResponse("log in again", status_code=401)
    version = await run_in_threadpool(inbox_version, ctx, session)
    headers = {"Cache-Control": "no-store", VERSION_HEADER: version}
    if since == version:
        return Response(status_code=204, headers=headers)
    alerts = await run_in_threadpool(_inbox, ctx, session, *_filters(ctx, session, plant, severity, category))
    html = render("inbox_rows.html.j2", language, rows=[alert_view(a, language, ctx) for a in alerts])
    return HTMLResponse(html, headers=headers)


@router.get("/static/inbox.js")
async def inbox_script() -> Response:
    return Response(SCRIPT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


def _visible(ctx: ApiContext, session: Session, alert_id: int) -> AlertRecord | None:
    alert = AlertStore(ctx.alert_db).get(alert_id)
    return alert if alert is not None and session.user.may_read(alert.plant) else None


@router.get("/alerts/{alert_id}")
async def alert_page(request: Request, alert_id: int, lang: str | None = None, done: str | None = None) -> Response:
    language = lang_of(lang)
    session = await session_or_login(request, language)
    if isinstance(session, Response):
        return session
    ctx = get_context(request)
    alert = await run_in_threadpool(_visible, ctx, session, alert_id) if 0 < alert_id < 2**62 else None
    if alert is None:  # unknown, or of a plant the user does not read: the same answer
        return page("message.html.j2", language, 404, title=TEXTS[language]["inbox_title"], user=session.user,
                    message=TEXTS[language]["no_alert"].format(alert_id=alert_id))
    trail = await run_in_threadpool(AlertStore(ctx.alert_db).transitions, alert.id)
    plant = ctx.catalog.get(alert.plant)
    marks = {"raised": TEXTS[language]["raised_mark"], "cleared": TEXTS[language]["cleared_mark"]}
    readings = await run_in_threadpool(alert_readings, ctx.store, alert, plant, ctx.now_ms(), marks) if plant else None
    may_act = session.user.role.allows(Role.OPERATOR)
    people = await run_in_threadpool(assignees, ctx, alert.plant) if may_act else []
    return page("alert.html.j2", language, title=f"#{alert.id}", user=session.user, view=alert_view(alert, language, ctx), trail=trail,
                csrf=session.csrf_token, may_act=may_act, readings=readings, assignees=people,
                done=TEXTS[language]["done"].get(done or ""), wide=True)


def assignees(ctx: ApiContext, plant_id: str) -> list[str]:
    """Whom an alert of this plant can be assigned to: the active console users who see its alerts."""
    return sorted(u.name for u in UserStore(ctx.alert_db).list_users()
                  if u.active and u.role.allows(Role.AGENCY) and u.may_read(plant_id))


@router.post("/alerts/{alert_id}/{action}")
async def act(request: Request, alert_id: int, action: str) -> Response:
    """Acknowledge (`ack`, with an optional comment), comment (`comment`) or assign (`assign`, to one
    of `assignees`, or to nobody with an empty `assignee`), as the logged-in user."""
    form = await request.form()
    language = lang_of(str(form.get("lang", "")))
    ctx = get_context(request)
    session = await run_in_threadpool(current_session, request, ctx)
    if session is None:
        return PlainTextResponse("log in again", status_code=401)
    if not same_origin(request) or not csrf_matches(session, str(form.get("csrf", "")) or None):
        return PlainTextResponse("this form's CSRF token is missing or wrong: reload the page", status_code=403)
    if not session.user.role.allows(Role.OPERATOR):
        return PlainTextResponse("only operators and admins act on alerts", status_code=403)
    if action not in ("ack", "comment", "assign") or not 0 < alert_id < 2**62:
        return PlainTextResponse(f"no such action {action[:20]!r}", status_code=404)
    text = str(form.get("comment", "")).strip()[:2000] or None
    if action == "comment" and text is None:
        return PlainTextResponse("a comment needs text", status_code=422)
    alert = await run_in_threadpool(_visible, ctx, session, alert_id)
    if alert is None:
        return PlainTextResponse(f"no alert {alert_id}", status_code=404)
    assignee = str(form.get("assignee", "")).strip()[:64] or None
    if action == "assign" and assignee is not None and assignee not in await run_in_threadpool(assignees, ctx, alert.plant):
        return PlainTextResponse(f"{assignee!r} is no console user who sees this plant's alerts", status_code=422)
    try:
        if action == "assign":
            await run_in_threadpool(actions.assign, ctx.alert_db, alert_id, assignee, session.user.name, ctx.now_ms())
        elif action == "ack":
            await run_in_threadpool(actions.acknowledge, ctx.alert_db, alert_id, session.user.name, ctx.now_ms(), text)
        else:
            assert text is not None
            await run_in_threadpool(actions.comment, ctx.alert_db, alert_id, session.user.name, text, ctx.now_ms())
    except AlertStateError as exc:
        return PlainTextResponse(str(exc), status_code=409)
    except AlertNotFound:
        return PlainTextResponse(f"no alert {alert_id}", status_code=404)
    return RedirectResponse(f"/console/alerts/{alert_id}?lang={language}&done={action}", status_code=303)
