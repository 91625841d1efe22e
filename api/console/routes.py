"""`install_console(app, …)`: the console's pages on the API's application."""

from __future__ import annotations

from fastapi import FastAPI

from api.console import admin, alerts, login, manifests, overview, public, summary
from api.ratelimit import FailureLimiter


def install_console(app: FastAPI, burst: int, per_min: float) -> None:
    """The console's routes and its two login limiters (per account; per address, four times as lenient)."""
    app.state.console_limiters = (FailureLimiter(burst, per_min), FailureLimiter(burst * 4, per_min * 4))
    app.include_router(login.router)
    app.include_router(alerts.router)
    app.include_router(overview.router)
    app.include_router(summary.router)
    app.include_router(manifests.router)
    app.include_router(admin.router)
    app.include_router(public.router)
