"""The report as plain data: what JSON carries, and what CSV, HTML and PDF lay out (same numbers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.reports.report import PlantReport
from api.summaries.loads import EmissionLoads
from wastewatch.compliance.loads import LoadTotal

JsonDict = dict[str, Any]


def iso(time_ms: int, report: PlantReport) -> str:
    return datetime.fromtimestamp(time_ms / 1000, tz=report.plant.zone).isoformat()


def report_data(report: PlantReport) -> JsonDict:
    """Every figure of the report; masses in grams (exact) and tonnes (grams ÷ 10⁶)."""
    t, u, c, a = report.tonnage, report.uptime, report.compliance, report.alerts
    return {
        "plant": {"id": report.plant.id, "name": report.plant.name, "timezone": report.plant.timezone,
                  "capacity_kg_h": report.plant.capacity_kg_h, "facilities_configured": len(report.plant.facilities)},
        "period": {"kind": report.period.kind, "label": report.period.label, "start": iso(report.period.start_ms, report),
                   "end": iso(report.period.end_ms, report)},
        "generated_at": iso(report.generated_at_ms, report),
        "coverage": {"stretches": [[iso(b, report), iso(e, report)] for b, e in report.coverage.stretches],
                     "gaps": [[iso(b, report), iso(e, report)] for b, e in report.coverage.gaps()],
                     "simulated": [[iso(b, report), iso(e, report)] for b, e in report.coverage.simulated]},
        "ledger": {"days": len(report.sealed), "roots": [{"day": d.isoformat(), "root": root, "chain": chain} for d, root, chain in report.sealed]},
        "tonnage": {
            "total_g": t.mass_g, "total_t": float(t.tonnes), "batches": t.batches, "grouping": t.by,
            "facilities_served": list(t.facilities_served), "facilities_served_count": t.facilities_served_count,
            "buckets": [{"key": b.key, "mass_g": b.mass_g, "tonnes": float(b.tonnes), "batches": b.batches} for b in t.buckets],
            "by_facility": [{"id": s.key, "name": s.name, "mass_g": s.mass_g, "tonnes": float(s.tonnes), "batches": s.batches}
                            for s in t.by_facility],
            "by_waste_code": [{"code": s.key, "mass_g": s.mass_g, "tonnes": float(s.tonnes), "batches": s.batches}
                              for s in t.by_waste_code],
        },
        "uptime": {
            "period_h": u.period_h, "operating_h": u.operating_h, "available_h": u.available_h,
            "plant_availability": u.plant_availability, "data_availability": u.data_availability_share,
            "state_h": u.state_h, "min_valid_hours_per_day": report.min_valid_hours_per_day,
            "pollutants": [
                {"pollutant": p.pollutant, "valid_hours": p.valid_hours, "discarded_hours": p.discarded_hours,
                 "share": p.share, "valid_days": p.valid_days, "operating_days": p.operating_days,
                 "eu_discarded_half_hours": p.eu_discarded_half_hours, "eu_discarded_days": p.eu_discarded_days,
                 "eu_max_discarded_days": p.eu_max_discarded_days, "v5_ok": p.v5_ok,
                 "quarters": [{"quarter": q.quarter, "valid_days": q.valid_days, "operating_days": q.operating_days,
                               "share": q.share, "min_share": q.min_share, "ok": q.ok} for q in p.quarters]}
                for p in u.data_availability
            ],
            "downtime": [{"start": iso(i.start_ms, report), "end": iso(i.end_ms, report), "hours": i.hours, "state": i.state,
                          "cause": i.cause, "alert_id": i.alert_id, "alert_title": i.alert_title} for i in u.downtime],
        },
        "compliance": {
            "profiles": [{"id": p.id, "title": p.title, "status": p.status, "unconfirmed": p.unconfirmed,
                          "unconfirmed_limits": list(p.unconfirmed_limits)} for p in c.profiles],
            "exceedances": c.exceedances, "abnormal_h": c.abnormal_h, "abnormal_max_year_h": c.abnormal_max_year_h,
            "pollutants": [
                {"profile": p.profile, "pollutant": p.pollutant, "valid_averages": p.valid_averages,
                 "discarded_averages": p.discarded_averages, "valid_days": p.valid_days, "discarded_days": p.discarded_days,
                 "exceedances": p.exceedances,
                 "limits": [{"rule": x.rule, "period": x.period, "value": x.limit_value, "unit": x.unit, "status": x.status,
                             "confirmed": x.confirmed, "valid_averages": x.valid_averages, "exceedances": x.exceedances}
                            for x in p.limits]}
                for p in c.pollutants
            ],
        },
        "loads": None if report.loads is None else loads_data(report.loads, report),
        "alerts": None if a is None else {
            "count": len(a.alerts), "acknowledged": a.acknowledged, "unacknowledged": a.unacknowledged,
            "median_ack_s": a.median_ack_s, "max_ack_s": a.max_ack_s,
            "items": [{"id": i.alert_id, "rule": i.rule_id, "severity": i.severity, "category": i.category, "title": i.title,
                       "raised": iso(i.raised_at_ms, report), "ack_after_s": i.ack_after_s, "ack_by": i.ack_by}
                      for i in a.alerts],
        },
    }


def loads_data(loads: EmissionLoads, report: PlantReport) -> JsonDict:
    """Emission loads: per pollutant over the period (`totals`) and per month, kg measured (nothing
    extrapolated), kg/h while covered, hours covered, operating and in the period; `estimate_kg` is an estimate."""

    def row(t: LoadTotal) -> JsonDict:
        return {"profile": t.profile, "pollutant": t.pollutant, "key": t.key, "start": iso(t.start_ms, report),
                "end": iso(t.end_ms, report), "kg": t.kg, "tonnes": t.tonnes, "kg_h": t.kg_h, "covered_h": t.covered_h,
                "operating_h": t.operating_h, "period_h": t.period_h, "coverage": t.coverage,
                "operating_coverage": t.operating_coverage, "estimate_kg": t.estimate_kg}

    return {
        "bases": [{"profile": b.profile, "title": b.title, "period": b.period, "flow_basis": b.flow_basis,
                   "flow_basis_status": b.flow_basis_status, "flow_basis_source": b.flow_basis_source, "source": b.source,
                   "status": b.status, "unconfirmed": b.unconfirmed} for b in loads.bases],
        "totals": [row(t) for t in loads.totals],
        "months": [row(t) for t in loads.loads],
    }


def csv_rows(data: JsonDict) -> list[tuple[str, str, str, str]]:
    """(section, item, metric, value) rows: one figure per row, easy to filter in a spreadsheet."""
    rows: list[tuple[str, str, str, str]] = [
        ("report", data["plant"]["id"], "period", data["period"]["label"]),
        ("report", data["plant"]["id"], "generated_at", data["generated_at"]),
    ]
    t = data["tonnage"]
    rows += [("tonnage", "total", "mass_g", str(t["total_g"])), ("tonnage", "total", "tonnes", f"{t['total_t']:.6f}"),
             ("tonnage", "total", "batches", str(t["batches"])),
             ("tonnage", "total", "facilities_served", str(t["facilities_served_count"]))]
    rows += [(f"tonnage_{t['grouping']}", b["key"], "mass_g", str(b["mass_g"])) for b in t["buckets"]]
    rows += [("tonnage_facility", f["id"], "mass_g", str(f["mass_g"])) for f in t["by_facility"]]
    rows += [("tonnage_waste_code", w["code"], "mass_g", str(w["mass_g"])) for w in t["by_waste_code"]]
    u = data["uptime"]
    for key in ("period_h", "operating_h", "available_h", "plant_availability", "data_availability"):
        rows.append(("uptime", "plant", key, _plain(u[key])))
    for p in u["pollutants"]:
        for key in ("valid_hours", "discarded_hours", "share", "valid_days", "operating_days",
                    "eu_discarded_half_hours", "eu_discarded_days"):
            rows.append(("data_availability", p["pollutant"], key, _plain(p[key])))
    rows += [("downtime", i["start"], i["cause"], _plain(i["hours"])) for i in u["downtime"]]
    c = data["compliance"]
    rows.append(("compliance", "plant", "exceedances", str(c["exceedances"])))
    rows.append(("compliance", "plant", "abnormal_h", _plain(c["abnormal_h"])))
    for p in c["profiles"]:
        rows.append(("profile", p["id"], "unconfirmed_limits", "; ".join(p["unconfirmed_limits"])))
    for p in c["pollutants"]:
        for x in p["limits"]:
            item = f"{p['profile']}/{p['pollutant']}/{x['period']}/{x['rule']}"
            rows.append(("compliance", item, "valid_averages", str(x["valid_averages"])))
            rows.append(("compliance", item, "exceedances", str(x["exceedances"])))
    for row in (data.get("loads") or {}).get("totals", []):
        item = f"{row['profile']}/{row['pollutant']}"
        for key in ("kg", "kg_h", "covered_h", "operating_h", "period_h", "coverage", "estimate_kg"):
            rows.append(("emission_load", item, key, _plain(row[key])))
    if data["alerts"] is not None:
        for key in ("count", "acknowledged", "unacknowledged", "median_ack_s", "max_ack_s"):
            rows.append(("alerts", "plant", key, _plain(data["alerts"][key])))
    return rows


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.0f}"
    return str(value)
