"""The printable layout shared by HTML and PDF: sections of key figures, tables and paragraphs, in one
language, from the report data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from api.reports.data import JsonDict
from api.reports.legend import legend
from api.reports.messages import (
    AVERAGES,
    MONTHS,
    NBSP,
    Language,
    averaging,
    day_span,
    number,
    percent,
    pollutant,
    profile_title,
    text,
    unit,
    when,
)
from wastewatch.compliance.profiles import UNCONFIRMED

MAX_GAPS = 8
"""Empty stretches listed by name; more are counted."""


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Section:
    title: str
    figures: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    chart: str | None = None
    """Name of the chart drawn after the figures (`tonnage`, `facility`)."""
    legend: list[str] = field(default_factory=list)
    """Status codes explained after the tables."""


def heading(data: JsonDict, lang: Language) -> tuple[str, str]:
    kind = text(data["period"]["kind"], lang)
    title = f"{text('title', lang)} ({kind}): {data['plant']['name']}"
    generated = when(datetime.fromisoformat(data["generated_at"]), lang, year=True)
    sub = f"{text('period', lang)} {period_span(data, lang)} · {text('generated', lang)} {generated}"
    return title, sub


def period_span(data: JsonDict, lang: Language) -> str:
    first = datetime.fromisoformat(data["period"]["start"]).date()
    last = datetime.fromisoformat(data["period"]["end"]).date() - timedelta(days=1)
    return day_span(first, max(first, last), lang)


def sections(data: JsonDict, lang: Language) -> list[Section]:
    return [_coverage(data, lang), _tonnage(data, lang), _availability(data, lang), _compliance(data, lang),
            *_loads(data, lang), _alerts(data, lang), _smart(data, lang)]


def tonnes(value: float, lang: Language) -> str:
    return number(value, 3, lang) + " t"


def hours(value: float | None, lang: Language, digits: int = 1) -> str:
    return "–" if value is None else f"{number(value, digits, lang)}{NBSP}{text('h', lang)}"


def _moment(iso_text: str, lang: Language, *, end: bool = False) -> str:
    return when(datetime.fromisoformat(iso_text), lang, end=end)


def _coverage(data: JsonDict, lang: Language) -> Section:
    s = Section(text("coverage", lang))
    stretches, gaps, span = data["coverage"]["stretches"], data["coverage"]["gaps"], period_span(data, lang)
    if not stretches:
        s.paragraphs.append(text("coverage_none", lang).format(period=span))
        s.paragraphs += _sealed(data, lang)
        return s
    s.paragraphs.append(text("coverage_some", lang).format(
        first=_moment(stretches[0][0], lang), last=_moment(stretches[-1][1], lang, end=True), period=span))
    made = data["generated_at"]
    if datetime.fromisoformat(made) < datetime.fromisoformat(data["period"]["end"]):
        # the period runs on after the report was made: its rest is not a gap in the data
        gaps = [[b, min(e, made, key=datetime.fromisoformat)] for b, e in gaps if datetime.fromisoformat(b) < datetime.fromisoformat(made)]
        s.paragraphs.append(text("coverage_open", lang).format(made=_moment(made, lang)))
    if gaps:
        named = [f"{_moment(b, lang)} – {_moment(e, lang, end=True)} ({hours(_span_h(b, e), lang, 0)})" for b, e in gaps[:MAX_GAPS]]
        if len(gaps) > MAX_GAPS:
            named.append(text("coverage_more", lang).format(n=len(gaps) - MAX_GAPS))
        s.paragraphs.append(text("coverage_gaps", lang).format(gaps="; ".join(named)))
    s.paragraphs += _sealed(data, lang)
    simulated = data["coverage"]["simulated"]
    if simulated:
        spans = "; ".join(f"{_moment(b, lang)} – {_moment(e, lang, end=True)}" for b, e in simulated)
        s.paragraphs.append(text("coverage_simulated", lang).format(spans=spans))
    return s


def _sealed(data: JsonDict, lang: Language) -> list[str]:
    """The period's last chain hash of the tamper-evident ledger, when any of its days is sealed."""
    sealed = data["ledger"]["roots"]
    if not sealed:
        return []
    return [text("ledger_sealed", lang).format(days=len(sealed), day=sealed[-1]["day"], chain=sealed[-1]["chain"])]


def _span_h(begin: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(begin)).total_seconds() / 3600


def _tonnage(data: JsonDict, lang: Language) -> Section:
    t = data["tonnage"]
    s = Section(text("tonnage", lang), chart="tonnage")
    s.figures = [(text("total_tonnes", lang), tonnes(t["total_t"], lang)), (text("batches", lang), str(t["batches"])),
                 (text("facilities_served", lang), f"{t['facilities_served_count']} / {data['plant']['facilities_configured']}")]
    s.tables.append(Table([text("facility", lang), text("tonnes", lang), text("batches", lang)],
                          [[f["name"], tonnes(f["tonnes"], lang), str(f["batches"])] for f in t["by_facility"]]))
    s.tables.append(Table([text("waste_code", lang), text("tonnes", lang), text("batches", lang)],
                          [[w["code"], tonnes(w["tonnes"], lang), str(w["batches"])] for w in t["by_waste_code"]]))
    return s


def _availability(data: JsonDict, lang: Language) -> Section:
    u = data["uptime"]
    s = Section(text("availability", lang))
    s.figures = [(text("plant_availability", lang), percent(u["plant_availability"], lang)),
                 (text("operating_hours", lang), hours(u["operating_h"], lang)),
                 (text("data_availability", lang), percent(u["data_availability"], lang))]
    s.tables.append(Table(
        [text("pollutant", lang), text("valid_hours", lang), text("data_availability", lang), text("valid_days", lang),
         text("eu_discarded", lang)],
        [[pollutant(p["pollutant"], lang), hours(p["valid_hours"], lang, 0), percent(p["share"], lang),
          f"{p['valid_days']} / {p['operating_days']}{NBSP}{text('days_unit', lang)}",
          f"{p['eu_discarded_half_hours']} / {p['eu_discarded_days']}"] for p in u["pollutants"]],
    ))
    s.paragraphs += _validity(u, lang)
    incidents = [i for i in u["downtime"] if i["cause"] != "scheduled"]
    if incidents:
        s.tables.append(Table([text("downtime", lang), text("hours", lang), text("cause", lang)],
                              [[_moment(i["start"], lang), hours(i["hours"], lang), _cause(i, lang)] for i in incidents]))
    scheduled = len(u["downtime"]) - len(incidents)
    s.paragraphs.append(f"{text('downtime', lang)}: {len(u['downtime'])} ({text('scheduled', lang)}: {scheduled})")
    return s


def _validity(u: JsonDict, lang: Language) -> list[str]:
    """The daily validity rule (from the plant's data-availability profile), and why a pollutant with
    its hours available has no valid day: its operating days are shorter than the rule's hours."""
    rule_h = u["min_valid_hours_per_day"]
    if rule_h is None or not u["pollutants"]:
        return []
    found = [text("validity_rule", lang).format(hours=rule_h)]
    short: dict[tuple[str, str], list[str]] = {}  # pollutants with the same hours a day and share, named together
    for p in u["pollutants"]:
        if p["operating_days"] and p["valid_days"] == 0 and p["valid_hours"]:
            key = (number(p["valid_hours"] / p["operating_days"], 1, lang), percent(p["share"], lang))
            short.setdefault(key, []).append(pollutant(p["pollutant"], lang))
    for (per_day, share), names in short.items():
        found.append(text("validity_short_days", lang).format(pollutant=", ".join(names), per_day=per_day, hours=rule_h,
                                                              share=share))
    return found


def _cause(incident: JsonDict, lang: Language) -> str:
    cause = str(incident["cause"])
    if cause.startswith("alert:"):
        # an alert's title is written in the rule file's language: only the English report quotes it
        return text("alert_ref", lang).format(id=incident["alert_id"], title=incident["alert_title"] or cause[6:])
    return text(cause, lang) if cause in ("scheduled", "unknown") else cause


def _compliance(data: JsonDict, lang: Language) -> Section:
    c = data["compliance"]
    s = Section(text("compliance", lang))
    s.figures = [(text("exceedances", lang), str(c["exceedances"])),
                 (text("abnormal_hours", lang), hours(c["abnormal_h"], lang))]
    for p in c["profiles"]:
        flag = f" [{text('unconfirmed', lang)}]" if p["unconfirmed"] else ""
        name = f"{text('profile', lang)}: {profile_title(p['id'], p['title'], lang)}{flag}"
        s.paragraphs.append(name)
        if p["unconfirmed_limits"]:
            s.paragraphs.append(f"{text('unconfirmed_limits', lang)}: {', '.join(_limit_name(n, lang) for n in p['unconfirmed_limits'])}")
        rows = [[pollutant(x_p["pollutant"], lang), x["rule"], averaging(x["period"], lang), _limit(x, lang),
                 str(x["valid_averages"]), str(x["exceedances"])]
                for x_p in c["pollutants"] if x_p["profile"] == p["id"] for x in x_p["limits"]]
        s.tables.append(Table([text("pollutant", lang), text("rule", lang), text("averaging", lang), text("limit", lang),
                               text("valid_averages", lang), text("exceedances", lang)], rows, name))
    s.legend = legend(lang)
    return s


def _limit(x: JsonDict, lang: Language) -> str:
    mark = "" if x["confirmed"] else f" ({text('unconfirmed_short', lang)})"
    return f"≤{NBSP}{number(x['value'], 1, lang)}{NBSP}{unit(x['unit'])}{mark}"


def _limit_name(name: str, lang: Language) -> str:
    """`co 10min CO95` (api.summaries.compliance) written `CO 10 min (CO95)`."""
    parts = name.split(" ")
    if len(parts) != 3:
        return name
    return f"{pollutant(parts[0], lang)} {averaging(parts[1], lang)} ({parts[2]})"


def _loads(data: JsonDict, lang: Language) -> list[Section]:
    """Emission loads per pollutant over the period (and per month in a quarter or year), each with its
    hours covered; the basis and its status above the table (no section for a report without loads)."""
    loads = data.get("loads")
    if loads is None:
        return []
    s = Section(text("loads", lang))
    if not loads["bases"]:
        s.paragraphs.append(text("loads_none", lang))
        return [s]
    annual = data["period"]["kind"] == "year"
    for basis in loads["bases"]:
        avg = AVERAGES[basis["period"]][lang][0] if basis["period"] in AVERAGES else averaging(basis["period"], lang)
        s.paragraphs.append(text("loads_basis", lang).format(avg=re.sub(r"(\d) ", "\\1" + NBSP, avg)))  # 30 menit, bound
        flow = text("loads_flow_basis", lang).format(basis=text(f"loads_{basis['flow_basis']}", lang))
        if basis["flow_basis_status"] in UNCONFIRMED:
            flow += f" ({text('unconfirmed_short', lang)})."
            if basis["flow_basis"] == "dry":
                flow += " " + text("loads_flow_dry_unconfirmed", lang)
        else:
            flow += "."
        s.paragraphs.append(flow)
        mark = f", {text('unconfirmed_short', lang)}" if basis["status"] in UNCONFIRMED else ""
        s.paragraphs.append(f"{text('loads_method', lang)}: {text('loads_method_text', lang)} [{basis['status']}]{mark}.")
        rows = [[pollutant(t["pollutant"], lang), _load_mass(t["kg"], annual, lang), _load_rate(t["kg_h"], lang),
                 f"{number(t['covered_h'], 1, lang)} / {hours(t['operating_h'], lang)} ({percent(t['coverage'], lang)})",
                 _load_mass(t["estimate_kg"], annual, lang)]
                for t in loads["totals"] if t["profile"] == basis["profile"]]
        s.tables.append(Table([text("pollutant", lang), text("loads_mass", lang), text("loads_rate", lang), text("loads_hours", lang),
                               text("loads_estimate", lang)], rows, profile_title(basis["profile"], basis["title"], lang)))
        months = [t for t in loads["months"] if t["profile"] == basis["profile"]]
        keys = list(dict.fromkeys(t["key"] for t in months))
        if len(keys) > 1:
            names = list(dict.fromkeys(t["pollutant"] for t in months))
            cell = {(t["key"], t["pollutant"]): t for t in months}
            s.tables.append(Table(
                [text("loads_month", lang), *(pollutant(n, lang) for n in names)],
                [[_month(key, lang), *(f"{_load_mass(cell[(key, n)]['kg'], False, lang)} ({hours(cell[(key, n)]['covered_h'], lang)})"
                                      for n in names)] for key in keys],
                text("loads_by_month", lang),
            ))
    s.paragraphs.append(text("loads_coverage", lang))
    return [s]


def _load_mass(kg: float | None, annual: bool, lang: Language) -> str:
    if kg is None:
        return "–"
    return f"{number(kg / 1000, 3, lang)}{NBSP}{text('t_year', lang)}" if annual else f"{number(kg, 2, lang)}{NBSP}kg"


def _load_rate(kg_h: float | None, lang: Language) -> str:
    return "–" if kg_h is None else f"{number(kg_h, 3, lang)}{NBSP}{text('kg_h', lang)}"


def _month(key: str, lang: Language) -> str:
    year, month = key.split("-")
    return f"{MONTHS[lang][int(month) - 1]} {year}"


def _alerts(data: JsonDict, lang: Language) -> Section:
    a = data["alerts"]
    s = Section(text("alerts", lang))
    if a is None:
        s.paragraphs.append(text("no_alert_db", lang))
        return s
    s.figures = [(text("alerts_count", lang), str(a["count"])),
                 (text("acknowledged", lang), f"{a['acknowledged']} / {a['count']}"),
                 (text("median_ack", lang), _minutes(a["median_ack_s"], lang)),
                 (text("max_ack", lang), _minutes(a["max_ack_s"], lang))]
    if data["compliance"]["exceedances"] and not a["count"]:
        s.paragraphs.append(text("backfill_note", lang))
    return s


def _minutes(seconds: float | None, lang: Language) -> str:
    return "–" if seconds is None else f"{number(seconds / 60, 1, lang)}{NBSP}{text('min', lang)}"


def _smart(data: JsonDict, lang: Language) -> Section:
    u, t = data["uptime"], data["tonnage"]
    s = Section(text("smart", lang))
    s.paragraphs.append(text("smart_text", lang).format(
        tonnes=number(t["total_t"], 3, lang), served=t["facilities_served_count"],
        availability=percent(u["plant_availability"], lang), data=percent(u["data_availability"], lang),
        exceedances=data["compliance"]["exceedances"],
    ))
    s.paragraphs.append(text("smart_note", lang))
    return s
