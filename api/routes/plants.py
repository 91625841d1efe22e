"""Plants: the list, one plant's description, its sensors with their newest values, its operating state."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import AgencyKey, Context, EvaluatorKey, Format, Plant
from api.latest import LatestReading, current_state, latest_readings
from api.schemas import (
    FacilityOut,
    OperatingStateOut,
    PlantDetail,
    PlantList,
    PlantSummary,
    SensorCatalogue,
    SensorSpecOut,
    SensorStatus,
    to_time,
)
from api.tabular import csv_responses, table_response
from wastewatch.plant import PlantConfig, SensorSpec

router = APIRouter(prefix="/plants", tags=["plants"])
DAY_MS = 86_400_000
SILENT_AFTER_PERIODS = 3


def _summary(plant: PlantConfig) -> PlantSummary:
    return PlantSummary(id=plant.id, name=plant.name, timezone=plant.timezone, capacity_kg_h=plant.capacity_kg_h, location=plant.location)


@router.get("", response_model=PlantList, responses=csv_responses(PlantList))
def list_plants(ctx: Context, key: EvaluatorKey, request: Request, format: Format = None) -> Response:
    rows = [_summary(p) for p in sorted(ctx.catalog, key=lambda p: p.id) if key.may_read(p.id)]
    return table_response(request, format, PlantList(plants=rows), rows, PlantSummary, "plants")


@router.get("/{plant_id}", response_model=PlantDetail)
def get_plant(plant: Plant, key: EvaluatorKey) -> PlantDetail:
    return PlantDetail(
        **_summary(plant).model_dump(),
        devices=plant.devices,
        facilities=[FacilityOut(id=f.id, name=f.name, kind=f.kind) for f in plant.facilities],
        sensors=[_spec(s) for s in plant.sensors],
        compliance_profiles=plant.compliance_profiles,
    )


def _spec(s: SensorSpec) -> SensorSpecOut:
    return SensorSpecOut(id=s.id, quantity=s.quantity, unit=s.unit, min=s.min, max=s.max, period_s=s.period_s,
                         cems=s.cems, description=s.description)


@router.get("/{plant_id}/state", response_model=OperatingStateOut)
def get_state(ctx: Context, plant: Plant, key: AgencyKey) -> OperatingStateOut:
    return _state(ctx, plant)


def _state(ctx: Context, plant: PlantConfig) -> OperatingStateOut:
    state = current_state(ctx.store, plant.id, ctx.now_ms())
    if state is None:
        return OperatingStateOut(plant=plant.id, state=None, since=None, reason=None)
    return OperatingStateOut(plant=plant.id, state=state.state.value, since=to_time(state.since_ms, plant.zone), reason=state.reason)


@router.get("/{plant_id}/sensors", response_model=SensorCatalogue, responses=csv_responses(SensorCatalogue))
def list_sensors(ctx: Context, plant: Plant, key: AgencyKey, request: Request, format: Format = None) -> Response:
    """The sensor catalogue with each sensor's newest value, its status and when it was last seen."""
    now_ms = ctx.now_ms()
    latest = latest_readings(ctx.store, plant.id, now_ms - DAY_MS, now_ms)
    if len(latest) < len(plant.sensors):  # some silent for a day: look back a month for them
        older = latest_readings(ctx.store, plant.id, now_ms - 31 * DAY_MS, now_ms - DAY_MS)
        latest = {**older, **latest}
    rows = [_status(s, latest.get(s.id), plant, now_ms) for s in plant.sensors]
    document = SensorCatalogue(plant=plant.id, operating_state=_state(ctx, plant), sensors=rows)
    return table_response(request, format, document, rows, SensorStatus, f"{plant.id}-sensors")


def _status(spec: SensorSpec, reading: LatestReading | None, plant: PlantConfig, now_ms: int) -> SensorStatus:
    if reading is None:
        return SensorStatus(id=spec.id, quantity=spec.quantity, unit=spec.unit, period_s=spec.period_s,
                            value=None, status=None, last_seen=None, reporting="never")
    silent = now_ms - reading.time_ms > SILENT_AFTER_PERIODS * spec.period_s * 1000
    return SensorStatus(
        id=spec.id, quantity=spec.quantity, unit=spec.unit, period_s=spec.period_s, value=reading.value,
        status=reading.status, last_seen=to_time(reading.time_ms, plant.zone), reporting="silent" if silent else "reporting",
    )
