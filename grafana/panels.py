"""Building blocks of the dashboards: the datasource, InfluxQL targets, panels with units and
thresholds, the `plant` variable, the alert annotations and a flowing grid layout.

Every query is raw InfluxQL with Grafana's macros (`$timeFilter`, `$__interval`, `$plant`), so the same
dashboards work on InfluxDB 1.x, 2.x (DBRP) and 3.x.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from grafanalib.core import (
    Annotations,
    Dashboard,
    GridPos,
    RowPanel,
    Stat,
    StateTimeline,
    Table,
    Template,
    Templating,
    Text,
    Time,
    TimeSeries,
)
from grafanalib.influxdb import InfluxDBTarget

DATASOURCE_UID = "wastewatch-influxdb"
DATASOURCE: dict[str, str] = {"type": "influxdb", "uid": DATASOURCE_UID}
GRID_WIDTH = 24
PLANT = "\"plant\" = '$plant'"
"""The WHERE term every plant panel carries."""

Step = tuple[float | None, str]
"""A threshold step: from this value (None: the base) on, this colour."""


def steps(*pairs: Step) -> list[dict[str, Any]]:
    return [{"color": color, "value": value} for value, color in pairs]


def target(query: str, ref: str = "A", alias: str = "", fmt: str = "time_series") -> InfluxDBTarget:
    return InfluxDBTarget(query=query, refId=ref, alias=alias, format=fmt, datasource=DATASOURCE)


def targets(*queries: tuple[str, str]) -> list[InfluxDBTarget]:
    """Targets from (alias, query) pairs, refIds A, B, …"""
    return [target(q, chr(ord("A") + i), alias) for i, (alias, q) in enumerate(queries)]


def _unit_json(unit: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"fieldConfig": {"defaults": {"unit": unit}}}
    if extra:
        out.update(extra)
    return out


def timeseries(
    title: str, queries: Sequence[InfluxDBTarget], unit: str, thresholds: list[dict[str, Any]], *,
    w: int = 12, h: int = 8, description: str = "", bars: bool = False, line_thresholds: bool = True,
    decimals: int | None = None,
) -> TimeSeries:
    return TimeSeries(
        title=title, description=description, dataSource=DATASOURCE, targets=list(queries), unit=unit,
        thresholds=thresholds, thresholdsStyleMode="line" if line_thresholds else "off",
        drawStyle="bars" if bars else "line", fillOpacity=80 if bars else 10, valueDecimals=decimals,
        spanNulls=False, gridPos=GridPos(h=h, w=w, x=0, y=0),
    )


def stat(
    title: str, queries: Sequence[InfluxDBTarget], unit: str, thresholds: list[dict[str, Any]], *,
    w: int = 6, h: int = 4, description: str = "", mappings: list[dict[str, Any]] | None = None,
    decimals: int | None = None, time_from: str | None = None, reduce: str = "lastNotNull",
) -> Stat:
    return Stat(
        title=title, description=description, dataSource=DATASOURCE, targets=list(queries), format=unit,
        thresholds=thresholds, mappings=mappings or [], decimals=decimals, timeFrom=time_from, reduceCalc=reduce,
        colorMode="background", graphMode="none", textMode="auto", noValue="no data",
        gridPos=GridPos(h=h, w=w, x=0, y=0),
    )


def state_timeline(
    title: str, queries: Sequence[InfluxDBTarget], unit: str, thresholds: list[dict[str, Any]],
    mappings: list[dict[str, Any]], *, w: int = 12, h: int = 6, description: str = "",
) -> StateTimeline:
    return StateTimeline(
        title=title, description=description, dataSource=DATASOURCE, targets=list(queries), thresholds=thresholds,
        mappings=mappings, colorMode="thresholds", mergeValues=True, showValue="auto",
        extraJson=_unit_json(unit), gridPos=GridPos(h=h, w=w, x=0, y=0),
    )


def table(
    title: str, queries: Sequence[InfluxDBTarget], unit: str, thresholds: list[dict[str, Any]], *,
    w: int = 12, h: int = 8, description: str = "", transformations: list[dict[str, Any]] | None = None,
    time_from: str | None = None,
) -> Table:
    return Table(
        title=title, description=description, dataSource=DATASOURCE, targets=list(queries), unit=unit,
        thresholds=thresholds, transformations=transformations or [], timeFrom=time_from,
        gridPos=GridPos(h=h, w=w, x=0, y=0),
    )


def text(title: str, markdown: str, *, w: int = 12, h: int = 6) -> Text:
    return Text(title=title, content=markdown, mode="markdown", gridPos=GridPos(h=h, w=w, x=0, y=0))


def row(title: str) -> RowPanel:
    return RowPanel(title=title, gridPos=GridPos(h=1, w=GRID_WIDTH, x=0, y=0))


def value_mappings(texts: Mapping[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """One Grafana value mapping: raw value -> (display text, colour)."""
    options = {raw: {"text": label, "color": color, "index": i} for i, (raw, (label, color)) in enumerate(texts.items())}
    return [{"type": "value", "options": options}]


ON_OFF = value_mappings({"0": ("off", "red"), "1": ("on", "green")})
ONLINE = value_mappings({"0": ("offline", "red"), "1": ("online", "green")})
PLANT_STATES = value_mappings({
    "cold": ("cold", "blue"), "preheat": ("pre-heat", "orange"), "ready": ("ready", "yellow"),
    "burning": ("burning", "green"), "burnout": ("burn-out", "purple"), "shutdown": ("shut-down", "dark-red"),
})


def plant_variable() -> Template:
    """`$plant`: the plants that have sent readings."""
    return Template(
        name="plant", label="Plant", dataSource=DATASOURCE, type="query",
        query='SHOW TAG VALUES FROM "reading" WITH KEY = "plant"', refresh=1, sort=1, includeAll=False, multi=False,
    )


ALERT_ANNOTATION_QUERY = (
    "SELECT \"title\", \"message\", \"kind\", \"severity\", \"rule\" FROM \"alert_event\" WHERE " + PLANT + " AND $timeFilter"
)
STATE_ANNOTATION_QUERY = (
    "SELECT \"state\", \"from_state\", \"reason\" FROM \"plant_state\" WHERE " + PLANT + " AND $timeFilter"
)


def annotation_list() -> Annotations:
    """Alert events (raised, updated, cleared) and plant operating-state changes, on every time panel."""
    return Annotations(list=[
        {
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
        },
        {
            "datasource": DATASOURCE, "enable": True, "hide": False, "iconColor": "red", "name": "Alert events",
            "query": ALERT_ANNOTATION_QUERY, "textColumn": "message", "titleColumn": "title",
            "tagsColumn": "kind,severity,rule",
        },
        {
            "datasource": DATASOURCE, "enable": True, "hide": False, "iconColor": "blue", "name": "Plant state",
            "query": STATE_ANNOTATION_QUERY, "textColumn": "reason", "titleColumn": "state", "tagsColumn": "",
        },
    ])


def place(panels: Iterable[Any]) -> list[Any]:
    """Lay panels out left to right, wrapping at the grid width; a row panel starts a new line."""
    placed: list[Any] = []
    x = y = line_h = 0
    for panel in panels:
        pos = panel.gridPos
        if isinstance(panel, RowPanel) or x + pos.w > GRID_WIDTH:
            y, x, line_h = y + line_h, 0, 0
        panel.gridPos = GridPos(h=pos.h, w=pos.w, x=x, y=y)
        x += pos.w
        line_h = max(line_h, pos.h)
        if isinstance(panel, RowPanel):
            y, x, line_h = y + pos.h, 0, 0
        placed.append(panel)
    return placed


def dashboard(
    title: str, uid: str, panels: Iterable[Any], *, refresh: str | None, time_from: str, tags: list[str],
    description: str, extra_variables: Sequence[Template] = (),
) -> Dashboard:
    return Dashboard(
        title=title, uid=uid, description=description, tags=["wastewatch", *tags], refresh=refresh,
        time=Time(time_from, "now"), timezone="browser", editable=True,
        templating=Templating(list=[plant_variable(), *extra_variables]),
        annotations=annotation_list(), panels=place(panels),
    ).auto_panel_ids()
