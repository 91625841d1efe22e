"""The emissions board's "Abnormal-operation hours this year" adds up the abnormal-operation clock's
events (`abnormal_event`, README "Storage schema"), as the compliance summary and the report do:
it used to count half-hours coded abnormal_operation, which the clock no longer writes, and showed 0."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from grafana.build import OUTPUT_DIR
from tests.servers import InfluxServer
from tests.test_dashboards_queries import Window, expand
from wastewatch.points import Point
from wastewatch.store.influx import InfluxStore

HOUR_MS = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00Z


def panel_query(title: str) -> str:
    board = json.loads((OUTPUT_DIR / "emissions.json").read_text())
    (query,) = [t["query"] for p in board["panels"] if p["title"] == title for t in p["targets"]]
    return str(query)


def event(profile: str, start_ms: int, duration_ms: int, *, void: bool = False, running: bool = False) -> Point:
    fields: dict[str, float | int | str | bool] = {
        "end_ms": start_ms + duration_ms, "duration_ms": 0 if void else duration_ms, "running": running, "void": void,
    }
    return Point("abnormal_event", {"plant": "kotim", "profile": profile}, fields, start_ms)


@pytest.fixture
def store(influx: InfluxServer) -> Iterator[InfluxStore]:
    store = InfluxStore(influx.url, "dashboard_abnormal_hours")
    store.ensure_database()
    yield store
    store.drop_database()
    store.close()


def test_the_panel_sums_the_events_hours_per_profile(store: InfluxStore) -> None:
    store.write([
        event("eu-ied", T0 + 10 * HOUR_MS, 3 * HOUR_MS + 30 * 60_000),
        event("eu-ied", T0 + 40 * HOUR_MS, 90 * 60_000, running=True),  # measured so far
        event("eu-ied", T0 + 60 * HOUR_MS, 2 * HOUR_MS, void=True),  # no longer found: counts nothing
        event("id-p56", T0 + 10 * HOUR_MS, HOUR_MS),
        Point("abnormal_event", {"plant": "other", "profile": "eu-ied"}, {"end_ms": 1, "duration_ms": 9 * HOUR_MS,
                                                                          "running": False, "void": False}, T0),
    ])
    series = store.query(expand(panel_query("Abnormal-operation hours this year"), Window(T0, T0 + 100 * HOUR_MS)))
    hours = {s["tags"]["profile"]: s["values"][0][1] for s in series}
    assert hours == {"eu-ied": 5.0, "id-p56": 1.0}
