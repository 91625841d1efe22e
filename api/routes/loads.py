"""Emission loads (mass emissions) per hour, local day, month or year, with their coverage (evaluator,
via api.summaries.loads)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.deps import Context, EvaluatorKey, Format, PeriodRange, Plant
from api.errors import TooManyPoints
from api.schemas import to_time
from api.summaries.loads import CONCENTRATION_BASIS, FLOW_BASIS, EmissionLoads, bucket_count, emission_loads, load_series
from api.summary_schemas import LoadBasisOut, LoadRow, LoadsOut
from api.tabular import csv_responses, table_response
from wastewatch.compliance.loads import Bucket, LoadTotal
from wastewatch.topics import ID_PATTERN

router = APIRouter(prefix="/plants/{plant_id}", tags=["emissions"])
ProfileId = Annotated[str | None, Query(pattern=ID_PATTERN, description="regulatory profile, e.g. eu-ied-annex-vi")]
PollutantId = Annotated[str | None, Query(pattern=ID_PATTERN, description="pollutant (CEMS channel), e.g. dust")]


@router.get("/emissions/loads", response_model=LoadsOut, responses=csv_responses(LoadsOut))
def get_loads(
    ctx: Context, plant: Plant, span: PeriodRange, key: EvaluatorKey, request: Request,
    by: Annotated[Bucket, Query(description="hour, day, month or year on the plant's calendar")] = "day",
    profile: ProfileId = None,
    pollutant: PollutantId = None,
    format: Format = None,
) -> Response:
    """Measured kg per pollutant (kg/h while covered, t), hours covered of the operating hours and of the
    hours in each period; `estimate_kg` is an estimate and says so. CSV rows: the loads."""
    series = load_series(plant)
    if profile is not None and profile not in {s.profile.id for s in series}:
        known = sorted({s.profile.id for s in series})
        raise HTTPException(404, f"plant {plant.id!r} has no loads of profile {profile!r}; loads: {', '.join(known) or 'none'}")
    if pollutant is not None and pollutant not in {s.pollutant for s in series}:
        known = sorted({s.pollutant for s in series})
        raise HTTPException(404, f"plant {plant.id!r} has no load of {pollutant!r}; loads: {', '.join(known) or 'none'}")
    rows = bucket_count(plant, by, span.start_ms, span.end_ms) * len(load_series(plant, profile, pollutant))
    cap = ctx.api.max_points
    if rows > cap:
        raise TooManyPoints(f"{rows} loads in this range is more than {cap}: ask by a longer period, name a pollutant, or narrow the range")
    result = ctx.summaries.get_or_compute(
        ("loads", plant.id, span.start_ms, span.end_ms, by, profile, pollutant),
        lambda: emission_loads(ctx.store, plant, span.start_ms, span.end_ms, by, profile=profile, pollutant=pollutant), ctx.clock(),
    )
    document = loads_out(result, plant.zone)
    return table_response(request, format, document, document.loads, LoadRow, f"{plant.id}-loads-{by}")


def _row(t: LoadTotal, zone: ZoneInfo) -> LoadRow:
    return LoadRow(
        profile=t.profile, pollutant=t.pollutant, key=t.key, start=to_time(t.start_ms, zone), end=to_time(t.end_ms, zone),
        kg=t.kg, tonnes=t.tonnes, kg_h=t.kg_h, covered_h=t.covered_h, operating_h=t.operating_h, period_h=t.period_h,
        coverage=t.coverage, operating_coverage=t.operating_coverage, estimate_kg=t.estimate_kg,
    )


def loads_out(result: EmissionLoads, zone: ZoneInfo) -> LoadsOut:
    return LoadsOut(
        plant=result.plant, start=to_time(result.start_ms, zone), end=to_time(result.end_ms, zone), by=result.by,
        bases=[LoadBasisOut(profile=b.profile, title=b.title, period=b.period, concentration=CONCENTRATION_BASIS,
                            flow=f"{FLOW_BASIS}; the meter reports {b.flow_basis} [{b.flow_basis_status}]",
                            flow_basis=b.flow_basis, flow_basis_status=b.flow_basis_status, flow_basis_source=b.flow_basis_source,
                            source=b.source, status=b.status, unconfirmed=b.unconfirmed) for b in result.bases],
        totals=[_row(t, zone) for t in result.totals], loads=[_row(t, zone) for t in result.loads],
    )
