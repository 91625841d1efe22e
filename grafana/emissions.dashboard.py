"""Emissions and compliance: validated short and daily averages of every pollutant against the limits
of the plant's compliance profiles, quality codes, discarded half-hours today and the abnormal-operation
hours used this year, and the emission loads (kg/h, kg per day, hours covered). Only windows with
quality `valid` carry a value worth plotting."""

from grafana.limits import PlantLimits, SeriesLimits
from grafana.panels import PLANT, row, stat, steps, table, target, targets, timeseries
from grafana.panels import dashboard as make_dashboard

limits = PlantLimits.default()
QUALITY_CODES = ("valid", "abnormal_operation", "maintenance", "malfunction", "insufficient_data", "startup_shutdown", "no_waste")
DISCARDED = ("maintenance", "malfunction", "insufficient_data")
UNITS = {"mg/Nm3": "conmgm3", "ng TEQ/Nm3": "none"}
COLOURS = ("red", "orange", "yellow")


def limit_steps(series: SeriesLimits) -> list[dict[str, object]]:
    ordered = sorted(series.limits, key=lambda lim: lim.value)
    pairs: list[tuple[float | None, str]] = [(None, "green")]
    pairs += [(lim.value, COLOURS[len(ordered) - 1 - i] if len(ordered) - 1 - i < len(COLOURS) else "red") for i, lim in enumerate(ordered)]
    return steps(*pairs)


def describe(series: SeriesLimits) -> str:
    text = "; ".join(f"{lim.rule} {lim.value:g} {lim.unit} [{lim.status}] ({lim.source})" for lim in series.limits)
    return f"{series.profile.title}. Limits: {text}. Only windows with quality = valid are drawn."


def short_panel(series: SeriesLimits) -> object:
    query = (
        f"SELECT mean(\"value\") FROM \"emission_avg\" WHERE {PLANT} AND \"profile\" = '{series.profile.id}' "
        f"AND \"pollutant\" = '{series.pollutant}' AND \"period\" = '{series.period}' AND \"quality\" = 'valid' "
        f"AND $timeFilter GROUP BY time({series.period.replace('min', 'm')}) fill(none)"
    )
    return timeseries(f"{series.pollutant.upper()} {series.period} averages — {series.profile.id}",
                      targets((f"{series.pollutant} {series.period}", query)), UNITS.get(series.unit, "none"),
                      limit_steps(series), w=8, h=7, description=describe(series))


def daily_panel(series: SeriesLimits) -> object:
    query = (
        f"SELECT last(\"value\") FROM \"emission_day\" WHERE {PLANT} AND \"profile\" = '{series.profile.id}' "
        f"AND \"pollutant\" = '{series.pollutant}' AND \"quality\" = 'valid' AND $timeFilter "
        f"GROUP BY time(1d, {limits.utc_offset()}) fill(none)"
    )
    return timeseries(f"{series.pollutant.upper()} daily averages — {series.profile.id}",
                      targets((f"{series.pollutant} day", query)), UNITS.get(series.unit, "none"),
                      limit_steps(series), w=8, h=7, bars=True, description=describe(series))


def quality_count(code: str) -> str:
    return (
        f"SELECT count(\"n_valid\") FROM \"emission_avg\" WHERE {PLANT} AND \"period\" = '30min' "
        f"AND \"quality\" = '{code}' AND $timeFilter GROUP BY \"pollutant\""
    )


DISCARDED_TODAY = (
    f"SELECT count(\"n_valid\") FROM \"emission_avg\" WHERE {PLANT} AND \"period\" = '30min' AND ("
    + " OR ".join(f"\"quality\" = '{code}'" for code in DISCARDED)
    + ") AND $timeFilter GROUP BY \"pollutant\", \"profile\""
)
# The abnormal-operation clock's own record (one point per event, at its start; a void event has
# duration 0), the same durations the compliance summary and the report count against the 60 h cap.
ABNORMAL_HOURS = (
    f"SELECT sum(\"duration_ms\") / 3600000 FROM \"abnormal_event\" WHERE {PLANT} AND $timeFilter "
    "GROUP BY \"profile\""
)
DAYS = (
    f"SELECT \"quality\", \"value\", \"n_valid\", \"n_discarded\" FROM \"emission_day\" WHERE {PLANT} AND $timeFilter "
    "GROUP BY \"profile\", \"pollutant\""
)

# Emission loads (mass emissions, wastewatch/compliance/loads.py): the jobs' emission_load (per valid
# day-basis window: kg, kg_h, state) and emission_load_day (per local day: kg, hours covered and operating).
LOAD_BASES = [p for p in limits.profiles if p.loads is not None]
LOAD_RATE = (
    f"SELECT mean(\"kg_h\") FROM \"emission_load\" WHERE {PLANT} AND \"state\" = 'counted' AND $timeFilter "
    "GROUP BY time(30m), \"pollutant\", \"profile\" fill(none)"
)
LOAD_DAYS = (
    f"SELECT sum(\"kg\") FROM \"emission_load_day\" WHERE {PLANT} AND $timeFilter "
    f"GROUP BY time(1d, {limits.utc_offset()}), \"pollutant\", \"profile\" fill(none)"
)
LOAD_TOTALS = (
    f"SELECT sum(\"kg\") AS \"kg\", sum(\"covered_ms\") / 3600000 AS \"covered_h\", "
    f"sum(\"operating_ms\") / 3600000 AS \"operating_h\" FROM \"emission_load_day\" WHERE {PLANT} AND $timeFilter "
    "GROUP BY \"pollutant\", \"profile\""
)


def load_basis() -> str:
    """The basis of the loads and the status of each assumption, from the profiles that compute them."""
    found = []
    for p in LOAD_BASES:
        assert p.loads is not None
        found.append(f"{p.id}: dry concentration at measured O2 (before the O2 correction, no CI) x dry normalised flow; "
                     f"flow meter basis {p.loads.flow_basis} [{p.loads.flow_basis_status}] ({p.loads.flow_basis_source}); "
                     f"method [{p.loads.status}]")
    return "; ".join(found) + ". Only valid windows count: a gap adds nothing and is not extrapolated."


v4 = limits.max_discarded_half_hours()
abnormal = limits.abnormal_year_cap_h()
warn_h, cap_h = abnormal if abnormal else (48.0, 60.0)

panels: list[object] = [
    row("Data quality"),
    stat("Discarded half-hours today", [target(DISCARDED_TODAY, alias="$tag_pollutant $tag_profile")], "short",
         steps((None, "green"), (v4 - 1, "orange"), (v4 + 1, "red")), w=12, h=6, time_from="now/d", reduce="sum",
         description=f"Maintenance, malfunction or too little data; more than {v4} in a day invalidates the day (V4)"),
    stat("Abnormal-operation hours this year", [target(ABNORMAL_HOURS, alias="$tag_profile")], "h",
         steps((None, "green"), (warn_h, "orange"), (cap_h, "red")), w=12, h=6, time_from="now/y", reduce="sum",
         description=f"Hours of abnormal-operation events started this year (as measured, a running one so far); the cap is {cap_h:g} h per year (IED Art. 46(6))"),
    timeseries("Half-hour quality codes", [target(quality_count(code), chr(ord("A") + i), f"{code} $tag_pollutant")
                                           for i, code in enumerate(QUALITY_CODES)],
               "short", steps((None, "green")), w=12, h=8, bars=True, line_thresholds=False,
               description="Count of half-hour windows per quality code in the range"),
    table("Daily averages and validity", [target(DAYS, fmt="table")], "conmgm3",
          steps((None, "green")), w=12, h=8, description="emission_day: one row per profile, pollutant and local day"),
]
if LOAD_BASES:
    panels += [
        row("Emission loads (mass emissions)"),
        timeseries("Mass flow per pollutant (kg/h, valid half-hours)", [target(LOAD_RATE, alias="$tag_pollutant $tag_profile")],
                   "suffix: kg/h", steps((None, "green")), w=8, h=8, line_thresholds=False,
                   description="kg/h = mg/Nm³ × Nm³/h × 1e-6 per valid window. " + load_basis()),
        timeseries("Emission load per local day (kg)", [target(LOAD_DAYS, alias="$tag_pollutant $tag_profile")], "masskg",
                   steps((None, "green")), w=8, h=8, bars=True, line_thresholds=False,
                   description="Sum of the day's valid windows; the hours covered are in the table beside. " + load_basis()),
        table("Emission loads in the range (kg, hours covered of operating hours)", [target(LOAD_TOTALS, fmt="table")], "masskg",
              steps((None, "green")), w=8, h=8,
              description="kg measured, covered_h (operating time of the windows that count) and operating_h per pollutant "
                          "over the local days in the range. " + load_basis()),
    ]
for profile_id in dict.fromkeys(s.profile.id for s in limits.short_series()):
    title = next(s.profile.title for s in limits.short_series() if s.profile.id == profile_id)
    panels.append(row(title))
    panels += [short_panel(s) for s in limits.short_series() if s.profile.id == profile_id]
    panels += [daily_panel(s) for s in limits.daily_series() if s.profile.id == profile_id]

dashboard = make_dashboard(
    "wastewatch — Emissions and compliance", "ww-emissions", panels, refresh="1m", time_from="now-2d",
    tags=["compliance"], description=__doc__ or "",
)
