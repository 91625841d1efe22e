"""Validated averages from the compliance engine (`emission_avg`, `emission_day`) with quality codes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.deps import AgencyKey, Context, Format, Plant, RecentRange
from api.errors import TooManyPoints
from api.schemas import AverageRow, Averages, to_time
from api.tabular import csv_responses, table_response
from wastewatch.compliance.results import EMISSION_AVG, EMISSION_DAY, AverageRecord, DayRecord
from wastewatch.topics import ID_PATTERN

router = APIRouter(prefix="/plants/{plant_id}", tags=["averages"])
Averaging = Literal["10min", "30min", "1h", "day"]
ProfileId = Annotated[str | None, Query(pattern=ID_PATTERN, description="regulatory profile, e.g. eu-ied-annex-vi")]
PollutantId = Annotated[str | None, Query(pattern=ID_PATTERN, description="pollutant (CEMS channel), e.g. co")]


@router.get("/averages", response_model=Averages, responses=csv_responses(Averages))
def get_averages(
    ctx: Context,
    plant: Plant,
    span: RecentRange,
    key: AgencyKey,
    request: Request,
    averaging: Annotated[Averaging, Query(description="the averaging period: 10min, 30min, 1h or day")] = "30min",
    profile: ProfileId = None,
    pollutant: PollutantId = None,
    format: Format = None,
) -> Response:
    """Stored averages with their window start in [start, end); `value` only where the quality carries one."""
    if profile is not None and profile not in plant.compliance_profiles:
        raise HTTPException(404, f"plant {plant.id!r} applies no profile {profile!r}; it applies {', '.join(plant.compliance_profiles)}")
    cap = ctx.api.max_points
    where = {"plant": plant.id, **({"profile": profile} if profile else {}), **({"pollutant": pollutant} if pollutant else {})}
    measurement = EMISSION_DAY if averaging == "day" else EMISSION_AVG
    if averaging != "day":
        where["period"] = averaging
    points = ctx.store.select(measurement, where=where, start_ms=span.start_ms, end_ms=span.end_ms, limit=cap + 1)
    if len(points) > cap:
        raise TooManyPoints(f"more than {cap} averages in this range: name a pollutant or profile, or narrow the range")
    rows: list[AverageRow] = []
    for p in points:
        if averaging == "day":
            d = DayRecord.from_point(p, plant.zone)
            v4 = p.fields.get("v4")
            rows.append(AverageRow(time=to_time(d.start_ms, plant.zone), profile=d.profile, pollutant=d.pollutant, period="day",
                                   quality=d.quality.value, value=d.value, raw_value=None, n_valid=d.n_valid,
                                   n_discarded=d.n_discarded, v4=str(v4) if v4 is not None else None))
        else:
            a = AverageRecord.from_point(p)
            rows.append(AverageRow(time=to_time(a.start_ms, plant.zone), profile=a.profile, pollutant=a.pollutant, period=a.period,
                                   quality=a.quality.value, value=a.value, raw_value=a.raw_value, n_valid=a.n_valid))
    document = Averages(plant=plant.id, averaging=averaging, start=to_time(span.start_ms, plant.zone),
                        end=to_time(span.end_ms, plant.zone), averages=rows)
    return table_response(request, format, document, rows, AverageRow, f"{plant.id}-averages-{averaging}")
