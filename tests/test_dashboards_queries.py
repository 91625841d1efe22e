"""Every panel, variable and annotation query of the committed dashboards runs against the real
InfluxDB 1.6.7, with Grafana's macros expanded, after a simulated day of the Kotim plant were
stored through the project's own paths: simulator messages decoded by the ingest's decoder into
records and points; plant states from the alert worker's state machine and alert events from its
lifecycle, written by its annotation notifier; averages by the compliance jobs; an ingest_health point.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts import AlertCleared, AlertRaised, bundled_rules_path, load_rules
from alerts.lifecycle import Lifecycle
from alerts.notifiers.annotation import AnnotationNotifier
from alerts.outbox import Outbox
from alerts.plant_state import OperatingState, PlantSignals, PlantState, PlantStateConfig, observe_signal, settle
from alerts.routing import parse_routes
from alerts.schema import create_schema
from compliance.jobs import ComplianceJobs
from grafana.build import OUTPUT_DIR
from ingest.health import IngestHealthWriter
from ingest.metrics import IngestMetrics
from ingest.spool import Spool
from simulators.model import generate_messages
from tests.servers import InfluxServer
from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.plant import PlantCatalog
from wastewatch.points import Point
from wastewatch.records import Batch, Reading
from wastewatch.relational import connect_url
from wastewatch.store.influx import InfluxStore

SIM_HOURS = 24
INTERVAL = "1m"

# Queries that may rightly return nothing for this data set, and why.
MAY_BE_EMPTY = {
    ("ww-evaluator", "Acknowledgement time"): "alert_event carries no acknowledgements yet (see the panel's note)",
    ("ww-evaluator", "Limit exceedances (valid averages above a per-window or daily limit)"): "a clean simulated day",
    ("ww-emissions", "Abnormal-operation hours this year"): "no abnormal operation simulated",
    ("ww-emissions", "Discarded half-hours today"): "the simulated CEMS has no outage",
    ("ww-emissions", "Half-hour quality codes"): "only some quality codes occur (checked: at least one target has data)",
    ("ww-operations", "Dead letters"): "non_negative_difference of a single health point",
    ("ww-operations", "Points written"): "non_negative_difference of a single health point",
}


@dataclass(frozen=True)
class Window:
    start_ms: int
    end_ms: int


@pytest.fixture(scope="module")
def window(catalog: PlantCatalog) -> Window:
    plant = catalog.get("kotim")
    assert plant is not None
    yesterday = (datetime.now(plant.zone) - timedelta(days=1)).date()
    start = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=plant.zone)  # a whole closed local day
    start_ms = int(start.timestamp() * 1000)
    return Window(start_ms, start_ms + SIM_HOURS * 3_600_000)


@pytest.fixture(scope="module")
def shown(window: Window) -> Window:
    """The dashboard range: the simulated day (daily averages are stamped at its local midnight)."""
    return window


@pytest.fixture(scope="module")
def stored(influx: InfluxServer, catalog: PlantCatalog, window: Window, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxStore]:
    store = InfluxStore(influx.url, "dashboards_queries")
    store.ensure_database()
    plant = catalog.get("kotim")
    assert plant is not None
    generated = generate_messages(plant, seed=3, start_ms=window.start_ms, duration_s=SIM_HOURS * 3600)
    now_ms = int(time.time() * 1000)
    records: list[Reading | Batch] = []
    points: list[Point] = []
    for message in generated.messages:
        decoded = decode_message(message.topic, message.payload, catalog, now_ms, DecodeLimits())
        points += [r.to_point() for r in decoded.records]
        records += [r for r in decoded.records if isinstance(r, (Reading, Batch))]
    for i in range(0, len(points), 5000):
        store.write(points[i:i + 5000])

    directory = tmp_path_factory.mktemp("dashboards")
    db = connect_url(f"sqlite:///{directory}/alerts.sqlite3")
    create_schema(db)
    rules = load_rules(bundled_rules_path("kotim"), plant).rules
    lifecycle = Lifecycle(db, parse_routes("operators=log", ["regulatory"], available=["log"]), rules, catalog)
    state, signals, config = PlantState(plant="kotim", operating=OperatingState.COLD, since_ms=window.start_ms), PlantSignals(), PlantStateConfig()
    with db.transaction():
        for record in sorted(records, key=lambda r: r.time_ms):
            signals = observe_signal(signals, record, record.time_ms, config)
            state, transitions = settle(state, signals, record.time_ms, config)
            for transition in transitions:
                lifecycle.record_plant_state(transition)
        at = window.start_ms + 30 * 60_000
        common: dict[str, Any] = {"plant": "kotim", "rule_id": "t_secondary_low", "subject": "t_secondary",
                                  "severity": "critical", "category": "process", "source": "P.56/2015 Ps.22(1)c"}
        lifecycle.apply(AlertRaised(**common, at_ms=at, message="secondary 950 degC", value=950.0, condition_since_ms=at - 60_000))
        lifecycle.apply(AlertCleared(**common, at_ms=at + 600_000, message="back", value=1010.0, raised_at_ms=at, reason="recovered"))
        lifecycle.apply(AlertRaised(**{**common, "rule_id": "draft_positive", "subject": "draft_primary", "severity": "warning"},
                                    at_ms=at + 900_000, message="positive draft", value=12.0, condition_since_ms=at))
    notifier = AnnotationNotifier(store)
    for row in Outbox(db).pending(channel="annotation"):
        notifier.send(row.notification())
    db.close()

    ComplianceJobs(store).recompute(plant, window.start_ms, window.end_ms)

    spool = Spool(directory / "spool.sqlite3", 1 << 20)
    health = IngestHealthWriter(store, IngestMetrics(), spool, "ingest-test", clock=lambda: (window.start_ms + 3_600_000) / 1000)
    assert health.write_once()
    spool.close()
    yield store
    store.drop_database()
    store.close()


def expand(query: str, window: Window) -> str:
    """Grafana's InfluxDB macros, as its datasource expands them."""
    replacements = {
        "$timeFilter": f"time >= {window.start_ms}ms and time <= {window.end_ms}ms",
        "$__interval_ms": "60000", "$__interval": INTERVAL, "$interval": INTERVAL,
        "$__from": str(window.start_ms), "$__to": str(window.end_ms), "$plant": "kotim",
    }
    for macro, value in replacements.items():  # longest first: $__interval_ms before $__interval
        query = query.replace(macro, value)
    assert not re.search(r"\$[A-Za-z_]", query), f"unexpanded macro in {query}"
    return query


def _boards() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(OUTPUT_DIR.glob("*.json"))]


def _panel_queries() -> list[tuple[str, str, str, str, str]]:
    """(dashboard uid, panel title, refId, query, result format) of every panel target."""
    out = []
    for board in _boards():
        for panel in board["panels"]:
            for t in panel.get("targets", []):
                out.append((board["uid"], panel["title"], t["refId"], t["query"], t["resultFormat"]))
    return out


def test_every_panel_query_returns_data_of_the_expected_shape(stored: InfluxStore, shown: Window) -> None:
    empty_by_panel: dict[tuple[str, str], list[bool]] = {}
    queries = _panel_queries()
    assert len(queries) > 40
    for uid, title, _ref, query, fmt in queries:
        series = stored.query(expand(query, shown))  # an InfluxQL error raises StoreRejected
        for s in series:
            assert s["columns"][0] == "time", (title, s["columns"])
            assert len(s["columns"]) >= 2 and s["values"], (title, s)
            if fmt == "table":
                assert all(len(v) == len(s["columns"]) for v in s["values"])
        empty_by_panel.setdefault((uid, title), []).append(not series)
    empty = sorted(k for k, flags in empty_by_panel.items() if all(flags) and k not in MAY_BE_EMPTY)
    assert not empty, f"panels without data: {empty}"
    assert not all(empty_by_panel[("ww-emissions", "Half-hour quality codes")])


def test_open_alerts_table_shows_the_latest_event_per_alert(stored: InfluxStore, shown: Window) -> None:
    query = next(q for uid, title, _, q, _ in _panel_queries() if title.startswith("Alerts (latest event"))
    rows = {(s["tags"]["rule"], s["values"][0][s["columns"].index("kind")]) for s in stored.query(expand(query, shown))}
    assert rows == {("t_secondary_low", "cleared"), ("draft_positive", "raised")}


def test_chamber_panels_read_the_chamber_sensors(stored: InfluxStore, shown: Window) -> None:
    query = next(q for _, title, _, q, _ in _panel_queries() if title.startswith("Secondary chamber temperature"))
    values = [v[1] for s in stored.query(expand(query, shown)) for v in s["values"] if v[1] is not None]
    assert max(values) > 1000  # the simulated plant reaches its secondary minimum after pre-heat


def test_annotation_and_variable_queries_run(stored: InfluxStore, shown: Window) -> None:
    for board in _boards():
        for annotation in board["annotations"]["list"]:
            if "query" not in annotation:
                continue
            series = stored.query(expand(annotation["query"], shown))
            assert series and series[0]["values"], (board["uid"], annotation["name"])
            columns = series[0]["columns"]
            assert annotation["textColumn"] in columns and annotation["titleColumn"] in columns
            for tag in filter(None, annotation["tagsColumn"].split(",")):
                assert tag in columns
        for variable in board["templating"]["list"]:
            series = stored.query(variable["query"])
            assert ["key", "kotim"] in [list(v) for v in series[0]["values"]] or ["plant", "kotim"] in [list(v) for v in series[0]["values"]]


def test_ingest_health_point_is_on_the_board(stored: InfluxStore, shown: Window) -> None:
    query = next(q for _, title, _, q, _ in _panel_queries() if title == "Ingest lag")
    series = stored.query(expand(query, shown))
    assert series[0]["tags"] == {"instance": "ingest-test"}


def test_queries_use_no_flux_and_always_name_the_plant(tmp_path: Path) -> None:
    for uid, title, _, query, _ in _panel_queries():
        assert query.lstrip().upper().startswith(("SELECT", "SHOW")), (uid, title)
        assert "from(bucket" not in query and "|>" not in query
        if "ingest_health" not in query:
            assert "\"plant\" = '$plant'" in query, (uid, title, query)

