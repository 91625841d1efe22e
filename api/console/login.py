"""Logging in and out, and the signed-in landing page.

Logging in is throttled twice, per account and per client address (`FailureLimiter`, the API key
check's limiter): guessing one officer's password from many addresses, or many passwords from one
address, both run dry. Every login, failed login and logout is in the audit trail (`api.users`).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import client_address, get_context
from api.console.pages import HOME, TEXTS, lang_of, page
from api.console.sessions import COOKIE, clear_session_cookie, current_session, same_origin, set_session_cookie, user_store
from api.ratelimit import FailureLimiter
from api.users import csrf_matches

router = APIRouter(prefix="/console", include_in_schema=False)

def _safe_next(value: str | None) -> str:
    """Where to go after logging in: a console path only (never another site, never //host)."""
    if value and value.startswith("/console/") and not value.startswith("//") and "\\" not in value:
        return value
    return HOME


def _limiters(request: Request) -> tuple[FailureLimiter, FailureLimiter]:
    limiters: tuple[FailureLimiter, FailureLimiter] = request.app.state.console_limiters
    return limiters


@router.get("/login")
async def login_page(request: Request, next: str | None = None, lang: str | None = None) -> Response:
    return page("login.html.j2", lang_of(lang), title=TEXTS[lang_of(lang)]["login_title"], next=_safe_next(next), name="",
                 error=None, user=None)


@router.post("/login")
async def log_in(request: Request) -> Response:
    form = await request.form()
    lang = lang_of(str(form.get("lang", "")))
    name, password, next_path = str(form.get("name", ""))[:64], str(form.get("password", "")), _safe_next(str(form.get("next", "")))
    if not same_origin(request):
        return Response("a login comes from this server's login page", status_code=403, media_type="text/plain")
    ctx = get_context(request)
    address, now_s = client_address(request), ctx.clock()
    by_account, by_address = _limiters(request)
    waits = [w for w in (by_account.retry_after_s(name.lower(), now_s), by_address.retry_after_s(address, now_s)) if w is not None]
    if waits:
        seconds = max(1, round(max(waits)))
        refused = page("login.html.j2", lang, 429, title=TEXTS[lang]["login_title"], next=next_path, name=name, user=None,
                     error=TEXTS[lang]["throttled"].format(seconds=seconds))
        refused.headers["Retry-After"] = str(seconds)
        return refused
    store = user_store(ctx)
    user = await run_in_threadpool(store.authenticate, name, password, ctx.now_ms(), address)
    if user is None:
        by_account.record_failure(name.lower(), now_s)
        by_address.record_failure(address, now_s)
        return page("login.html.j2", lang, 401, title=TEXTS[lang]["login_title"], next=next_path, name=name, user=None,
                     error=TEXTS[lang]["wrong"])
    new = await run_in_threadpool(store.start_session, user, ctx.now_ms(), address)
    response = RedirectResponse(next_path + ("" if lang == "id" else ("&" if "?" in next_path else "?") + "lang=en"), status_code=303)
    set_session_cookie(response, request, new.token, ctx.api.console_absolute_s)
    return response


@router.get("/")
async def home(request: Request, lang: str | None = None) -> Response:
    ctx = get_context(request)
    session = await run_in_threadpool(current_session, request, ctx)
    language = lang_of(lang)
    if session is None:
        return RedirectResponse(f"/console/login?next={quote(HOME)}&lang={language}", status_code=303)
    plants = ", ".join(session.user.plants) if session.user.plants else TEXTS[language]["all_plants"]
    return page("home.html.j2", language, title=TEXTS[language]["home_title"], user=session.user, csrf=session.csrf_token,
                 plants=plants)


@router.post("/logout")
async def log_out(request: Request) -> Response:
    form = await request.form()
    lang = lang_of(str(form.get("lang", "")))
    ctx = get_context(request)
    session = await run_in_threadpool(current_session, request, ctx)
    if session is None:
        return RedirectResponse(f"/console/login?lang={lang}", status_code=303)
    if not same_origin(request) or not csrf_matches(session, str(form.get("csrf", "")) or None):
        return Response("this form's CSRF token is missing or wrong: reload the page", status_code=403, media_type="text/plain")
    token = request.cookies.get(COOKIE, "")
    await run_in_threadpool(user_store(ctx).end_session, token, ctx.now_ms())
    response = RedirectResponse(f"/console/login?lang={lang}", status_code=303)
    clear_session_cookie(response, request)
    return response
