"""Batches (agency) and tonnage per day, week, month, facility and waste code (evaluator, via api.summaries)."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from api.deps import AgencyKey, Context, EvaluatorKey, Format, PeriodRange, Plant
from api.errors import TooManyPoints
from api.schemas import Batches, BatchRow, to_time
from api.summaries import Grouping, Tonnage, TonnageShare, tonnage
from api.summaries.tonnage import grams_to_tonnes
from api.summary_schemas import TonnageBucketOut, TonnageOut, TonnageShareOut
from api.tabular import csv_responses, table_response
from wastewatch.records import BATCH

router = APIRouter(prefix="/plants/{plant_id}", tags=["tonnage"])
By = Literal["day", "week", "month", "facility", "waste_code"]
GROUPING: dict[str, Grouping] = {"day": "day", "week": "week", "month": "month", "facility": "day", "waste_code": "day"}


@router.get("/batches", response_model=Batches, responses=csv_responses(Batches))
def list_batches(ctx: Context, plant: Plant, span: PeriodRange, key: AgencyKey, request: Request, format: Format = None) -> Response:
    """Every weighed batch in [start, end), in time order (capped like readings)."""
    cap = ctx.api.max_points
    points = ctx.store.select(BATCH, where={"plant": plant.id}, start_ms=span.start_ms, end_ms=span.end_ms, limit=cap + 1)
    if len(points) > cap:
        raise TooManyPoints(f"more than {cap} batches in this range: narrow it, or ask for /tonnage")
    rows = [
        BatchRow(time=to_time(p.time_ms, plant.zone), batch_id=str(p.fields.get("batch_id", "")), mass_kg=float(m),
                 source=p.tags.get("source", ""), waste_code=p.tags.get("waste_code"),
                 manifest_no=str(p.fields["manifest_no"]) if "manifest_no" in p.fields else None)
        for p in points if isinstance(m := p.fields.get("mass_kg"), (int, float)) and not isinstance(m, bool)
    ]
    document = Batches(plant=plant.id, start=to_time(span.start_ms, plant.zone), end=to_time(span.end_ms, plant.zone),
                       total_kg=round(sum(r.mass_kg for r in rows), 3), batches=rows)
    return table_response(request, format, document, rows, BatchRow, f"{plant.id}-batches")


@router.get("/tonnage", response_model=TonnageOut, responses=csv_responses(TonnageOut))
def get_tonnage(
    ctx: Context, plant: Plant, span: PeriodRange, key: EvaluatorKey, request: Request,
    by: Annotated[By, Query(description="calendar buckets (day, week, month) or the CSV's rows (facility, waste_code)")] = "day",
    format: Format = None,
) -> Response:
    """Tonnes treated, on the plant's calendar; CSV rows are the buckets, facilities or waste codes `by` names."""
    grouping = GROUPING[by]
    result = ctx.summaries.get_or_compute(
        ("tonnage", plant.id, span.start_ms, span.end_ms, grouping),
        lambda: tonnage(ctx.store, plant, span.start_ms, span.end_ms, by=grouping), ctx.clock(),
    )
    document = tonnage_out(result, plant.zone)
    rows: list[TonnageBucketOut] | list[TonnageShareOut]
    model: type[BaseModel]
    if by == "facility":
        rows, model = document.by_facility, TonnageShareOut
    elif by == "waste_code":
        rows, model = document.by_waste_code, TonnageShareOut
    else:
        rows, model = document.buckets, TonnageBucketOut
    return table_response(request, format, document, rows, model, f"{plant.id}-tonnage-{by}")


def _kg(grams: int) -> float:
    return grams / 1000


def _share(s: TonnageShare) -> TonnageShareOut:
    return TonnageShareOut(key=s.key, name=s.name, mass_kg=_kg(s.mass_g), tonnes=float(s.tonnes), batches=s.batches)


def tonnage_out(t: Tonnage, zone: ZoneInfo) -> TonnageOut:
    return TonnageOut(
        plant=t.plant, start=to_time(t.start_ms, zone), end=to_time(t.end_ms, zone), by=t.by, mass_kg=_kg(t.mass_g),
        tonnes=float(grams_to_tonnes(t.mass_g)), batches=t.batches, facilities_served=list(t.facilities_served),
        buckets=[TonnageBucketOut(key=b.key, start=to_time(b.start_ms, zone), end=to_time(b.end_ms, zone), mass_kg=_kg(b.mass_g),
                                  tonnes=float(b.tonnes), batches=b.batches) for b in t.buckets],
        by_facility=[_share(s) for s in t.by_facility], by_waste_code=[_share(s) for s in t.by_waste_code],
    )
