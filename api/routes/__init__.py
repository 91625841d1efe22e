"""One router per resource; `ROUTERS` are mounted under /api/v1 by `create_app`."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import alerts, averages, keys, plants, readings

ROUTERS: tuple[APIRouter, ...] = (plants.router, readings.router, averages.router, alerts.router, keys.router)
