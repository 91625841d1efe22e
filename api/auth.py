"""API-key authentication and role checks, with failed attempts rate-limited per client address.

`KeyCheck` (ASGI middleware) checks the key of every request under /api/v1 before its body or query
is read; the `authenticate` dependency hands the routes the key it found.

Every route under /api/v1 declares the least role it needs with one `RoleGuard` dependency;
`declared_role` finds it again, so `create_app` refuses a route that declares none.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.context import ApiContext
from api.keys import ApiKey
from api.roles import Role
from wastewatch.relational import DatabaseError

logger = logging.getLogger(__name__)

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer ww_…`", scheme_name="ApiKey")


def get_context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def client_address(request: Request) -> str:
    # Behind a reverse proxy run uvicorn with --proxy-headers/--forwarded-allow-ips so this is the real client.
    return request.client.host if request.client else "unknown"


KEY_STATE = "api_key"
"""Where `KeyCheck` leaves the caller's key in the request's state for `authenticate`."""


def check_key(ctx: ApiContext, client: str, authorization: str | None, path: str) -> ApiKey:
    """The live key the `Authorization` header presents; 401 without one, 429 after too many failures.

    A valid key is always admitted, whatever its address did: many callers share one (NAT, a proxy),
    and one of them guessing must not lock the others out. Only failures count, and only a failing
    caller is refused for them.
    """
    scheme, _, token = (authorization or "").partition(" ")
    presented = token.strip() if scheme.lower() == "bearer" and token.strip() else None
    key = ctx.keys.verify(presented) if presented is not None else None
    if key is not None:
        return key
    now_s = ctx.clock()
    retry_after = ctx.limiter.retry_after_s(client, now_s)
    if retry_after is not None:
        raise HTTPException(
            429, "too many failed authentications from this address; try again later",
            headers={"Retry-After": str(max(1, round(retry_after)))},
        )
    ctx.limiter.record_failure(client, now_s)
    # the presented key is never logged, not even in part
    logger.info("authentication failed client=%s path=%s", client, path)
    reason = "missing API key: send Authorization: Bearer <key>" if presented is None else "unknown or revoked API key"
    raise HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})


def authenticate(
    request: Request,
    ctx: Annotated[ApiContext, Depends(get_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    """The caller's live key, checked by `KeyCheck` before the request's body or query was read.

    Every dependency that can refuse a request for what it names (an unknown plant: 404) depends on
    this one. A route outside `KeyCheck`'s prefix is checked here instead, the same way.
    """
    key = request.scope.get("state", {}).get(KEY_STATE)
    if isinstance(key, ApiKey):
        return key
    return check_key(ctx, client_address(request), request.headers.get("authorization"), request.url.path)


class KeyCheck:
    """ASGI middleware: every request under `prefix` presents a live key before anything else happens.

    It runs before the body is read (and before `BodyLimit`) and before FastAPI parses the body or the
    query: a caller without a key gets a 401 (or 429) whatever it sends, and costs no more than the check.
    """

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (scope["path"] == self.prefix or scope["path"].startswith(self.prefix + "/")):
            await self.app(scope, receive, send)
            return
        ctx: ApiContext = scope["app"].state.ctx
        headers = Headers(scope=scope)
        client = scope["client"][0] if scope.get("client") else "unknown"
        try:
            key = await run_in_threadpool(check_key, ctx, client, headers.get("authorization"), scope["path"])
        except HTTPException as exc:
            answer = JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
            await answer(scope, receive, send)
            return
        except DatabaseError as exc:  # the keys live in the alert database: as any route, a 503
            logger.warning("alert database error path=%s error=%s", scope["path"], exc)
            answer = JSONResponse({"detail": "the alert database is unavailable; try again later"}, status_code=503,
                                  headers={"Retry-After": "5"})
            await answer(scope, receive, send)
            return
        scope.setdefault("state", {})[KEY_STATE] = key
        await self.app(scope, receive, send)


class RoleGuard:
    """A dependency that admits an authenticated key whose role is at least `role`; 403 otherwise."""

    def __init__(self, role: Role) -> None:
        self.role = role

    def __call__(self, key: Annotated[ApiKey, Depends(authenticate)]) -> ApiKey:
        if not key.role.allows(self.role):
            raise HTTPException(403, f"the key {key.name!r} has role {key.role.value}; this needs {self.role.value} or above")
        return key


GUARDS: dict[Role, RoleGuard] = {role: RoleGuard(role) for role in Role}


def require(role: Role) -> RoleGuard:
    return GUARDS[role]


def declared_role(route: APIRoute) -> Role | None:
    """The role a route's `RoleGuard` requires (the highest if it has several), or None."""
    found: list[Role] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, RoleGuard):
            found.append(dep.call.role)
        stack.extend(dep.dependencies)
    return max(found, key=lambda r: r.rank) if found else None
