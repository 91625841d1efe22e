"""The printable layout shared by HTML and PDF: sections of key figures, tables and paragraphs, in one
language, from the report data."""

from __future__ import annotations

from dataclasses import dataclass, field

from api.reports.data import JsonDict
from api.reports.messages import Language, number, percent, text


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    title: str
    figures: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    chart: str | None = None
    """Name of the chart drawn after the figures (`tonnage`, `facility`)."""


def heading(data: JsonDict, lang: Language) -> tuple[str, str]:
    kind = text(data["period"]["kind"], lang)
    title = f"{text('title', lang)} ({kind}): {data['plant']['name']}"
    sub = f"{text('period', lang)} {data['period']['label']} · {text('generated', lang)} {data['generated_at'][:16]}"
    return title, sub


def sections(data: JsonDict, lang: Language) -> list[Section]:
    return [_tonnage(data, lang), _availability(data, lang), _compliance(data, lang), _alerts(data, lang), _smart(data, lang)]


def tonnes(value: float, lang: Language) -> str:
    return number(value, 3, lang) + " t"


def _tonnage(data: JsonDict, lang: Language) -> Section:
    t = data["tonnage"]
    s = Section(text("tonnage", lang), chart="tonnage")
    s.figures = [(text("total_tonnes", lang), tonnes(t["total_t"], lang)), (text("batches", lang), str(t["batches"])),
                 (text("facilities_served", lang), f"{t['facilities_served_count']} / {data['plant']['facilities_configured']}")]
    s.tables.append(Table([text("facility", lang), text("tonnes", lang), text("batches", lang)],
                          [[f["name"], number(f["tonnes"], 3, lang), str(f["batches"])] for f in t["by_facility"]]))
    s.tables.append(Table([text("waste_code", lang), text("tonnes", lang), text("batches", lang)],
                          [[w["code"], number(w["tonnes"], 3, lang), str(w["batches"])] for w in t["by_waste_code"]]))
    return s


def _availability(data: JsonDict, lang: Language) -> Section:
    u = data["uptime"]
    s = Section(text("availability", lang))
    s.figures = [(text("plant_availability", lang), percent(u["plant_availability"], lang)),
                 (text("operating_hours", lang), number(u["operating_h"], 1, lang)),
                 (text("data_availability", lang), percent(u["data_availability"], lang))]
    s.tables.append(Table(
        [text("pollutant", lang), text("valid_hours", lang), text("data_availability", lang), text("valid_days", lang),
         text("eu_discarded", lang)],
        [[p["pollutant"], str(p["valid_hours"]), percent(p["share"], lang), f"{p['valid_days']} / {p['operating_days']}",
          f"{p['eu_discarded_half_hours']} / {p['eu_discarded_days']}"] for p in u["pollutants"]],
    ))
    incidents = [i for i in u["downtime"] if i["cause"] != "scheduled"]
    if incidents:
        s.tables.append(Table([text("downtime", lang), text("hours", lang), text("cause", lang)],
                              [[i["start"][:16], number(i["hours"], 1, lang), _cause(i, lang)] for i in incidents]))
    scheduled = len(u["downtime"]) - len(incidents)
    s.paragraphs.append(f"{text('downtime', lang)}: {len(u['downtime'])} ({text('scheduled', lang)}: {scheduled})")
    return s


def _cause(incident: JsonDict, lang: Language) -> str:
    cause = str(incident["cause"])
    if cause.startswith("alert:"):
        return incident["alert_title"] or cause
    return text(cause, lang) if cause in ("scheduled", "unknown") else cause


def _compliance(data: JsonDict, lang: Language) -> Section:
    c = data["compliance"]
    s = Section(text("compliance", lang))
    for p in c["profiles"]:
        flag = f" [{text('unconfirmed', lang)}]" if p["unconfirmed"] else ""
        s.paragraphs.append(f"{text('profile', lang)}: {p['title']} ({p['id']}){flag}")
        if p["unconfirmed_limits"]:
            s.paragraphs.append(f"{text('unconfirmed_limits', lang)}: {', '.join(p['unconfirmed_limits'])}")
    s.figures = [(text("exceedances", lang), str(c["exceedances"])),
                 (text("abnormal_hours", lang), number(c["abnormal_h"], 1, lang))]
    rows = []
    for p in c["pollutants"]:
        for x in p["limits"]:
            mark = "" if x["confirmed"] else " (U)"
            rows.append([p["profile"], p["pollutant"], f"{x['period']} {x['rule']} ≤ {number(x['value'], 1, lang)}{mark}",
                         str(x["valid_averages"]), str(x["exceedances"])])
    s.tables.append(Table([text("profile", lang), text("pollutant", lang), text("limit", lang), text("valid_averages", lang),
                           text("exceedances", lang)], rows))
    return s


def _alerts(data: JsonDict, lang: Language) -> Section:
    a = data["alerts"]
    s = Section(text("alerts", lang))
    if a is None:
        s.paragraphs.append(text("no_alert_db", lang))
        return s
    s.figures = [(text("alerts_count", lang), str(a["count"])),
                 (text("acknowledged", lang), f"{a['acknowledged']} / {a['count']}"),
                 (text("median_ack", lang), number(_minutes(a["median_ack_s"]), 1, lang)),
                 (text("max_ack", lang), number(_minutes(a["max_ack_s"]), 1, lang))]
    return s


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


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
