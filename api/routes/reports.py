"""Plant reports for a month, quarter or year, built and rendered by `api.reports` (evaluator)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response

from api.deps import Context, EvaluatorKey, Plant
from api.reports.cems_quarter import build_cems_quarter
from api.reports.cems_quarter_render import MEDIA as CEMS_MEDIA
from api.reports.cems_quarter_render import render_cems_quarter
from api.reports.render import render_report
from api.reports.report import build_report
from api.reports.style import REPORT_CSP
from api.summaries import PeriodError, parse_period
from api.timerange import calendar_period

router = APIRouter(prefix="/plants/{plant_id}/reports", tags=["reports"])
ReportFormat = Literal["json", "csv", "html", "pdf"]
REPORT_MEDIA: dict[str, dict[str, object]] = {"application/json": {}, "text/csv": {}, "text/html": {}, "application/pdf": {}}


@router.get("/{period}", responses={200: {"content": REPORT_MEDIA, "description": "the report in the asked format"}})
def get_report(
    ctx: Context,
    plant: Plant,
    key: EvaluatorKey,
    period: Annotated[str, Path(max_length=12, description="2026-11, 2026-Q4 or 2026 on the plant's calendar")],
    format: Annotated[ReportFormat, Query()] = "json",
    lang: Annotated[Literal["id", "en"], Query(description="Bahasa Indonesia or English")] = "id",
) -> Response:
    calendar_period(period, plant.zone)  # the API's bounds on every period: a RangeError (422) outside 1970-2199
    try:
        chosen = parse_period(period, plant.zone)
    except (PeriodError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    report = build_report(ctx.store, plant, chosen, alert_db=ctx.alert_db, now_ms=ctx.now_ms())
    body, media_type = render_report(report, format, lang)
    filename = f"{plant.id}-{chosen.label}.{format}"
    headers = {"Content-Disposition": f'inline; filename="{filename}"'}
    if format == "html":
        headers["Content-Security-Policy"] = REPORT_CSP  # its stylesheet by hash, its charts as data: images
    return Response(body, media_type=media_type, headers=headers)


CemsFormat = Literal["xlsx", "pdf"]


@router.get("/{period}/cems", responses={200: {"content": {"application/pdf": {}, CEMS_MEDIA["xlsx"]: {}},
                                               "description": "the quarterly CEMS report (laporan triwulan), Bahasa Indonesia"}})
def get_cems_report(
    ctx: Context,
    plant: Plant,
    key: EvaluatorKey,
    period: Annotated[str, Path(max_length=12, description="a quarter on the plant's calendar: 2026-Q4")],
    format: Annotated[CemsFormat, Query(description="xlsx (the workbook) or pdf")] = "xlsx",
) -> Response:
    """Hourly and daily averages with their status codes, data availability per parameter, valid days
    against the 75 % rule and exceedances, as the agency files them each quarter."""
    calendar_period(period, plant.zone)
    try:
        chosen = parse_period(period, plant.zone)
    except (PeriodError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    quarter = build_cems_quarter(ctx.store, plant, chosen, now_ms=ctx.now_ms())
    body, media_type = render_cems_quarter(quarter, format)
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{plant.id}-{chosen.label}-cems.{format}"'})
