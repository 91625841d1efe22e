"""The console's login session on each request: the cookie, its CSRF token, the checks on a form post.

The cookie (`ww_session`) is HttpOnly, SameSite=Strict and, over HTTPS (the request's scheme, or the
proxy's `X-Forwarded-Proto: https`), Secure; it holds only the random session token. A form post is
accepted only from this server's own pages: its Origin (or, without one, its Referer) must be this
host, and a logged-in post must carry the session's CSRF token.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import Response

from api.context import ApiContext
from api.users import Session, UserStore

COOKIE = "ww_session"


def user_store(ctx: ApiContext) -> UserStore:
    return UserStore(ctx.alert_db)


def current_session(request: Request, ctx: ApiContext) -> Session | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    return user_store(ctx).session(token, ctx.now_ms(), idle_s=ctx.api.console_idle_s, absolute_s=ctx.api.console_absolute_s)


def over_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def set_session_cookie(response: Response, request: Request, token: str, max_age_s: float) -> None:
    response.set_cookie(COOKIE, token, max_age=int(max_age_s), httponly=True, samesite="strict", secure=over_https(request),
                        path="/console")


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="strict", secure=over_https(request), path="/console")


def same_origin(request: Request) -> bool:
    """Whether a state-changing request comes from this server's own pages (Origin, else Referer);
    a request with neither header (not a browser's form post) is refused too."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return bool(parts.netloc) and parts.netloc.lower() == request.headers.get("host", "").lower()
