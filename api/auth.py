"""API-key authentication and role checks, with failed attempts rate-limited per client address.

Every route under /api/v1 declares the least role it needs with one `RoleGuard` dependency;
`declared_role` finds it again, so `create_app` refuses a route that declares none.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.context import ApiContext
from api.keys import ApiKey
from api.roles import Role

logger = logging.getLogger(__name__)

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer ww_…`", scheme_name="ApiKey")


def get_context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def client_address(request: Request) -> str:
    # Behind a reverse proxy run uvicorn with --proxy-headers/--forwarded-allow-ips so this is the real client.
    return request.client.host if request.client else "unknown"


def authenticate(
    request: Request,
    ctx: Annotated[ApiContext, Depends(get_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    """The caller's live key; 401 without one, 429 after too many failures from its address.

    Every dependency that can refuse a request for what it names (an unknown plant: 404) depends on
    this one, so a caller without a key learns nothing from the answer. FastAPI runs it once per
    request however many dependencies ask for it.
    """
    client, now_s = client_address(request), ctx.clock()
    retry_after = ctx.limiter.retry_after_s(client, now_s)
    if retry_after is not None:
        raise HTTPException(
            429, "too many failed authentications from this address; try again later",
            headers={"Retry-After": str(max(1, round(retry_after)))},
        )
    key = ctx.keys.verify(credentials.credentials) if credentials is not None else None
    if key is None:
        ctx.limiter.record_failure(client, now_s)
        # the presented key is never logged, not even in part
        logger.info("authentication failed client=%s path=%s", client, request.url.path)
        reason = "missing API key: send Authorization: Bearer <key>" if credentials is None else "unknown or revoked API key"
        raise HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})
    return key


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
