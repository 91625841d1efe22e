"""`create_app(settings, api)`: the FastAPI application, its shared context, middleware and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from alerts.schema import open_database
from api.auth import KeyCheck, declared_role
from api.bodylimit import BodyLimit
from api.console.routes import install_console
from api.context import ApiContext
from api.deps import PLANT_DEPENDENCY
from api.docs import install_docs
from api.errors import ERROR_RESPONSES, install_error_handlers
from api.headers import SecurityHeaders
from api.keys import KeyStore
from api.ratelimit import FailureLimiter
from api.routes import ROUTERS, health
from api.settings import ApiSettings
from api.summary_cache import SummaryCache
from wastewatch.plant import PlantCatalog, load_catalog
from wastewatch.points import Store
from wastewatch.relational import Database
from wastewatch.settings import Settings
from wastewatch.store import open_store

API_PREFIX = "/api/v1"
OPEN_PATHS: frozenset[str] = frozenset({"/health", "/ready", "/docs", "/docs/assets", "/openapi.json"})
"""Answered without a key: liveness and readiness for orchestrators (`/ready` without hosts or error texts),
and the API's own documentation (the schema is in this open-source repository anyway; it holds no data)."""


class UndeclaredRole(RuntimeError):
    """A route under /api/v1 declares no role, or names a plant without the scope check: refused at start
    rather than served open."""


def create_app(
    settings: Settings, api: ApiSettings, *, store: Store | None = None, catalog: PlantCatalog | None = None, alert_db: Database | None = None
) -> FastAPI:
    """The API on the settings' store, plants and alert database (each can be handed in, as tests do)."""
    owned_store, owned_db = store is None, alert_db is None
    db = alert_db if alert_db is not None else open_database(settings)
    ctx = ApiContext(
        settings=settings,
        api=api,
        store=store if store is not None else open_store(settings),
        catalog=catalog if catalog is not None else load_catalog(settings.plant_config),
        alert_db=db,
        keys=KeyStore(db),
        limiter=FailureLimiter(api.auth_failures_burst, api.auth_failures_per_min),
        summaries=SummaryCache(api.summary_cache_s),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned_store:
            ctx.store.close()
        if owned_db:
            ctx.alert_db.close()

    app = FastAPI(
        title="wastewatch API",
        version="1",
        description="Plants, readings, validated averages, tonnage, uptime, compliance and alerts. "
        "Send an API key as `Authorization: Bearer <key>`; `/health` and `/ready` are open.",
        lifespan=lifespan,
        docs_url=None,  # install_docs: Swagger UI from local files, not a CDN
        redoc_url=None,  # ReDoc would load from a CDN too
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    install_docs(app)
    app.include_router(health.router)
    install_console(app, api.console_login_burst, api.console_login_per_min)
    for router in ROUTERS:
        _declare_roles(router)
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    # innermost first: the body is read (up to the limit) only after the key was checked
    app.add_middleware(BodyLimit, max_bytes=api.max_body_bytes)
    app.add_middleware(KeyCheck, prefix=API_PREFIX)
    app.add_middleware(SecurityHeaders)
    origins = api.cors_origins
    if origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Accept"], max_age=600,
        )
    return app


def _declare_roles(router: APIRouter) -> None:
    """Refuse a route without a role; write each route's role into the OpenAPI (`x-required-role`)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        role = declared_role(route)
        if role is None:
            raise UndeclaredRole(f"route {sorted(route.methods or ())} {route.path} declares no role (use a *Key dependency)")
        if "{plant_id}" in route.path and not _depends_on(route, PLANT_DEPENDENCY):
            raise UndeclaredRole(f"route {sorted(route.methods or ())} {route.path} names a plant without the Plant dependency "
                                 "(which checks the key's plants)")
        route.openapi_extra = {**(route.openapi_extra or {}), "x-required-role": role.value}
        if f"Role: {role.value}" not in (route.description or ""):
            route.description = f"{route.description or ''}\n\nRole: {role.value} or above.".strip()


def _depends_on(route: APIRoute, call: object) -> bool:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is call:
            return True
        stack.extend(dep.dependencies)
    return False
