"""Compliance per pollutant and period: valid averages, exceedances per limit, discarded half-hours and
days, abnormal-operation hours used of the yearly allowance (evaluator, via api.summaries)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from api.deps import Context, EvaluatorKey, Format, PeriodRange, Plant
from api.schemas import to_time
from api.summaries import ComplianceSummary, compliance_summary
from api.summary_schemas import ComplianceOut, ComplianceRow, LimitOut, PollutantComplianceOut, ProfileOut
from api.tabular import csv_responses, table_response

router = APIRouter(prefix="/plants/{plant_id}", tags=["compliance"])


@router.get("/compliance", response_model=ComplianceOut, responses=csv_responses(ComplianceOut))
def get_compliance(ctx: Context, plant: Plant, span: PeriodRange, key: EvaluatorKey, request: Request, format: Format = None) -> Response:
    """CSV rows: one per limit of each pollutant."""
    document = compliance_out(ctx.summaries.get_or_compute(
        ("compliance", plant.id, span.start_ms, span.end_ms),
        lambda: compliance_summary(ctx.store, plant, span.start_ms, span.end_ms), ctx.clock(),
    ), plant.zone)
    rows = [
        ComplianceRow(profile=p.profile, pollutant=p.pollutant, rule=lim.rule, period=lim.period, limit_value=lim.limit_value,
                      unit=lim.unit, confirmed=lim.confirmed, valid_averages=lim.valid_averages, exceedances=lim.exceedances,
                      discarded_averages=p.discarded_averages.get(lim.period, 0), valid_days=p.valid_days,
                      discarded_days=p.discarded_days)
        for p in document.pollutants for lim in p.limits
    ]
    return table_response(request, format, document, rows, ComplianceRow, f"{plant.id}-compliance")


def compliance_out(c: ComplianceSummary, zone: ZoneInfo) -> ComplianceOut:
    return ComplianceOut(
        plant=c.plant, start=to_time(c.start_ms, zone), end=to_time(c.end_ms, zone), exceedances=c.exceedances,
        abnormal_h=c.abnormal_h, abnormal_max_year_h=c.abnormal_max_year_h,
        profiles=[ProfileOut(id=p.id, title=p.title, status=p.status, unconfirmed=p.unconfirmed,
                             unconfirmed_limits=list(p.unconfirmed_limits)) for p in c.profiles],
        pollutants=[
            PollutantComplianceOut(
                profile=p.profile, pollutant=p.pollutant, valid_averages=p.valid_averages, discarded_averages=p.discarded_averages,
                valid_days=p.valid_days, discarded_days=p.discarded_days, exceedances=p.exceedances,
                limits=[LimitOut(rule=lim.rule, period=lim.period, limit_value=lim.limit_value, unit=lim.unit, status=lim.status,
                                 confirmed=lim.confirmed, valid_averages=lim.valid_averages, exceedances=lim.exceedances,
                                 share_within=lim.share_within) for lim in p.limits],
            )
            for p in c.pollutants
        ],
    )
