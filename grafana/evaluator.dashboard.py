"""Evaluator summary (Smart City evaluators, the agency): availability, tonnage per day, month and
facility, exceedances of the limits and alerts, and alert acknowledgement times."""

from grafana.limits import PlantLimits
from grafana.panels import (
    PLANT,
    PLANT_STATES,
    row,
    stat,
    state_timeline,
    steps,
    table,
    target,
    targets,
    text,
    timeseries,
)
from grafana.panels import (
    dashboard as make_dashboard,
)

limits = PlantLimits.default()
DAY = f"1d, {limits.utc_offset()}"
CAPACITY_T_DAY = limits.plant.capacity_kg_h * 24 / 1000

DATA_AVAILABILITY = (
    f"SELECT sum(\"n_valid\") / sum(\"n_expected\") * 100 FROM \"emission_avg\" WHERE {PLANT} AND \"period\" = '30min' "
    "AND \"quality\" != 'no_waste' AND \"quality\" != 'startup_shutdown' AND $timeFilter GROUP BY \"pollutant\""
)
BURNING_SHARE = (
    f"SELECT count(\"n_valid\") FROM \"emission_avg\" WHERE {PLANT} AND \"period\" = '30min' AND \"pollutant\" = 'co' "
    "AND \"quality\" != 'no_waste' AND \"quality\" != 'startup_shutdown' AND $timeFilter GROUP BY time(" + DAY + ") fill(0)"
)
TONNAGE_DAY = f"SELECT sum(\"mass_kg\") / 1000 FROM \"batch\" WHERE {PLANT} AND $timeFilter GROUP BY time({DAY}) fill(0)"
TONNAGE_RANGE = f"SELECT sum(\"mass_kg\") / 1000 FROM \"batch\" WHERE {PLANT} AND $timeFilter"
TONNAGE_FACILITY = f"SELECT sum(\"mass_kg\") / 1000 FROM \"batch\" WHERE {PLANT} AND $timeFilter GROUP BY \"source\""
ALERTS_RAISED = (
    f"SELECT count(\"alert_id\") FROM \"alert_event\" WHERE {PLANT} AND \"kind\" = 'raised' AND $timeFilter "
    "GROUP BY \"severity\""
)
ALERTS_BY_RULE = (
    f"SELECT count(\"alert_id\") AS \"raised\" FROM \"alert_event\" WHERE {PLANT} AND \"kind\" = 'raised' AND $timeFilter "
    "GROUP BY \"rule\", \"severity\""
)
ACK_TIMES = (
    f"SELECT mean(\"ack_s\") AS \"mean\", max(\"ack_s\") AS \"max\" FROM \"alert_event\" WHERE {PLANT} "
    "AND \"kind\" = 'acknowledged' AND $timeFilter GROUP BY \"severity\""
)
ACK_NOTE = """\
**Acknowledgement times.** Each acknowledgement (`wastewatch alerts ack`, or the API) writes an
`alert_event` point with `kind=acknowledged`, a field `ack_s` (seconds from the alert's raise to its
acknowledgement) and `ack_by`. The panel beside this one shows their mean and maximum per severity
over the range; alerts never acknowledged are not counted (see `wastewatch alerts list`)."""


def exceedances() -> list[tuple[str, str]]:
    """Valid averages above their limit, one query per (profile, pollutant, period, limit)."""
    out = []
    for series in limits.short_series():
        for lim in series.limits:
            if lim.rule not in ("A100", "H100"):
                continue  # percentile rules (B97, CO95) are judged over a year or a day, not per window
            out.append((f"{series.pollutant} {series.period} > {lim.value:g} ({series.profile.id})", (
                f"SELECT count(\"value\") FROM \"emission_avg\" WHERE {PLANT} AND \"profile\" = '{series.profile.id}' "
                f"AND \"pollutant\" = '{series.pollutant}' AND \"period\" = '{series.period}' AND \"quality\" = 'valid' "
                f"AND \"value\" > {lim.value:g} AND $timeFilter"
            )))
    for series in limits.daily_series():
        lim = series.limits[0]
        out.append((f"{series.pollutant} day > {lim.value:g} ({series.profile.id})", (
            f"SELECT count(\"value\") FROM \"emission_day\" WHERE {PLANT} AND \"profile\" = '{series.profile.id}' "
            f"AND \"pollutant\" = '{series.pollutant}' AND \"quality\" = 'valid' AND \"value\" > {lim.value:g} AND $timeFilter"
        )))
    return out


panels = [
    row("Availability"),
    stat("CEMS data availability", [target(DATA_AVAILABILITY, alias="$tag_pollutant")], "percent",
         steps((None, "red"), (90, "orange"), (95, "green")), w=12, h=6, reduce="mean", decimals=1,
         description="Valid samples / expected samples in half-hours of effective operation (emission_avg)"),
    timeseries("Effective operating hours per day", targets(("hours", BURNING_SHARE.replace("count(\"n_valid\")", "count(\"n_valid\") / 2"))),
               "h", steps((None, "orange"), (8, "green")), w=12, h=6, bars=True,
               description="Half-hours the compliance engine counted as effective operation (waste burning), per local day"),
    state_timeline("Operating state", [target(f"SELECT \"state\" FROM \"plant_state\" WHERE {PLANT} AND $timeFilter", alias="state")],
                   "none", steps((None, "text")), PLANT_STATES, w=24, h=4),
    row("Tonnage"),
    timeseries("Tonnage per day", targets(("t/day", TONNAGE_DAY)), "masst",
               steps((None, "green"), (CAPACITY_T_DAY, "orange")), w=12, h=7, bars=True, decimals=2,
               description=f"Per local day; orange above the nameplate {CAPACITY_T_DAY:g} t/day"),
    stat("Tonnage this month", [target(TONNAGE_RANGE)], "masst", steps((None, "green"), (CAPACITY_T_DAY * 31, "orange")),
         w=6, h=7, time_from="now/M", decimals=2, reduce="sum"),
    stat("Tonnage in the range", [target(TONNAGE_RANGE)], "masst", steps((None, "green")), w=6, h=7, decimals=2, reduce="sum"),
    stat("Tonnage per facility", [target(TONNAGE_FACILITY, alias="$tag_source")], "masst", steps((None, "blue")),
         w=24, h=6, decimals=3, reduce="sum", description="batch.mass_kg by source (the facility that sent the waste)"),
    row("Exceedances and alerts"),
    stat("Limit exceedances (valid averages above a per-window or daily limit)",
         [target(q, f"Q{i + 1}", alias) for i, (alias, q) in enumerate(exceedances())],
         "short", steps((None, "green"), (1, "red")), w=24, h=8, reduce="sum"),
    stat("Alerts raised", [target(ALERTS_RAISED, alias="$tag_severity")], "short",
         steps((None, "green"), (1, "orange"), (10, "red")), w=8, h=6, reduce="sum"),
    table("Alerts raised by rule", [target(ALERTS_BY_RULE, fmt="table")], "short",
          steps((None, "green"), (1, "orange")), w=16, h=6),
    stat("Acknowledgement time", [target(ACK_TIMES, alias="$col $tag_severity")], "s",
         steps((None, "green"), (900, "orange"), (3600, "red")), w=8, h=6, reduce="mean",
         description="alert_event points with kind=acknowledged: ack_s, seconds from raise to acknowledgement"),
    text("Acknowledgement times", ACK_NOTE, w=16, h=6),
]

dashboard = make_dashboard(
    "wastewatch — Evaluator summary", "ww-evaluator", panels, refresh=None, time_from="now-30d",
    tags=["evaluator"], description=__doc__ or "",
)
