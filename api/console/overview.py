"""The plant overview, for operators and agency officers: `/console/plants/{plant}`, and the list of
the user's plants with their state (`/console/plants`, which the console's home shows too).

What the plant is doing now (`api.console.plant_now`): its operating state, its chamber temperatures
against the process requirements of its profiles, the newest valid averages against their limits
(unconfirmed limits flagged), its devices online or offline, its open alerts with links to their
pages. `/console/static/refresh.js` (plain JavaScript served by the package, no build step) replaces
the live part every few seconds from `…/now` without a reload. A plant the user does not read is the
same 404 as one that does not exist; evaluators, who see no live data, get a 403 page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import get_context
from api.console.alerts import alert_view, session_or_login
from api.console.pages import TEXTS, lang_of, page, render
from api.console.plant_now import PlantNow, plant_now
from api.console.sessions import current_session
from api.context import ApiContext
from api.latest import CurrentState, current_state
from api.roles import Role
from api.users import Session
from wastewatch.plant import PlantConfig

router = APIRouter(prefix="/console", include_in_schema=False)
REFRESH_S = 5
SCRIPT = (Path(__file__).parent / "static" / "refresh.js").read_text(encoding="utf-8")
Lang = Annotated[str | None, Query(max_length=8)]


def _readable(ctx: ApiContext, session: Session, plant_id: str) -> PlantConfig | None:
    """The plant, if it exists and the user reads it; else None (the same answer for both)."""
    plant = ctx.catalog.get(plant_id) if len(plant_id) <= 64 else None
    return plant if plant is not None and session.user.may_read(plant.id) else None


def _now_values(now: PlantNow, lang: str, ctx: ApiContext) -> dict[str, Any]:
    return {"now": now, "zone": now.plant.zone, "alerts": [alert_view(a, lang, ctx) for a in now.alerts],
            "refresh_s": REFRESH_S}


@router.get("/plants/{plant_id}")
async def overview(request: Request, plant_id: str, lang: Lang = None) -> Response:
    language = lang_of(lang)
    session = await session_or_login(request, language, "overview_title", "no_overview")
    if isinstance(session, Response):
        return session
    ctx = get_context(request)
    plant = _readable(ctx, session, plant_id)
    if plant is None:
        return page("message.html.j2", language, 404, title=TEXTS[language]["overview_title"], user=session.user,
                    message=TEXTS[language]["no_plant"].format(plant=plant_id[:64]))
    now = await run_in_threadpool(plant_now, ctx.store, ctx.alert_db, plant, ctx.now_ms())
    return page("overview.html.j2", language, title=plant.id, user=session.user, wide=True, **_now_values(now, language, ctx))


@router.get("/plants/{plant_id}/now")
async def overview_now(request: Request, plant_id: str, lang: Lang = None) -> Response:
    """The overview's live part alone, for the page's refresh."""
    language = lang_of(lang)
    ctx = get_context(request)
    session = await run_in_threadpool(current_session, request, ctx)
    if session is None or not session.user.role.allows(Role.AGENCY):
        return PlainTextResponse("log in again", status_code=401)
    plant = _readable(ctx, session, plant_id)
    if plant is None:
        return PlainTextResponse(f"no plant {plant_id[:64]!r}", status_code=404)
    now = await run_in_threadpool(plant_now, ctx.store, ctx.alert_db, plant, ctx.now_ms())
    return HTMLResponse(render("overview_now.html.j2", language, **_now_values(now, language, ctx)),
                        headers={"Cache-Control": "no-store"})


def _states(ctx: ApiContext, session: Session) -> list[tuple[PlantConfig, CurrentState | None]]:
    now_ms = ctx.now_ms()
    plants = sorted((p for p in ctx.catalog if session.user.may_read(p.id)), key=lambda p: p.id)
    return [(p, current_state(ctx.store, p.id, now_ms)) for p in plants]


@router.get("/plants")
async def plant_list(request: Request, lang: Lang = None, part: Annotated[str | None, Query(max_length=8)] = None) -> Response:
    """The user's plants with their operating state; `part=rows`: the list alone (the home page's)."""
    language = lang_of(lang)
    ctx = get_context(request)
    if part == "rows":
        session = await run_in_threadpool(current_session, request, ctx)
        if session is None or not session.user.role.allows(Role.AGENCY):
            return PlainTextResponse("log in again", status_code=401)
        rows = await run_in_threadpool(_states, ctx, session)
        return HTMLResponse(render("overview_plants_rows.html.j2", language, rows=rows), headers={"Cache-Control": "no-store"})
    found = await session_or_login(request, language, "plants_title", "no_overview")
    if isinstance(found, Response):
        return found
    rows = await run_in_threadpool(_states, ctx, found)
    return page("overview_plants.html.j2", language, title=TEXTS[language]["plants_title"], user=found.user, rows=rows,
                refresh_s=REFRESH_S)


@router.get("/static/refresh.js")
async def refresh_script() -> Response:
    return Response(SCRIPT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})
