"""The public transparency page of a plant, `/public/plants/{plant}`: no login, off unless the plant
is listed in WASTEWATCH_API_PUBLIC_PLANTS (else the same 404 as an unknown plant).

What it shows, every figure from the same functions (and summary cache entries) as the JSON API:
the operating state now; today's validated daily averages and this month's (so far) against their daily
limits, marked compliant or not, unconfirmed limits flagged; the quarter's data availability against
the 75 % rule; tonnes treated and plant availability this month so far (from its first local midnight to now). Nothing internal: no user names, no
device hosts, no alert text. Read-only (GET only, no form, no cookie), reused for
WASTEWATCH_API_PUBLIC_CACHE_S in process and sent with `Cache-Control: public, max-age=` as long;
its policy's `frame-ancestors` is WASTEWATCH_API_PUBLIC_FRAME_ANCESTORS, so a regency's site may
embed it (the console's pages keep `'none'`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import get_context
from api.console.pages import STYLE, TEXTS, lang_of, page, render
from api.console.summary import period_compliance, period_tonnage, period_uptime
from api.context import ApiContext
from api.headers import csp_hash
from api.latest import current_state
from api.reports.messages import Language, number, percent, pollutant, unit
from api.summaries.counts import DAY_RULES
from api.summaries.periods import Period, month_period, period_of, quarter_period
from api.summaries.profiles import plant_profiles
from api.summary_cache import SummaryCache
from wastewatch.compliance.profiles import RULE_SHARE
from wastewatch.compliance.results import EMISSION_DAY, DayRecord
from wastewatch.compliance.windows import local_day
from wastewatch.ledger.table import latest_root
from wastewatch.plant import PlantConfig
from wastewatch.relational import DatabaseError

router = APIRouter(prefix="/public", include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Periods:
    today: Period
    month: Period
    quarter: Period


def periods_now(plant: PlantConfig, now_ms: int) -> Periods:
    """Today, this month and this quarter on the plant's calendar."""
    today = local_day(now_ms, plant.zone)
    return Periods(period_of("range", today.isoformat(), today, today + timedelta(days=1), plant.zone),
                   month_period(today.year, today.month, plant.zone), quarter_period(today.year, (today.month - 1) // 3 + 1, plant.zone))


def _today_averages(ctx: ApiContext, plant: PlantConfig, today: Period) -> dict[tuple[str, str], DayRecord]:
    """Today's stored daily averages per (profile, pollutant), as `GET …/averages?averaging=day&period=<today>` reads them."""
    points = ctx.store.select(EMISSION_DAY, where={"plant": plant.id}, start_ms=today.start_ms, end_ms=today.end_ms)
    return {(d.profile, d.pollutant): d for d in (DayRecord.from_point(p, plant.zone) for p in points)}


def public_view(ctx: ApiContext, plant: PlantConfig, lang: Language) -> dict[str, Any]:
    now_ms = ctx.now_ms()
    span = periods_now(plant, now_ms)
    state = current_state(ctx.store, plant.id, now_ms)
    today = _today_averages(ctx, plant, span.today)
    # this month so far: the hours still to come are neither operating nor available
    start, to = span.month.start_ms, max(span.month.start_ms + 1, min(now_ms, span.month.end_ms))
    month = period_compliance(ctx, plant, start, to)
    monthly = {(p.profile, p.pollutant, lim.rule): lim for p in month.pollutants for lim in p.limits}
    rows: list[dict[str, Any]] = []
    for profile in plant_profiles(plant):
        for lim in profile.limits:
            if lim.rule not in DAY_RULES:
                continue
            record = today.get((profile.id, lim.pollutant))
            value = record.value if record is not None and record.valid else None
            counted = monthly.get((profile.id, lim.pollutant, lim.rule))
            share = counted.share_within if counted is not None else None
            rows.append({
                "profile": profile.id, "pollutant": pollutant(lim.pollutant, lang), "rule": lim.rule,
                "limit": number(lim.value, 1, lang) + "\u00a0" + unit(lim.unit), "limit_value": lim.value, "confirmed": lim.confirmed,
                "today": None if value is None else number(value, 1, lang) + "\u00a0" + unit(lim.unit), "today_value": value,
                "today_ok": None if value is None else value <= lim.value,
                "days": counted.valid_averages if counted is not None else 0,
                "over": counted.exceedances if counted is not None else 0,
                "month_ok": None if share is None else share >= RULE_SHARE[lim.rule],
                "key": f"{profile.id}-{lim.pollutant}-{lim.rule}",
            })
    quarter = period_uptime(ctx, plant, span.quarter.start_ms, span.quarter.end_ms)
    availability = [{"pollutant": pollutant(p.pollutant, lang), "key": p.pollutant, "valid_days": q.valid_days,
                     "operating_days": q.operating_days, "share": percent(q.share, lang), "min": percent(q.min_share, lang, 0),
                     "ok": q.ok} for p in quarter.data_availability for q in p.quarters if q.quarter == span.quarter.label]
    t = period_tonnage(ctx, plant, start, to, "day")
    u = period_uptime(ctx, plant, start, to)
    return {
        "plant": plant, "state": state.state.value if state is not None else None, "since_ms": state.since_ms if state else None,
        "now_ms": now_ms, "today": span.today.label, "month": span.month.label, "quarter": span.quarter.label, "rows": rows,
        "availability": availability, "tonnes": number(float(t.tonnes), 3, lang), "tonnes_value": float(t.tonnes),
        "plant_availability": percent(u.plant_availability, lang), "availability_value": u.plant_availability,
        "operating_h": number(u.operating_h, 1, lang), "operating_value": u.operating_h,
        "unconfirmed": any(not r["confirmed"] for r in rows),
        "sealed": _sealed(ctx, plant),
    }


def _sealed(ctx: ApiContext, plant: PlantConfig) -> dict[str, str] | None:
    """The last day sealed into the tamper-evident ledger and its chain hash (none before the first seal)."""
    try:
        latest = latest_root(ctx.alert_db, plant.id)
    except DatabaseError:  # no ledger table yet: nothing sealed
        return None
    return None if latest is None else {"day": latest[0].isoformat(), "chain": latest[2]}


def public_csp(frame_ancestors: str) -> str:
    return (f"default-src 'none'; style-src {csp_hash(STYLE)}; form-action 'none'; base-uri 'none'; "
            f"frame-ancestors {frame_ancestors}")


def _cache(request: Request, ttl_s: float) -> SummaryCache:
    cache = getattr(request.app.state, "public_pages", None)
    if not isinstance(cache, SummaryCache):
        cache = request.app.state.public_pages = SummaryCache(ttl_s)
    return cache


@router.get("/plants/{plant_id}")
async def public_plant(request: Request, plant_id: str, lang: str | None = None) -> Response:
    language = lang_of(lang)
    ctx = get_context(request)
    plant = ctx.catalog.get(plant_id) if plant_id in ctx.api.public_plants else None
    if plant is None:
        return page("message.html.j2", language, 404, title=TEXTS[language]["pub"]["title"], user=None,
                    message=TEXTS[language]["pub"]["not_public"])
    ttl = ctx.api.public_cache_s

    def build() -> str:
        view = public_view(ctx, plant, language)  # type: ignore[arg-type]
        return render("public_plant.html.j2", language, title=f"{plant.name} · {TEXTS[language]['pub']['title']}", user=None, v=view)

    html = await run_in_threadpool(_cache(request, ttl).get_or_compute, ("public", plant.id, language), build, ctx.clock())
    return HTMLResponse(html, headers={
        "Content-Security-Policy": public_csp(ctx.api.public_frame_ancestors),
        "Cache-Control": f"public, max-age={int(ttl)}" if ttl > 0 else "no-cache",
        "Cross-Origin-Resource-Policy": "cross-origin",
    })
