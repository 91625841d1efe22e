"""One sensor's readings over a range: raw, or down-sampled to an interval with an aggregate; capped."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.deps import AgencyKey, Context, Format, Plant, RecentRange, SensorId
from api.errors import TooManyPoints
from api.schemas import ReadingRow, Readings, to_time
from api.tabular import csv_responses, table_response
from api.timerange import parse_duration_s
from wastewatch.points import AggregateFn
from wastewatch.records import READING

router = APIRouter(prefix="/plants/{plant_id}/sensors/{sensor_id}", tags=["readings"])
Aggregate = Literal["mean", "min", "max", "last", "count", "sum"]
Status = Literal["valid", "maintenance", "malfunction"]


@router.get("/readings", response_model=Readings, responses=csv_responses(Readings))
def get_readings(
    ctx: Context,
    plant: Plant,
    sensor_id: SensorId,
    span: RecentRange,
    key: AgencyKey,
    request: Request,
    interval: Annotated[str | None, Query(max_length=12, description="bucket size: 30s, 5m, 1h, 1d; none: raw readings")] = None,
    aggregate: Annotated[Aggregate, Query(description="per bucket; ignored for raw readings")] = "mean",
    status: Annotated[Status | None, Query(description="only readings with this status")] = None,
    format: Format = None,
) -> Response:
    """Readings of one sensor in [start, end). More than the cap (`WASTEWATCH_API_MAX_POINTS`) is a 422."""
    spec = plant.sensor(sensor_id)
    if spec is None:
        raise HTTPException(404, f"plant {plant.id!r} has no sensor {sensor_id!r}")
    cap = ctx.api.max_points
    where = {"plant": plant.id, "sensor": sensor_id, **({"status": status} if status else {})}
    if interval is None:
        points = ctx.store.select(READING, where=where, start_ms=span.start_ms, end_ms=span.end_ms, limit=cap + 1)
        if len(points) > cap:
            raise TooManyPoints(f"more than {cap} readings in this range: set an interval (e.g. interval=5m) or narrow the range")
        rows = [
            ReadingRow(time=to_time(p.time_ms, plant.zone), value=float(v), status=p.tags.get("status", "valid"))
            for p in points
            if isinstance(v := p.fields.get("value"), (int, float)) and not isinstance(v, bool)
        ]
        every_s, fn = None, None
    else:
        every_s = parse_duration_s(interval)
        buckets = -(-span.span_ms // (every_s * 1000))
        if buckets > cap:
            raise TooManyPoints(f"{buckets} buckets of {interval} in this range exceed the cap of {cap}: widen the interval or narrow the range")
        fn = aggregate
        agg: AggregateFn = aggregate
        found = ctx.store.aggregate(READING, "value", agg, where=where, start_ms=span.start_ms, end_ms=span.end_ms, every_s=every_s)
        rows = [ReadingRow(time=to_time(r.time_ms, plant.zone), value=r.value) for r in found if r.time_ms is not None and r.value is not None]
    document = Readings(
        plant=plant.id, sensor=sensor_id, unit=spec.unit, start=to_time(span.start_ms, plant.zone),
        end=to_time(span.end_ms, plant.zone), interval_s=every_s, aggregate=fn, points=rows,
    )
    return table_response(request, format, document, rows, ReadingRow, f"{plant.id}-{sensor_id}")
