"""The console's pages so far: log in, the signed-in landing page, log out.

Logging in is throttled twice, per account and per client address (`FailureLimiter`, the API key
check's limiter): guessing one officer's password from many addresses, or many passwords from one
address, both run dry. Every login, failed login and logout is in the audit trail (`api.users`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from api.auth import client_address, get_context
from api.console.sessions import COOKIE, clear_session_cookie, current_session, same_origin, set_session_cookie, user_store
from api.headers import csp_hash
from api.ratelimit import FailureLimiter
from api.users import csrf_matches

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f8}"
    "header{background:#16423c;color:#fff;padding:.75rem 1rem}header .who{float:right}"
    "main{max-width:40rem;margin:1.5rem auto;padding:0 1rem}"
    "label{display:block;margin-top:1rem;font-weight:600}"
    "input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #767676;border-radius:4px}"
    "button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;background:#16423c;color:#fff;border:0;border-radius:4px}"
    ".error{color:#8b0000;font-weight:600}"
)
CSP = f"default-src 'none'; style-src {csp_hash(STYLE)}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
TEXTS: dict[str, dict[str, Any]] = {
    "id": {
        "login_title": "Masuk", "name": "Nama pengguna", "password": "Kata sandi", "log_in": "Masuk",
        "home_title": "Konsol", "signed_in_as": "Masuk sebagai", "plants": "instalasi", "all_plants": "semua",
        "log_out": "Keluar", "wrong": "Nama pengguna atau kata sandi salah.",
        "throttled": "Terlalu banyak percobaan gagal. Coba lagi dalam {seconds} detik.",
        "roles": {"evaluator": "evaluator", "agency": "petugas DLH", "operator": "operator", "admin": "admin"},
    },
    "en": {
        "login_title": "Log in", "name": "User name", "password": "Password", "log_in": "Log in",
        "home_title": "Console", "signed_in_as": "Signed in as", "plants": "plants", "all_plants": "all",
        "log_out": "Log out", "wrong": "Wrong user name or password.",
        "throttled": "Too many failed attempts. Try again in {seconds} s.",
        "roles": {"evaluator": "evaluator", "agency": "agency officer", "operator": "operator", "admin": "admin"},
    },
}
HOME = "/console/"

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["j2"]))
router = APIRouter(prefix="/console", include_in_schema=False)


def _lang(value: str | None) -> str:
    return value if value in TEXTS else "id"


def _page(template: str, lang: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = _templates.get_template(template).render(lang=lang, t=TEXTS[lang], style=STYLE, **values)
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})


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
    return _page("login.html.j2", _lang(lang), title=TEXTS[_lang(lang)]["login_title"], next=_safe_next(next), name="",
                 error=None, user=None)


@router.post("/login")
async def log_in(request: Request) -> Response:
    form = await request.form()
    lang = _lang(str(form.get("lang", "")))
    name, password, next_path = str(form.get("name", ""))[:64], str(form.get("password", "")), _safe_next(str(form.get("next", "")))
    if not same_origin(request):
        return Response("a login comes from this server's login page", status_code=403, media_type="text/plain")
    ctx = get_context(request)
    address, now_s = client_address(request), ctx.clock()
    by_account, by_address = _limiters(request)
    waits = [w for w in (by_account.retry_after_s(name.lower(), now_s), by_address.retry_after_s(address, now_s)) if w is not None]
    if waits:
        seconds = max(1, round(max(waits)))
        page = _page("login.html.j2", lang, 429, title=TEXTS[lang]["login_title"], next=next_path, name=name, user=None,
                     error=TEXTS[lang]["throttled"].format(seconds=seconds))
        page.headers["Retry-After"] = str(seconds)
        return page
    store = user_store(ctx)
    user = await run_in_threadpool(store.authenticate, name, password, ctx.now_ms(), address)
    if user is None:
        by_account.record_failure(name.lower(), now_s)
        by_address.record_failure(address, now_s)
        return _page("login.html.j2", lang, 401, title=TEXTS[lang]["login_title"], next=next_path, name=name, user=None,
                     error=TEXTS[lang]["wrong"])
    new = await run_in_threadpool(store.start_session, user, ctx.now_ms(), address)
    response = RedirectResponse(next_path + ("" if lang == "id" else ("&" if "?" in next_path else "?") + "lang=en"), status_code=303)
    set_session_cookie(response, request, new.token, ctx.api.console_absolute_s)
    return response


@router.get("/")
async def home(request: Request, lang: str | None = None) -> Response:
    ctx = get_context(request)
    session = await run_in_threadpool(current_session, request, ctx)
    language = _lang(lang)
    if session is None:
        return RedirectResponse(f"/console/login?next={quote(HOME)}&lang={language}", status_code=303)
    plants = ", ".join(session.user.plants) if session.user.plants else TEXTS[language]["all_plants"]
    return _page("home.html.j2", language, title=TEXTS[language]["home_title"], user=session.user, csrf=session.csrf_token,
                 plants=plants)


@router.post("/logout")
async def log_out(request: Request) -> Response:
    form = await request.form()
    lang = _lang(str(form.get("lang", "")))
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


def install_console(app: FastAPI, burst: int, per_min: float) -> None:
    """The console's routes and its two login limiters (per account, per address)."""
    app.state.console_limiters = (FailureLimiter(burst, per_min), FailureLimiter(burst * 4, per_min * 4))
    app.include_router(router)
