"""The evaluators' pages (every role reads them): a period's summaries per plant, with charts, and the
plant report's downloads through the console session.

`/console/summary` lists the plants the user reads for one month, quarter or year (`?period=2026-11`,
`2026-Q4`, `2026`; default: this month on each plant's clock); `/console/summary/{plant}` shows that
plant's tonnage (by bucket, facility and waste code), uptime, data availability against the
Indonesian 18-hour day and 75 % quarter rules, and compliance per limit, from the same summary
functions and cache entries as the JSON API; `/console/summary/{plant}/report` serves the report
(`build_report`, `render_report`) as PDF, HTML or CSV in Bahasa Indonesia or English. A period that
cannot be read is a 422 page saying why; a plant the user does not read is the same 404 as one that
does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.auth import get_context
from api.console import charts
from api.console.access import signed_in
from api.console.pages import TEXTS, lang_of, page
from api.context import ApiContext
from api.reports.messages import Language, number, percent, pollutant, unit
from api.reports.render import render_report
from api.reports.report import build_report
from api.reports.style import REPORT_CSP
from api.summaries import (
    ComplianceSummary,
    Grouping,
    Period,
    PeriodError,
    Tonnage,
    Uptime,
    compliance_summary,
    parse_period,
    tonnage,
    uptime,
)
from api.summaries.periods import month_period
from api.timerange import RangeError, calendar_period
from api.users import Session
from sispek.outbox import SispekOutbox
from wastewatch.compliance.profiles import RULE_SHARE
from wastewatch.compliance.windows import local_day
from wastewatch.plant import PlantConfig
from wastewatch.points import AggregateFn, AggregateRow, FieldCondition, Point, SeriesColumn, Store
from wastewatch.relational import DatabaseError

router = APIRouter(prefix="/console", include_in_schema=False)
MAX_PERIOD = 12
FORMATS = ("pdf", "html", "csv")


def chosen_period(text: str | None, plant: PlantConfig, now_ms: int) -> Period:
    """The period asked for on the plant's calendar (this month when none); PeriodError or RangeError when unreadable."""
    if not text or not text.strip():
        today = local_day(now_ms, plant.zone)
        return month_period(today.year, today.month, plant.zone)
    if len(text) > MAX_PERIOD:
        raise PeriodError(f"period {text[:MAX_PERIOD]!r}… is too long")
    calendar_period(text, plant.zone)  # the API's bounds: 1970-2199
    return parse_period(text, plant.zone)


def quick_periods(zone: ZoneInfo, now_ms: int) -> list[str]:
    """This month, last month, this quarter, last quarter and this year on the plant's calendar: the period form's shortcuts."""
    today = local_day(now_ms, zone)
    last_month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    quarter = (today.month - 1) // 3 + 1
    last_quarter = (today.year - 1, 4) if quarter == 1 else (today.year, quarter - 1)
    return [f"{today.year:04d}-{today.month:02d}", f"{last_month[0]:04d}-{last_month[1]:02d}", f"{today.year:04d}-Q{quarter}",
            f"{last_quarter[0]:04d}-Q{last_quarter[1]}", f"{today.year:04d}"]


def grouping_of(period: Period) -> Grouping:
    """The report's buckets: days of a month, weeks of a quarter, months of a year."""
    return "day" if period.kind == "month" else "week" if period.kind == "quarter" else "month"


def period_tonnage(ctx: ApiContext, plant: PlantConfig, start_ms: int, end_ms: int, by: Grouping) -> Tonnage:
    """As `GET /plants/{plant}/tonnage` computes it, from the same cache entry."""
    return ctx.summaries.get_or_compute(("tonnage", plant.id, start_ms, end_ms, by),
                                        lambda: tonnage(ctx.store, plant, start_ms, end_ms, by=by), ctx.clock())


def period_uptime(ctx: ApiContext, plant: PlantConfig, start_ms: int, end_ms: int) -> Uptime:
    """As `GET /plants/{plant}/uptime` computes it, from the same cache entry."""
    return ctx.summaries.get_or_compute(("uptime", plant.id, start_ms, end_ms),
                                        lambda: uptime(ctx.store, plant, start_ms, end_ms, alert_db=ctx.alert_db), ctx.clock())


def period_compliance(ctx: ApiContext, plant: PlantConfig, start_ms: int, end_ms: int) -> ComplianceSummary:
    """As `GET /plants/{plant}/compliance` computes it, from the same cache entry."""
    return ctx.summaries.get_or_compute(("compliance", plant.id, start_ms, end_ms),
                                        lambda: compliance_summary(ctx.store, plant, start_ms, end_ms), ctx.clock())


@dataclass(frozen=True, slots=True)
class Sections:
    """A period's three summaries, each as the JSON API computes it (and from the same cache entry)."""

    tonnage: Tonnage
    uptime: Uptime
    compliance: ComplianceSummary


class ReadOnce:
    """The store as one page's summaries read it: a `select` asked again with the same arguments is
    answered from the first answer (uptime's data availability and compliance both read the stored
    day and month counts and the stored days of the same range). Lives for one page; the other calls
    pass through, and the store stays open (it is not this object's)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._selected: dict[tuple[object, ...], list[Point]] = {}

    def ping(self) -> bool:
        return self._store.ping()

    def ensure_database(self) -> None:
        self._store.ensure_database()

    def write(self, points: Sequence[Point]) -> None:
        self._store.write(points)

    def select(self, measurement: str, *, where: Mapping[str, str] | None = None, start_ms: int | None = None,
               end_ms: int | None = None, limit: int | None = None) -> list[Point]:
        key = (measurement, tuple(sorted((where or {}).items())), start_ms, end_ms, limit)
        found = self._selected.get(key)
        if found is None:
            found = self._selected[key] = self._store.select(measurement, where=where, start_ms=start_ms, end_ms=end_ms, limit=limit)
        return list(found)

    def select_column(self, measurement: str, field_name: str, *, where: Mapping[str, str] | None = None,
                      any_of: tuple[str, Sequence[str]] | None = None, start_ms: int | None = None,
                      end_ms: int | None = None) -> list[SeriesColumn]:
        return self._store.select_column(measurement, field_name, where=where, any_of=any_of, start_ms=start_ms, end_ms=end_ms)

    def aggregate(self, measurement: str, field_name: str, fn: AggregateFn, *, where: Mapping[str, str] | None = None,
                  start_ms: int | None = None, end_ms: int | None = None, every_s: int | None = None,
                  group_by: Sequence[str] = (), offset_s: int = 0, field_where: Sequence[FieldCondition] = ()) -> list[AggregateRow]:
        return self._store.aggregate(measurement, field_name, fn, where=where, start_ms=start_ms, end_ms=end_ms, every_s=every_s,
                                     group_by=group_by, offset_s=offset_s, field_where=field_where)

    def latest(self, measurement: str, field_name: str, *, where: Mapping[str, str] | None = None, start_ms: int | None = None,
               end_ms: int | None = None, group_by: Sequence[str] = ()) -> list[Point]:
        return self._store.latest(measurement, field_name, where=where, start_ms=start_ms, end_ms=end_ms, group_by=group_by)

    def close(self) -> None:
        pass


def period_sections(ctx: ApiContext, plant: PlantConfig, period: Period) -> Sections:
    """The three summaries, one after the other (computed side by side in threads they were no faster in
    bench.console_pages: the store client's Python work holds the GIL), each from its cache entry or
    computed through one `ReadOnce` store, so a query two of them need is sent once."""
    page = replace(ctx, store=ReadOnce(ctx.store))
    return Sections(period_tonnage(page, plant, period.start_ms, period.end_ms, grouping_of(period)),
                    period_uptime(page, plant, period.start_ms, period.end_ms),
                    period_compliance(page, plant, period.start_ms, period.end_ms))


def _readable(ctx: ApiContext, session: Session) -> list[PlantConfig]:
    return [p for p in sorted(ctx.catalog, key=lambda p: p.id) if session.user.may_read(p.id)]


def _headline(plant: PlantConfig, sections: Sections, lang: Language) -> dict[str, Any]:
    t, u, c = sections.tonnage, sections.uptime, sections.compliance
    return {"plant": plant, "tonnes": number(float(t.tonnes), 3, lang), "batches": t.batches,
            "availability": percent(u.plant_availability, lang), "data": percent(u.data_availability_share, lang),
            "exceedances": c.exceedances}


def _bad_period(lang: str, session: Session, text: str | None) -> Response:
    return page("message.html.j2", lang, 422, title=TEXTS[lang]["sum"]["title"], user=session.user,
                message=TEXTS[lang]["sum"]["bad_period"].format(period=(text or "")[:MAX_PERIOD]))


@router.get("/summary")
async def summary_index(request: Request, period: str | None = None, lang: str | None = None) -> Response:
    language = lang_of(lang)
    session = await signed_in(request, language)
    if isinstance(session, Response):
        return session
    ctx = get_context(request)
    plants = _readable(ctx, session)
    try:
        periods = [chosen_period(period, p, ctx.now_ms()) for p in plants]
    except (PeriodError, RangeError, ValueError):
        return _bad_period(language, session, period)
    found = [await run_in_threadpool(period_sections, ctx, p, chosen) for p, chosen in zip(plants, periods, strict=True)]
    rows = [_headline(p, sections, cast(Language, language)) for p, sections in zip(plants, found, strict=True)]
    label = periods[0].label if periods else (period or "")
    zone = plants[0].zone if plants else ZoneInfo("UTC")
    return page("summary_index.html.j2", language, title=TEXTS[language]["sum"]["title"], user=session.user, rows=rows,
                period=label, quick=quick_periods(zone, ctx.now_ms()), wide=True,
                sispek=await run_in_threadpool(_sispek_status, ctx))


def _sispek_status(ctx: ApiContext) -> dict[str, int] | None:
    """The SISPEK uploader's outbox (pending, sent, failed), or None where it has never run (no tables)."""
    try:
        return SispekOutbox(ctx.alert_db).counts()
    except DatabaseError:
        return None


def _plant_view(plant: PlantConfig, period: Period, sections: Sections, lang: Language) -> dict[str, Any]:
    """The page's figures, tables and charts, all from the three summaries already read."""
    s = TEXTS[lang]["sum"]
    t, u, c = sections.tonnage, sections.uptime, sections.compliance
    tonnage_chart = charts.column_chart([b.key for b in t.buckets], [float(b.tonnes) for b in t.buckets],
                                        s["chart_tonnage"].format(period=period.label), "t")
    facility_chart = charts.bar_chart([f.name for f in t.by_facility], [float(f.tonnes) for f in t.by_facility],
                                      s["chart_facility"], "t") if t.by_facility else None
    availability = [{
        "pollutant": pollutant(p.pollutant, lang), "valid_h": p.valid_hours, "discarded_h": p.discarded_hours,
        "share": percent(p.share, lang), "valid_days": p.valid_days, "operating_days": p.operating_days,
        "quarters": [{"quarter": q.quarter, "share": percent(q.share, lang), "min": percent(q.min_share, lang, 0), "ok": q.ok}
                     for q in p.quarters],
    } for p in u.data_availability]
    availability_chart = charts.bar_chart([pollutant(p.pollutant, lang) for p in u.data_availability],
                                          [100 * (p.share or 0.0) for p in u.data_availability], s["chart_data"], "%") \
        if availability else None
    limits = [{
        "profile": p.profile, "pollutant": pollutant(p.pollutant, lang), "rule": lim.rule, "period": lim.period,
        "limit": number(lim.limit_value, 1, lang) + "\u00a0" + unit(lim.unit), "confirmed": lim.confirmed,
        "valid": lim.valid_averages, "exceedances": lim.exceedances, "within": percent(lim.share_within, lang),
        "ok": lim.share_within is None or lim.share_within >= RULE_SHARE.get(lim.rule, 1.0),  # type: ignore[call-overload]
        "judged": lim.share_within is not None,
    } for p in c.pollutants for lim in p.limits]
    return {
        "plant": plant, "period": period, "tonnes": number(float(t.tonnes), 3, lang), "batches": t.batches,
        "facilities": len(t.facilities_served),
        "buckets": [{"key": b.key, "tonnes": number(float(b.tonnes), 3, lang), "batches": b.batches} for b in t.buckets],
        "by_facility": [{"name": f.name, "tonnes": number(float(f.tonnes), 3, lang), "batches": f.batches} for f in t.by_facility],
        "by_code": [{"name": f.name, "tonnes": number(float(f.tonnes), 3, lang), "batches": f.batches} for f in t.by_waste_code],
        "tonnage_chart": tonnage_chart, "facility_chart": facility_chart, "availability_chart": availability_chart,
        "period_h": number(u.period_h, 1, lang), "operating_h": number(u.operating_h, 1, lang),
        "plant_availability": percent(u.plant_availability, lang), "data_share": percent(u.data_availability_share, lang),
        "downtime": len(u.downtime), "availability": availability, "limits": limits, "exceedances": c.exceedances,
        "unconfirmed": [name for prof in c.profiles for name in prof.unconfirmed_limits],
        "abnormal_h": number(c.abnormal_h, 2, lang),
        "abnormal_max": number(c.abnormal_max_year_h, 0, lang) if c.abnormal_max_year_h is not None else None,
    }


def _plant_or_none(ctx: ApiContext, session: Session, plant_id: str) -> PlantConfig | None:
    plant = ctx.catalog.get(plant_id) if len(plant_id) <= 64 else None
    return plant if plant is not None and session.user.may_read(plant.id) else None


def _no_plant(lang: str, session: Session, plant_id: str) -> Response:
    return page("message.html.j2", lang, 404, title=TEXTS[lang]["sum"]["title"], user=session.user,
                message=TEXTS[lang]["sum"]["no_plant"].format(plant=plant_id[:64]))


@router.get("/summary/{plant_id}")
async def plant_summary(request: Request, plant_id: str, period: str | None = None, lang: str | None = None) -> Response:
    language = lang_of(lang)
    session = await signed_in(request, language)
    if isinstance(session, Response):
        return session
    ctx = get_context(request)
    plant = _plant_or_none(ctx, session, plant_id)
    if plant is None:
        return _no_plant(language, session, plant_id)
    try:
        chosen = chosen_period(period, plant, ctx.now_ms())
    except (PeriodError, RangeError, ValueError):
        return _bad_period(language, session, period)
    view = _plant_view(plant, chosen, await run_in_threadpool(period_sections, ctx, plant, chosen), cast(Language, language))
    return page("summary.html.j2", language, title=f"{plant.name} · {chosen.label}", user=session.user, v=view,
                formats=FORMATS, quick=quick_periods(plant.zone, ctx.now_ms()), wide=True)


@router.get("/summary/{plant_id}/report")
async def report_download(request: Request, plant_id: str, period: str | None = None, format: str | None = None,
                          lang: str | None = None) -> Response:
    """The plant report of the period, as `GET /api/v1/plants/{plant}/reports/{period}` gives it, through the session."""
    language = lang_of(lang)
    session = await signed_in(request, language)
    if isinstance(session, Response):
        return session
    ctx = get_context(request)
    plant = _plant_or_none(ctx, session, plant_id)
    if plant is None:
        return _no_plant(language, session, plant_id)
    if format not in FORMATS:
        return page("message.html.j2", language, 422, title=TEXTS[language]["sum"]["title"], user=session.user,
                    message=TEXTS[language]["sum"]["bad_format"].format(formats=", ".join(FORMATS)))
    try:
        chosen = chosen_period(period, plant, ctx.now_ms())
    except (PeriodError, RangeError, ValueError):
        return _bad_period(language, session, period)
    report = await run_in_threadpool(build_report, ctx.store, plant, chosen, alert_db=ctx.alert_db, now_ms=ctx.now_ms())
    body, media_type = await run_in_threadpool(render_report, report, format, language)  # type: ignore[arg-type]
    headers = {"Content-Disposition": f'attachment; filename="{plant.id}-{chosen.label}-{language}.{format}"',
               "Cache-Control": "no-store"}
    if format == "html":
        headers["Content-Security-Policy"] = REPORT_CSP
    return Response(body, media_type=media_type, headers=headers)
