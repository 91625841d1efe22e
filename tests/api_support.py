"""Shared by the API tests: the app served by a real uvicorn in a thread, a key per role, seeded data."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from fastapi import FastAPI

from alerts.schema import open_database
from api.app import create_app
from api.context import ApiContext
from api.roles import ROLE_ORDER, Role
from api.settings import ApiSettings
from tests.helpers import wait_until
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import AverageRecord, DayRecord
from wastewatch.plant import PlantCatalog
from wastewatch.points import Point, Store
from wastewatch.records import Batch, Reading
from wastewatch.runtime import free_port
from wastewatch.settings import BrokerSettings, Settings

ZONE = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=ZONE)
NOW_MS = int(NOW.timestamp() * 1000)
MIN_MS = 60_000


class ServedApp:
    """A real HTTP server on a free loopback port, in a thread (as httpx/starlette test themselves)."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServedApp:
        self.thread.start()
        wait_until(lambda: self.server.started, timeout_s=10, what="uvicorn to start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Api:
    """The running app, an HTTP client, and one key per role."""

    app: FastAPI
    client: httpx.Client
    keys: dict[Role, str]
    store: Store
    settings: Settings
    api: ApiSettings

    @property
    def ctx(self) -> ApiContext:
        ctx: ApiContext = self.app.state.ctx
        return ctx

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def get(self, path: str, role: Role = Role.ADMIN, **kwargs: object) -> httpx.Response:
        headers = {**self.auth(role), **dict(kwargs.pop("headers", {}))}  # type: ignore[call-overload]
        return self.client.get(path, headers=headers, **kwargs)  # type: ignore[arg-type]


def run_api(store: Store, catalog: PlantCatalog, tmp_path: Path, *, mqtt_url: str | None = None, **overrides: object) -> Iterator[Api]:
    """The API served on a free port, every role with a key; `overrides` are `ApiSettings` fields."""
    settings = Settings(data_dir=tmp_path / "data", mqtt=BrokerSettings(url=mqtt_url))
    api = ApiSettings(**{"max_points": 500, **overrides})  # type: ignore[arg-type]
    db = open_database(settings)
    app = create_app(settings, api, store=store, catalog=catalog, alert_db=db)
    ctx: ApiContext = app.state.ctx
    ctx.clock = lambda: NOW_MS / 1000
    keys = {role: ctx.keys.issue(f"{role.value}-key", role, "test", NOW_MS).secret_key for role in ROLE_ORDER}
    with ServedApp(app) as served, httpx.Client(base_url=served.url, timeout=30) as client:
        yield Api(app, client, keys, store, settings, api)
    db.close()


# -- seeded data: 2026-11-28 local, the plant burning 06:00-21:00 ------------------------------------------


def at(hour: int, minute: int = 0, day: int = 28) -> int:
    return int(datetime(2026, 11, day, hour, minute, tzinfo=ZONE).timestamp() * 1000)


def seed_plant_day(store: Store) -> None:
    """Readings every minute 06:00-11:59 for t_secondary, a maintenance stretch, states, batches and averages."""
    readings = [Reading("kotim", "t_secondary", at(6) + i * MIN_MS, 1000.0 + i % 10) for i in range(360)]
    readings += [Reading("kotim", "o2", at(10) + i * MIN_MS, 11.0, "maintenance") for i in range(30)]
    states = [(at(0), "cold"), (at(5), "preheat"), (at(6), "burning"), (at(21), "burnout")]
    points: list[Point] = [r.to_point() for r in readings]
    points += [Point("plant_state", {"plant": "kotim"}, {"state": s, "from_state": "", "reason": "test"}, t) for t, s in states]
    points += [
        Batch("kotim", f"b{i}", at(7) + i * 30 * MIN_MS, 12.345, "rsud-murjani" if i % 2 else "puskesmas-baamang", "A337-1").to_point()
        for i in range(8)
    ]
    points += [_avg("co", "30min", at(6) + i * 30 * MIN_MS, QualityCode.VALID, 20.0 + 100 * (i == 3)) for i in range(10)]
    points += [_avg("co", "30min", at(11), QualityCode.MAINTENANCE, None)]
    points += [_avg("co", "10min", at(6) + i * 10 * MIN_MS, QualityCode.VALID, 15.0) for i in range(6)]
    points.append(DayRecord("kotim", "eu-ied-annex-vi", "co", NOW.date(), at(0), "30min", QualityCode.VALID, 25.0, 10, 1, "t").to_point())
    store.write(points)


def _avg(pollutant: str, period: str, start_ms: int, quality: QualityCode, value: float | None) -> Point:
    return AverageRecord("kotim", "eu-ied-annex-vi", pollutant, period, start_ms, quality, value, value, 0.0,
                         28 if value is not None else 0, 0, 30, "t").to_point()
