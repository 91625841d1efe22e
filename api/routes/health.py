"""`/health` (the process answers) and `/ready` (the store, the broker and the alert database answer).

Both are open, for orchestrators: `/ready` says per component only ok, failed or not configured. Why
one failed (hosts, ports, error texts) is for an admin key only, in `details`.
"""

from __future__ import annotations

import logging
import socket

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.auth import check_key, client_address
from api.deps import Context
from api.roles import Role
from wastewatch.relational import DatabaseError

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
BROKER_TIMEOUT_S = 2.0
OK, FAILED, NOT_CONFIGURED = "ok", "failed", "not configured"


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
    """Each dependency: ok, failed or not configured."""
    details: dict[str, str] | None = None
    """Why each failed one failed (hosts, error texts): with an admin key only."""


@router.get("/health", response_model=Health)
def health() -> Health:
    return Health(status="ok")


@router.get("/ready", response_model=Readiness, response_model_exclude_none=True,
            responses={503: {"model": Readiness, "description": "a dependency failed"}})
def ready(ctx: Context, request: Request) -> JSONResponse:
    """Open (no security scheme in the schema). With an admin key in `Authorization`, `details` says why a
    failed component failed."""
    found = {"store": _store(ctx), "broker": _broker(ctx), "alert_database": _alert_db(ctx)}
    checks = {name: state for name, (state, _) in found.items()}
    failed = [name for name, state in checks.items() if state == FAILED]
    body = Readiness(status="failed: " + ", ".join(failed) if failed else "ready", checks=checks)
    if request.headers.get("authorization") and _is_admin(ctx, request):
        body.details = {name: why for name, (state, why) in found.items() if state == FAILED}
    for name in failed:
        logger.warning("not ready: %s: %s", name, found[name][1])
    return JSONResponse(body.model_dump(exclude_none=True), status_code=503 if failed else 200)


def _is_admin(ctx: Context, request: Request) -> bool:
    """True for a live admin key; anything else gets the open answer (a wrong key still counts as a failure)."""
    try:
        key = check_key(ctx, client_address(request), request.headers.get("authorization"), request.url.path)
    except (HTTPException, DatabaseError):
        return False
    return key.role.allows(Role.ADMIN)


def _store(ctx: Context) -> tuple[str, str]:
    return (OK, "") if ctx.store.ping() else (FAILED, "no answer from the time-series store")


def _broker(ctx: Context) -> tuple[str, str]:
    broker = ctx.settings.mqtt.address
    if broker is None:
        return NOT_CONFIGURED, ""
    try:
        with socket.create_connection((broker.host, broker.port), timeout=BROKER_TIMEOUT_S):
            return OK, ""
    except OSError as exc:
        return FAILED, f"{broker.host}:{broker.port}: {exc.strerror or exc}"


def _alert_db(ctx: Context) -> tuple[str, str]:
    try:
        ctx.alert_db.query_one("SELECT 1 AS ok")
    except DatabaseError as exc:
        return FAILED, str(exc)
    return OK, ""
