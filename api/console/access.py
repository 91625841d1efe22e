"""Who may see a console page and send its forms: the session (else the login page), the role (else a
403 page), and for a form post the same-origin and CSRF checks of every console form."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api.auth import get_context
from api.console.pages import TEXTS, lang_of, page
from api.console.sessions import current_session, same_origin
from api.roles import Role
from api.users import Session, csrf_matches


async def signed_in(request: Request, lang: str, role: Role = Role.EVALUATOR) -> Session | Response:
    """The request's session when its user has `role` or above; the login page (303) without one; a 403 page otherwise."""
    session = await run_in_threadpool(current_session, request, get_context(request))
    if session is None:
        return RedirectResponse(f"/console/login?next={quote(request.url.path)}&lang={lang}", status_code=303)
    if not session.user.role.allows(role):
        return page("message.html.j2", lang, 403, title=TEXTS[lang]["adm"]["forbidden_title"], user=session.user,
                    message=TEXTS[lang]["adm"]["forbidden"])
    return session


async def checked_form(request: Request, role: Role) -> tuple[Session, FormData, str] | Response:
    """A form post's session, fields and language, once its Origin is this server, its CSRF token the
    session's and its user's role at least `role`; a plain 401/403 otherwise (as the alert actions)."""
    form = await request.form()
    lang = lang_of(str(form.get("lang", "")))
    session = await run_in_threadpool(current_session, request, get_context(request))
    if session is None:
        return PlainTextResponse("log in again", status_code=401)
    if not same_origin(request) or not csrf_matches(session, str(form.get("csrf", "")) or None):
        return PlainTextResponse("this form's CSRF token is missing or wrong: reload the page", status_code=403)
    if not session.user.role.allows(role):
        return PlainTextResponse(f"this needs the role {role.value}", status_code=403)
    return session, form, lang
