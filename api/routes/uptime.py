"""Uptime: operating hours, plant and data availability (Indonesian and EU rules), downtime with causes
(evaluator, via api.summaries)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from api.deps import Context, EvaluatorKey, Format, PeriodRange, Plant
from api.schemas import to_time
from api.summaries import DowntimeIncident, PollutantDataAvailability, Uptime, uptime
from api.summary_schemas import DataAvailabilityOut, DowntimeList, DowntimeOut, QuarterAvailabilityOut, UptimeOut
from api.tabular import csv_responses, table_response
from api.timerange import TimeRange
from wastewatch.plant import PlantConfig

router = APIRouter(prefix="/plants/{plant_id}", tags=["uptime"])


@router.get("/uptime", response_model=UptimeOut, responses=csv_responses(UptimeOut))
def get_uptime(ctx: Context, plant: Plant, span: PeriodRange, key: EvaluatorKey, request: Request, format: Format = None) -> Response:
    """CSV rows: data availability per pollutant."""
    document = uptime_out(_uptime(ctx, plant, span), plant.zone)
    return table_response(request, format, document, document.data_availability, DataAvailabilityOut, f"{plant.id}-uptime")


@router.get("/downtime", response_model=DowntimeList, responses=csv_responses(DowntimeList))
def get_downtime(ctx: Context, plant: Plant, span: PeriodRange, key: EvaluatorKey, request: Request, format: Format = None) -> Response:
    """Intervals out of operation with their cause: the alert open when it began, scheduled, or unknown."""
    document = uptime_out(_uptime(ctx, plant, span), plant.zone)
    listing = DowntimeList(plant=plant.id, start=document.start, end=document.end, downtime=document.downtime)
    return table_response(request, format, listing, listing.downtime, DowntimeOut, f"{plant.id}-downtime")


def _uptime(ctx: Context, plant: PlantConfig, span: TimeRange) -> Uptime:
    return ctx.summaries.get_or_compute(
        ("uptime", plant.id, span.start_ms, span.end_ms),
        lambda: uptime(ctx.store, plant, span.start_ms, span.end_ms, alert_db=ctx.alert_db), ctx.clock(),
    )


def _availability(p: PollutantDataAvailability) -> DataAvailabilityOut:
    return DataAvailabilityOut(
        pollutant=p.pollutant, valid_hours=p.valid_hours, discarded_hours=p.discarded_hours, share=p.share,
        valid_days=p.valid_days, operating_days=p.operating_days, eu_discarded_half_hours=p.eu_discarded_half_hours,
        eu_discarded_days=p.eu_discarded_days, eu_max_discarded_days=p.eu_max_discarded_days, eu_v5_ok=p.v5_ok,
        quarters=[QuarterAvailabilityOut(quarter=q.quarter, valid_days=q.valid_days, operating_days=q.operating_days,
                                         share=q.share, min_share=q.min_share, ok=q.ok) for q in p.quarters],
    )


def _downtime(d: DowntimeIncident, zone: ZoneInfo) -> DowntimeOut:
    return DowntimeOut(start=to_time(d.start_ms, zone), end=to_time(d.end_ms, zone), hours=d.hours, state=d.state,
                       cause=d.cause, alert_id=d.alert_id, alert_title=d.alert_title)


def uptime_out(u: Uptime, zone: ZoneInfo) -> UptimeOut:
    return UptimeOut(
        plant=u.plant, start=to_time(u.start_ms, zone), end=to_time(u.end_ms, zone), period_h=u.period_h,
        operating_h=u.operating_h, available_h=u.available_h, plant_availability=u.plant_availability,
        data_availability_share=u.data_availability_share, state_h=u.state_h,
        data_availability=[_availability(p) for p in u.data_availability], downtime=[_downtime(d, zone) for d in u.downtime],
    )
