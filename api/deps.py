"""Named `Annotated` dependencies the routes take: the context and its parts, keys by role, the plant
named in the path, the requested time range and output format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Path, Query

from api.auth import authenticate, get_context, require
from api.context import ApiContext
from api.keys import ApiKey
from api.roles import Role
from api.timerange import TimeRange, resolve_range
from wastewatch.plant import PlantConfig
from wastewatch.points import Store
from wastewatch.relational import Database
from wastewatch.topics import ID_PATTERN

Context = Annotated[ApiContext, Depends(get_context)]


def _store(ctx: Context) -> Store:
    return ctx.store


def _alert_db(ctx: Context) -> Database:
    return ctx.alert_db


StoreDep = Annotated[Store, Depends(_store)]
AlertDb = Annotated[Database, Depends(_alert_db)]

EvaluatorKey = Annotated[ApiKey, Depends(require(Role.EVALUATOR))]
AgencyKey = Annotated[ApiKey, Depends(require(Role.AGENCY))]
OperatorKey = Annotated[ApiKey, Depends(require(Role.OPERATOR))]
AdminKey = Annotated[ApiKey, Depends(require(Role.ADMIN))]

PlantId = Annotated[str, Path(pattern=ID_PATTERN, description="plant id, e.g. kotim")]
SensorId = Annotated[str, Path(pattern=ID_PATTERN, description="sensor id from the plant's catalogue, e.g. t_secondary")]


def plant_for(ctx: ApiContext, key: ApiKey, plant_id: str) -> PlantConfig:
    """The plant `plant_id` if it exists and `key` reads it; a 404 otherwise, the same for both, naming
    only the plants the key reads (a scoped key learns nothing of the others)."""
    plant = ctx.catalog.get(plant_id)
    if plant is None or not key.may_read(plant_id):
        raise HTTPException(404, f"no plant {plant_id!r}; known: {', '.join(key.visible(ctx.catalog.ids))}")
    return plant


def _plant(ctx: Context, plant_id: PlantId, key: Annotated[ApiKey, Depends(authenticate)]) -> PlantConfig:
    return plant_for(ctx, key, plant_id)


Plant = Annotated[PlantConfig, Depends(_plant)]
"""The plant of the path, checked against the key's scope: every route with a {plant_id} takes it
(`create_app` refuses one that does not)."""
PLANT_DEPENDENCY = _plant


def range_dependency(default_span: timedelta) -> object:
    """A dependency reading start/end/period in the plant's zone; `default_span` when start is left out."""

    def _range(
        ctx: Context,
        plant: Plant,
        start: Annotated[str | None, Query(max_length=40, description="RFC 3339, 'now' or relative: -30d, -12h, -15m")] = None,
        end: Annotated[str | None, Query(max_length=40, description="RFC 3339, 'now' or relative; default now")] = None,
        period: Annotated[
            str | None, Query(max_length=12, description="a calendar period in the plant's time zone: 2026-11-28, 2026-11, 2026-Q4, 2026")
        ] = None,
    ) -> TimeRange:
        now = datetime.fromtimestamp(ctx.clock(), tz=UTC)
        return resolve_range(start=start, end=end, period=period, now=now, zone=plant.zone, default_span=default_span)

    return Depends(_range)


RecentRange = Annotated[TimeRange, range_dependency(timedelta(days=1))]
"""Readings and averages: the last day unless asked otherwise."""
PeriodRange = Annotated[TimeRange, range_dependency(timedelta(days=30))]
"""Summaries: the last 30 days unless asked otherwise."""

Format = Annotated[
    Literal["json", "csv"] | None,
    Query(description="json or csv; `Accept: text/csv` asks for CSV too"),
]
