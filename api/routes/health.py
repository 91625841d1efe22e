"""`/health` (the process answers) and `/ready` (the store, the broker and the alert database answer)."""

from __future__ import annotations

import socket

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from alerts.database import AlertDatabaseError
from api.deps import Context

router = APIRouter(tags=["health"])
BROKER_TIMEOUT_S = 2.0


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
    """Each dependency: ok, failed (with why) or not configured."""


@router.get("/health", response_model=Health)
def health() -> Health:
    return Health(status="ok")


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness, "description": "a dependency failed"}})
def ready(ctx: Context) -> JSONResponse:
    checks = {"store": _store(ctx), "broker": _broker(ctx), "alert_database": _alert_db(ctx)}
    failed = [name for name, state in checks.items() if state.startswith("failed")]
    body = Readiness(status="failed: " + ", ".join(failed) if failed else "ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=503 if failed else 200)


def _store(ctx: Context) -> str:
    return "ok" if ctx.store.ping() else "failed: no answer from the time-series store"


def _broker(ctx: Context) -> str:
    broker = ctx.settings.broker
    if broker is None:
        return "not configured"
    try:
        with socket.create_connection((broker.host, broker.port), timeout=BROKER_TIMEOUT_S):
            return "ok"
    except OSError as exc:
        return f"failed: {broker.host}:{broker.port}: {exc.strerror or exc}"


def _alert_db(ctx: Context) -> str:
    try:
        ctx.alert_db.query_one("SELECT 1 AS ok")
    except AlertDatabaseError as exc:
        return f"failed: {exc}"
    return "ok"

