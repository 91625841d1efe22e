"""The admins' pages: console users (list, add with a role and plant scope, reset a password, disable)
and API keys (list, issue with the secret shown once, revoke).

Only the role admin, and only without a plant scope (a scoped admin could give itself a wider user or
key, as a scoped admin key cannot manage keys); everyone else gets a 403 page. Every form posts the
session's CSRF token from this server's own page (`access.checked_form`); every change goes through
`UserStore` and `KeyStore`, which audit it under the admin's user name. A new key's secret is in the
answer to the issuing post only (never in a URL, never stored), the page marked no-store.
"""

from __future__ import annotations

import re
from datetime import UTC, tzinfo
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api.auth import get_context
from api.console.access import checked_form, signed_in
from api.console.pages import TEXTS, lang_of, page
from api.context import ApiContext
from api.keys import NAME_PATTERN, IssuedKey, KeyConflict, KeyNotFound
from api.roles import ROLE_ORDER, Role
from api.users import MAX_PASSWORD, MIN_PASSWORD, Session, UserConflict, UserNotFound, UserStore, check_password

router = APIRouter(prefix="/console/admin", include_in_schema=False)
KEY_ID = re.compile(r"^[0-9a-f]{8}$")


def _scope_refused(session: Session, lang: str) -> Response | None:
    if session.user.plants is None:
        return None
    return page("message.html.j2", lang, 403, title=TEXTS[lang]["adm"]["forbidden_title"], user=session.user,
                message=TEXTS[lang]["adm"]["scoped"])


async def _admin(request: Request, lang: str) -> Session | Response:
    session = await signed_in(request, lang, Role.ADMIN)
    if isinstance(session, Response):
        return session
    return _scope_refused(session, lang) or session


async def _admin_form(request: Request) -> tuple[Session, FormData, str] | Response:
    checked = await checked_form(request, Role.ADMIN)
    if isinstance(checked, Response):
        return checked
    return _scope_refused(checked[0], checked[2]) or checked


def _role(form: FormData) -> Role | None:
    value = str(form.get("role", ""))
    return Role(value) if value in {r.value for r in Role} else None


def _plants(ctx: ApiContext, form: FormData) -> tuple[bool, list[str] | None]:
    """Whether every plant ticked is in the catalogue, and those plants (None: none ticked, every plant)."""
    ticked = [str(v) for v in form.getlist("plants")]
    return all(p in ctx.catalog.ids for p in ticked), sorted(set(ticked)) or None


def _zone(ctx: ApiContext) -> tzinfo:
    """Users and keys belong to no plant: their times on the first plant's clock (the operator's own)."""
    first = next(iter(ctx.catalog), None)
    return first.zone if first is not None else UTC


# -- users ---------------------------------------------------------------------------------------------


def _users_page(ctx: ApiContext, session: Session, lang: str, status: int = 200, error: str | None = None,
                done: str | None = None, form: dict[str, Any] | None = None) -> Response:
    users = UserStore(ctx.alert_db).list_users()
    a = TEXTS[lang]["adm"]
    return page("admin_users.html.j2", lang, status, title=a["users_title"], user=session.user, csrf=session.csrf_token,
                users=users, roles=ROLE_ORDER, plants=ctx.catalog.ids, error=error, done=a["done"].get(done or ""),
                form=form or {}, min_password=MIN_PASSWORD, zone=_zone(ctx), wide=True)


@router.get("/users")
async def users_page(request: Request, lang: str | None = None, done: str | None = None) -> Response:
    language = lang_of(lang)
    session = await _admin(request, language)
    if isinstance(session, Response):
        return session
    return await run_in_threadpool(_users_page, get_context(request), session, language, 200, None, done)


def _password_problem(name: str, password: str, lang: str) -> str | None:
    try:
        check_password(name, password)
    except ValueError:
        return str(TEXTS[lang]["adm"]["weak_password"]).format(min=MIN_PASSWORD, max=MAX_PASSWORD)
    return None


@router.post("/users/add")
async def add_user(request: Request) -> Response:
    checked = await _admin_form(request)
    if isinstance(checked, Response):
        return checked
    session, form, lang = checked
    ctx, a = get_context(request), TEXTS[lang]["adm"]
    name, password, role = str(form.get("name", "")).strip()[:100], str(form.get("password", "")), _role(form)
    known, plants = _plants(ctx, form)
    kept = {"name": name[:64], "role": role.value if role else "", "plants": plants or []}
    error = (a["bad_name"] if not re.match(NAME_PATTERN, name) else a["bad_role"] if role is None
             else a["bad_plants"] if not known else _password_problem(name, password, lang))
    if error is None and role is not None:
        try:
            await run_in_threadpool(UserStore(ctx.alert_db).add, name, role, password, session.user.name, ctx.now_ms(), plants)
        except UserConflict:
            return await run_in_threadpool(_users_page, ctx, session, lang, 409, a["user_exists"].format(name=name), None, kept)
        return RedirectResponse(f"/console/admin/users?lang={lang}&done=added", status_code=303)
    return await run_in_threadpool(_users_page, ctx, session, lang, 422, error, None, kept)


@router.post("/users/password")
async def reset_password(request: Request) -> Response:
    checked = await _admin_form(request)
    if isinstance(checked, Response):
        return checked
    session, form, lang = checked
    ctx, a = get_context(request), TEXTS[lang]["adm"]
    name, password = str(form.get("name", ""))[:100], str(form.get("password", ""))
    error = _password_problem(name, password, lang)
    if error is None:
        try:
            await run_in_threadpool(UserStore(ctx.alert_db).set_password, name, password, session.user.name, ctx.now_ms())
        except UserNotFound:
            return await run_in_threadpool(_users_page, ctx, session, lang, 404, a["no_user"].format(name=name[:64]))
        return RedirectResponse(f"/console/admin/users?lang={lang}&done=password", status_code=303)
    return await run_in_threadpool(_users_page, ctx, session, lang, 422, error)


@router.post("/users/disable")
async def disable_user(request: Request) -> Response:
    checked = await _admin_form(request)
    if isinstance(checked, Response):
        return checked
    session, form, lang = checked
    ctx, a = get_context(request), TEXTS[lang]["adm"]
    name = str(form.get("name", ""))[:100]
    if name == session.user.name:
        return await run_in_threadpool(_users_page, ctx, session, lang, 409, a["not_yourself"])
    try:
        await run_in_threadpool(UserStore(ctx.alert_db).disable, name, session.user.name, ctx.now_ms())
    except UserNotFound:
        return await run_in_threadpool(_users_page, ctx, session, lang, 404, a["no_user"].format(name=name[:64]))
    return RedirectResponse(f"/console/admin/users?lang={lang}&done=disabled", status_code=303)


# -- keys ----------------------------------------------------------------------------------------------


def _keys_page(ctx: ApiContext, session: Session, lang: str, status: int = 200, error: str | None = None,
               done: str | None = None, issued: IssuedKey | None = None, form: dict[str, Any] | None = None) -> Response:
    a = TEXTS[lang]["adm"]
    return page("admin_keys.html.j2", lang, status, title=a["keys_title"], user=session.user, csrf=session.csrf_token,
                keys=ctx.keys.list_keys(), roles=ROLE_ORDER, plants=ctx.catalog.ids, error=error, done=a["done"].get(done or ""),
                issued=issued, form=form or {}, zone=_zone(ctx), wide=True)


@router.get("/keys")
async def keys_page(request: Request, lang: str | None = None, done: str | None = None) -> Response:
    language = lang_of(lang)
    session = await _admin(request, language)
    if isinstance(session, Response):
        return session
    return await run_in_threadpool(_keys_page, get_context(request), session, language, 200, None, done)


@router.post("/keys/issue")
async def issue_key(request: Request) -> Response:
    checked = await _admin_form(request)
    if isinstance(checked, Response):
        return checked
    session, form, lang = checked
    ctx, a = get_context(request), TEXTS[lang]["adm"]
    name, role = str(form.get("name", "")).strip()[:100], _role(form)
    known, plants = _plants(ctx, form)
    kept = {"name": name[:64], "role": role.value if role else "", "plants": plants or []}
    if not re.match(NAME_PATTERN, name) or role is None or not known:
        error = a["bad_name"] if not re.match(NAME_PATTERN, name) else a["bad_role"] if role is None else a["bad_plants"]
        return await run_in_threadpool(_keys_page, ctx, session, lang, 422, error, None, None, kept)
    try:
        issued = await run_in_threadpool(ctx.keys.issue, name, role, session.user.name, ctx.now_ms(), plants)
    except KeyConflict:
        return await run_in_threadpool(_keys_page, ctx, session, lang, 409, a["key_exists"].format(name=name), None, None, kept)
    return await run_in_threadpool(_keys_page, ctx, session, lang, 200, None, None, issued)


@router.post("/keys/revoke")
async def revoke_key(request: Request) -> Response:
    checked = await _admin_form(request)
    if isinstance(checked, Response):
        return checked
    session, form, lang = checked
    ctx, a = get_context(request), TEXTS[lang]["adm"]
    key_id = str(form.get("key_id", ""))
    try:
        if not KEY_ID.match(key_id):
            raise KeyNotFound(key_id)
        await run_in_threadpool(ctx.keys.revoke, key_id, session.user.name, ctx.now_ms())
    except KeyNotFound:
        return await run_in_threadpool(_keys_page, ctx, session, lang, 404, a["no_key"].format(key_id=key_id[:20]))
    return RedirectResponse(f"/console/admin/keys?lang={lang}&done=revoked", status_code=303)
