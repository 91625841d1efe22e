"""Operations (control room): chamber temperatures against their P.56 minimums, the plant's operating
state, burners, fan, draft, feed, O2 and CO live, open alerts, devices and the ingest's health.
Refreshes every 10 s; alert events and state changes are annotations on every time panel. Each alert
row links to its page in the wastewatch console, the board to the plant's console overview."""

from grafanalib.core import DashboardLink

from grafana.limits import PlantLimits
from grafana.panels import (
    ON_OFF,
    ONLINE,
    PLANT,
    PLANT_STATES,
    row,
    stat,
    state_timeline,
    steps,
    table,
    target,
    targets,
    timeseries,
)
from grafana.panels import (
    dashboard as make_dashboard,
)

limits = PlantLimits.default()
secondary = limits.chamber_minimum("t_secondary")
primary = limits.chamber_minimum("t_primary")


def reading(sensor: str, fn: str = "mean") -> str:
    return (
        f"SELECT {fn}(\"value\") FROM \"reading\" WHERE {PLANT} AND \"sensor\" = '{sensor}' AND \"status\" = 'valid' "
        "AND $timeFilter GROUP BY time($__interval) fill(null)"
    )


def latest(sensor: str) -> str:
    return f"SELECT last(\"value\") FROM \"reading\" WHERE {PLANT} AND \"sensor\" = '{sensor}' AND $timeFilter"


def chamber_steps(minimum: float) -> list[dict[str, object]]:
    return steps((None, "red"), (minimum, "green"))


# Where people open the console: the API behind deploy/proxy (its port 8443, on Grafana's host). A
# constant, not a dashboard variable: every variable's query runs against InfluxDB. Another address:
# change it here and run `wastewatch dashboards build`.
CONSOLE_URL = "https://localhost:8443"


def console_links(*columns: str) -> list[dict[str, object]]:
    """Field overrides: each of these alert-table columns links to the alert's console page."""
    link = {"title": "Open alert #${__data.fields.alert_id} in the console", "targetBlank": True,
            "url": CONSOLE_URL + "/console/alerts/${__data.fields.alert_id}"}
    return [{"matcher": {"id": "byName", "options": column}, "properties": [{"id": "links", "value": [link]}]}
            for column in columns]


OPEN_ALERTS = (
    "SELECT last(\"alert_id\") AS \"alert_id\", \"kind\", \"severity\", \"title\", \"message\" FROM \"alert_event\" "
    f"WHERE {PLANT} AND \"kind\" != 'acknowledged' AND time > now() - 30d GROUP BY \"rule\", \"subject\""
)

panels = [
    row("Combustion"),
    stat("Secondary chamber now", [target(latest("t_secondary"))], "celsius", chamber_steps(secondary.value_c),
         description=f"Minimum {secondary.value_c:g} °C ({secondary.source})", decimals=0),
    stat("Primary chamber now", [target(latest("t_primary"))], "celsius", chamber_steps(primary.value_c),
         description=f"Minimum {primary.value_c:g} °C ({primary.source})", decimals=0),
    stat("Operating state", [target(f"SELECT last(\"state\") FROM \"plant_state\" WHERE {PLANT}")], "none",
         steps((None, "text")), mappings=PLANT_STATES, description="Derived by the alert worker (plant_state)"),
    stat("Draft now", [target(latest("draft_primary"))], "pressurepa", steps((None, "green"), (0, "red")),
         description="Primary chamber draft; it must stay negative", decimals=1),
    timeseries(f"Secondary chamber temperature vs {secondary.value_c:g} °C minimum",
               targets(("t_secondary", reading("t_secondary"))), "celsius", chamber_steps(secondary.value_c),
               description=f"P.56/2015 minimum {secondary.value_c:g} °C ({secondary.source}); red line = minimum"),
    timeseries(f"Primary chamber temperature vs {primary.value_c:g} °C minimum",
               targets(("t_primary", reading("t_primary"))), "celsius", chamber_steps(primary.value_c),
               description=f"P.56/2015 minimum {primary.value_c:g} °C ({primary.source}); red line = minimum"),
    state_timeline("Plant operating state",
                   [target(f"SELECT \"state\" FROM \"plant_state\" WHERE {PLANT} AND $timeFilter", alias="state")],
                   "none", steps((None, "text")), PLANT_STATES, w=24, h=4),
    state_timeline(
        "Burners, ID fan, feed door",
        [target(
            f"SELECT last(\"value\") FROM \"reading\" WHERE {PLANT} AND \"sensor\" =~ /^(burner_primary|burner_secondary|id_fan|feed_door)$/ "
            "AND $timeFilter GROUP BY time($__interval), \"sensor\" fill(previous)", alias="$tag_sensor",
        )],
        "bool_on_off", steps((None, "red"), (0.5, "green")), ON_OFF, w=12, h=7,
    ),
    timeseries("Draft (primary chamber)", targets(("draft", reading("draft_primary"))), "pressurepa",
               steps((None, "green"), (0, "red")), description="Negative = below ambient; above 0 Pa smoke escapes"),
    row("Feed and flue gas"),
    timeseries("Feed batches", targets(("fed", f"SELECT sum(\"mass_kg\") FROM \"batch\" WHERE {PLANT} AND $timeFilter "
                                                "GROUP BY time($__interval) fill(none)")),
               "masskg", steps((None, "green"), (limits.plant.capacity_kg_h, "orange")), bars=True,
               description=f"Mass fed per interval; orange above the nameplate {limits.plant.capacity_kg_h:g} kg/h"),
    stat("Fed today", [target(f"SELECT sum(\"mass_kg\") FROM \"batch\" WHERE {PLANT} AND $timeFilter")], "masskg",
         steps((None, "green"), (limits.plant.capacity_kg_h * 24, "orange")), time_from="now/d", decimals=0,
         description="Since local midnight; orange above 24 h at nameplate capacity"),
    stat("Batches today", [target(f"SELECT count(\"mass_kg\") FROM \"batch\" WHERE {PLANT} AND $timeFilter")], "short",
         steps((None, "green")), time_from="now/d"),
    timeseries("O2 (stack, dry)", targets(("o2", reading("o2"))), "percent",
               steps((None, "red"), (6, "green")), description="Below 6 vol% with high CO: over-charging (rule overcharge [A])"),
    timeseries("CO (stack, as measured)", targets(("co", reading("co"))), "conmgm3",
               steps((None, "green"), (100, "red")), description="Raw 1-min values, not O2-normalised; 100 mg/Nm3 is the half-hour limit"),
    row("Alerts and devices"),
    alerts_table := table(
        "Alerts (latest event per rule and subject; cleared ones hidden)", [target(OPEN_ALERTS, fmt="table")], "none",
        steps((None, "text")), w=16, h=8, description="Click an alert's number or title: its page in the wastewatch console",
        transformations=[{"id": "filterByValue", "options": {
            "filters": [{"fieldName": "kind", "config": {"id": "equal", "options": {"value": "cleared"}}}],
            "type": "exclude", "match": "any"}}]),
    stat("Devices", [target(f"SELECT last(\"online\") FROM \"device_status\" WHERE {PLANT} GROUP BY \"device\"", alias="$tag_device")],
         "none", steps((None, "red"), (1, "green")), mappings=ONLINE, w=8, h=8,
         description="Last status each device published (its last will sets offline)"),
    row("Ingest health"),
    timeseries("Ingest lag", targets(("$tag_instance", "SELECT max(\"lag_s\") FROM \"ingest_health\" WHERE $timeFilter "
                                                       "GROUP BY time($__interval), \"instance\" fill(null)")),
               "s", steps((None, "green"), (60, "orange"), (300, "red")), w=6,
               description="How long points have waited for InfluxDB (0 while the spool is empty)"),
    timeseries("Dead letters", targets(("$tag_instance", "SELECT non_negative_difference(last(\"dead_letters\")) FROM \"ingest_health\" "
                                                         "WHERE $timeFilter GROUP BY time($__interval), \"instance\" fill(none)")),
               "short", steps((None, "green"), (1, "orange")), bars=True, w=6,
               description="Messages refused per interval; `wastewatch deadletters` lists them"),
    timeseries("Spool", targets(
        ("batches $tag_instance", "SELECT last(\"spool_batches\") FROM \"ingest_health\" WHERE $timeFilter GROUP BY time($__interval), \"instance\" fill(null)"),
        ("bytes $tag_instance", "SELECT last(\"spool_bytes\") FROM \"ingest_health\" WHERE $timeFilter GROUP BY time($__interval), \"instance\" fill(null)"),
    ), "short", steps((None, "green"), (1, "orange")), w=6, description="Batches waiting on disk while InfluxDB is unreachable"),
    timeseries("Points written", targets(("$tag_instance", "SELECT non_negative_difference(last(\"points_written\")) FROM \"ingest_health\" "
                                                           "WHERE $timeFilter GROUP BY time($__interval), \"instance\" fill(none)")),
               "short", steps((None, "red"), (1, "green")), w=6, description="Points the ingest wrote per interval"),
]

alerts_table.overrides = console_links("alert_id", "title")

dashboard = make_dashboard(
    "wastewatch — Operations", "ww-operations", panels, refresh="10s", time_from="now-6h", tags=["operations"],
    description=__doc__ or "",
)
dashboard.links = [DashboardLink(title="Console: plant overview", uri=CONSOLE_URL + "/console/plants/${plant}", type="link", keepTime=False,
                                 targetBlank=True, tooltip="The plant's live overview and alerts in the wastewatch console")]
