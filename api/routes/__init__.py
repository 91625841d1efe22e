"""One router per resource; `ROUTERS` are mounted under /api/v1 by `create_app`."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import alerts, averages, compliance, keys, loads, manifests, plants, readings, reports, tonnage, uptime

ROUTERS: tuple[APIRouter, ...] = (
    plants.router, readings.router, averages.router, tonnage.router, uptime.router, compliance.router, loads.router,
    reports.router, alerts.router, keys.router, manifests.router,
)
