"""An acknowledgement is an `alert_event` point too: kind `acknowledged` and `ack_s` from raise to
acknowledgement, delivered through the outbox and the annotation channel into the real InfluxDB,
where the evaluator board's acknowledgement-time query reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alerts import actions
from alerts.lifecycle import Lifecycle
from alerts.notifiers.annotation import AnnotationNotifier
from alerts.outbox import Outbox
from alerts.sender import OutboxSender
from alerts.store import AlertStateError
from tests.test_alert_lifecycle import MIN, T0, alert_db_url, apply, db, lifecycle, raised
from wastewatch.relational import Database
from wastewatch.store.influx import InfluxStore

EVALUATOR_BOARD = Path(__file__).resolve().parent.parent / "grafana" / "dashboards" / "evaluator.json"


def board_query(title: str) -> str:
    board = json.loads(EVALUATOR_BOARD.read_text())
    (query,) = [t["query"] for p in board["panels"] if p["title"] == title for t in p["targets"]]
    return str(query)


def deliver_annotations(db: Database, store: InfluxStore) -> None:
    sender = OutboxSender(db, {"annotation": AnnotationNotifier(store)}, wall=lambda: (T0 + 60 * MIN) / 1000)
    sender.run_once("annotation")
    assert not Outbox(db).pending(channel="annotation")


def test_acknowledging_writes_an_acknowledged_alert_event_with_the_time_to_acknowledge(
    db: Database, lifecycle: Lifecycle, influx_store: InfluxStore,
) -> None:
    (change,) = apply(lifecycle, raised(T0))
    (warning,) = apply(lifecycle, raised(T0 + MIN, rule="draft_positive", subject="draft_primary", severity="warning"))
    actions.acknowledge(db, change.alert.id, "operator-a", T0 + 7 * MIN, "burner being checked")
    actions.acknowledge(db, warning.alert.id, "operator-b", T0 + 31 * MIN)

    rows = [r for r in Outbox(db).rows(channel="annotation") if r.payload["tags"]["kind"] == "acknowledged"]
    assert [(r.plant, r.alert_id, r.payload["fields"]["ack_s"]) for r in rows] == [
        ("kotim", change.alert.id, 420.0), ("kotim", warning.alert.id, 1800.0)]
    assert rows[0].payload["fields"]["message"] == "acknowledged by operator-a: burner being checked"
    deliver_annotations(db, influx_store)

    window = f"time >= {T0}ms and time <= {T0 + 60 * MIN}ms"
    points = influx_store.query(
        f"SELECT \"ack_s\", \"ack_by\", \"alert_id\", \"severity\", \"rule\" FROM \"alert_event\" WHERE \"kind\" = 'acknowledged' AND {window}"
    )
    (series,) = points
    values = [dict(zip(series["columns"], v)) for v in series["values"]]
    assert [(v["rule"], v["severity"], v["ack_s"], v["ack_by"], v["alert_id"]) for v in values] == [
        ("t_secondary_low", "critical", 420.0, "operator-a", change.alert.id),
        ("draft_positive", "warning", 1800.0, "operator-b", warning.alert.id),
    ]
    # the board's panel, as Grafana expands it: mean and max per severity
    query = board_query("Acknowledgement time").replace("$plant", "kotim").replace("$timeFilter", window)
    by_severity = {s["tags"]["severity"]: dict(zip(s["columns"], s["values"][0])) for s in influx_store.query(query)}
    assert {k: (v["mean"], v["max"]) for k, v in by_severity.items()} == {"critical": (420.0, 420.0), "warning": (1800.0, 1800.0)}


def test_an_acknowledgement_refused_writes_no_event(db: Database, lifecycle: Lifecycle) -> None:
    (change,) = apply(lifecycle, raised(T0))
    actions.acknowledge(db, change.alert.id, "operator-a", T0 + MIN)
    with pytest.raises(AlertStateError):
        actions.acknowledge(db, change.alert.id, "operator-b", T0 + 2 * MIN)
    kinds = [r.payload["tags"]["kind"] for r in Outbox(db).rows(channel="annotation")]
    assert kinds == ["raised", "acknowledged"]
