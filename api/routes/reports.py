"""Plant reports for a month, quarter or year, built and rendered by `api.reports` (evaluator)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response

from api.deps import Context, EvaluatorKey, Plant
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
