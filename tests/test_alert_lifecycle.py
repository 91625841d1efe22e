"""The alert database and lifecycle: one active alert per key, an audit trail of every transition,
outbox rows in the same transaction as the change, acknowledge/comment/assign, escalation, flapping."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts import AlertCleared, AlertRaised, AlertUpdated, actions, bundled_rules_path, load_rules
from alerts.lifecycle import Lifecycle, Policy
from alerts.outbox import Outbox
from alerts.routing import parse_routes
from alerts.schema import create_schema
from alerts.store import AlertStateError
from wastewatch.plant import PlantCatalog
from wastewatch.relational import Database, DatabaseError, connect_url

T0 = 1_795_000_000_000
MIN = 60_000
ROUTES = "operators=mqtt,log;agency=webhook>email;escalation=email"


_pg_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def alert_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The alert database on each backend: SQLite in the test's directory, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/alerts.sqlite3"
        return
    server = request.getfixturevalue("postgres")
    name = f"alerts_{next(_pg_numbers)}"
    yield server.create_database(name)
    server.drop_database(name)


@pytest.fixture
def db(alert_db_url: str) -> Iterator[Database]:
    database = connect_url(alert_db_url)
    create_schema(database)
    yield database
    database.close()


@pytest.fixture
def lifecycle(db: Database, catalog: PlantCatalog) -> Lifecycle:
    rules = load_rules(bundled_rules_path("kotim"), catalog.get("kotim")).rules
    routes = parse_routes(ROUTES, ["regulatory"], available=["webhook", "email", "mqtt", "log"])
    return Lifecycle(db, routes, rules, catalog, Policy(flap_count=3, flap_window_s=3600, escalation_after_min=15,
                                                        escalation_levels=2))


def raised(at_ms: int, rule: str = "t_secondary_low", subject: str = "t_secondary", value: float = 950.0,
           severity: str = "critical", category: str = "process") -> AlertRaised:
    return AlertRaised(plant="kotim", rule_id=rule, subject=subject, severity=severity, category=category,  # type: ignore[arg-type]
                       source="P.56/2015 Ps.22(1)c", at_ms=at_ms, message=f"secondary {value:.0f}", value=value,
                       condition_since_ms=at_ms - MIN)


def cleared(at_ms: int, raised_at_ms: int, rule: str = "t_secondary_low", subject: str = "t_secondary",
            severity: str = "critical", category: str = "process") -> AlertCleared:
    return AlertCleared(plant="kotim", rule_id=rule, subject=subject, severity=severity, category=category,  # type: ignore[arg-type]
                        source="P.56/2015 Ps.22(1)c", at_ms=at_ms, message="back", value=1015.0,
                        raised_at_ms=raised_at_ms, reason="recovered")


def apply(lifecycle: Lifecycle, *events):  # type: ignore[no-untyped-def]
    with lifecycle.db.transaction():
        return [lifecycle.apply(e) for e in events]


def channels_of(outbox: Outbox, kind: str) -> list[str]:
    return sorted(r.channel for r in outbox.rows() if r.kind == kind)


def test_a_repeat_updates_the_active_alert_and_never_opens_a_second(lifecycle: Lifecycle) -> None:
    update = AlertUpdated(plant="kotim", rule_id="t_secondary_low", subject="t_secondary", severity="critical",
                          category="process", source="s", at_ms=T0 + 2 * MIN, message="again 940", value=940.0,
                          raised_at_ms=T0, occurrences=2)
    changes = apply(lifecycle, raised(T0), update, raised(T0 + 3 * MIN, value=930.0))
    assert [c.kind for c in changes] == ["raised", "updated", "updated"]
    alerts = lifecycle.alerts.list_alerts()
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.status, alert.occurrences, alert.value, alert.first_seen_ms) == ("ACTIVE_UNACK", 3, 930.0, T0 - MIN)
    # flood control: the updates are recorded and annotated, but notify nobody
    assert channels_of(lifecycle.outbox, "raised") == ["log", "mqtt", "webhook"]
    assert channels_of(lifecycle.outbox, "updated") == []
    assert [t.kind for t in lifecycle.alerts.transitions(alert.id)] == ["raised", "updated", "updated"]


def test_the_database_itself_refuses_a_second_active_alert(lifecycle: Lifecycle) -> None:
    apply(lifecycle, raised(T0))
    with pytest.raises(DatabaseError):
        lifecycle.alerts.open(raised(T0 + MIN), "dup", notified=True, flapping=False)


def test_a_recovery_goes_to_every_channel_the_problem_went_to(lifecycle: Lifecycle) -> None:
    apply(lifecycle, raised(T0), cleared(T0 + 5 * MIN, T0))
    assert channels_of(lifecycle.outbox, "cleared") == channels_of(lifecycle.outbox, "raised") == ["log", "mqtt", "webhook"]
    # a major process alert is for the operators only
    apply(lifecycle, raised(T0, rule="burner_secondary_trip", subject="burner_secondary", severity="major"))
    rows = [r for r in lifecycle.outbox.rows() if r.payload.get("rule") == "burner_secondary_trip" and r.kind == "raised"]
    assert sorted(r.channel for r in rows) == ["log", "mqtt"]
    # a regulatory alert goes to the agency whatever its severity
    apply(lifecycle, raised(T0, rule="scrubber_ph_low", subject="scrubber_ph", severity="major", category="regulatory"))
    rows = [r for r in lifecycle.outbox.rows() if r.payload.get("rule") == "scrubber_ph_low"]
    assert "webhook" in {r.channel for r in rows}
    alert = lifecycle.alerts.list_alerts(active_only=True)
    assert {a.rule_id for a in alert} == {"burner_secondary_trip", "scrubber_ph_low"}


def test_outbox_rows_commit_or_roll_back_with_the_alert(lifecycle: Lifecycle) -> None:
    with pytest.raises(RuntimeError), lifecycle.db.transaction():
        lifecycle.apply(raised(T0))
        raise RuntimeError("crash before commit")
    assert lifecycle.alerts.list_alerts() == [] and lifecycle.outbox.rows() == []


def test_notification_texts_carry_what_an_officer_needs_in_both_languages(lifecycle: Lifecycle) -> None:
    apply(lifecycle, raised(T0))
    payload = next(r.payload for r in lifecycle.outbox.rows() if r.channel == "webhook")
    assert (payload["plant"], payload["value"], payload["limit"], payload["unit"]) == ("kotim", 950.0, 1000.0, "°C")
    assert payload["source"] == "P.56/2015 Ps.22(1)c" and payload["link"].endswith(f"/alerts/{payload['alert_id']}")
    indonesian, english = payload["text"]["id"]["body"], payload["text"]["en"]["body"]
    assert "Nilai terukur: 950 °C (batas 1000 °C)" in indonesian and "Sejak:" in indonesian and "WIB" in indonesian
    assert "Measured: 950 °C (limit 1000 °C)" in english and "Rule source: P.56/2015 Ps.22(1)c" in english
    assert payload["text"]["id"]["subject"].startswith("[ALARM · KRITIS] kotim:")


def test_acknowledge_comment_and_assign_are_recorded_with_who_and_when(lifecycle: Lifecycle) -> None:
    (change,) = apply(lifecycle, raised(T0))
    alert_id = change.alert.id
    db = lifecycle.db
    actions.assign(db, alert_id, "budi", by="supervisor", now_ms=T0 + MIN)
    actions.comment(db, alert_id, "budi", "burner technician called", now_ms=T0 + 2 * MIN)
    acked = actions.acknowledge(db, alert_id, "budi", now_ms=T0 + 3 * MIN, comment="on it")
    assert (acked.alert.status, acked.alert.ack_by, acked.alert.ack_at_ms, acked.alert.assignee) == (
        "ACTIVE_ACK", "budi", T0 + 3 * MIN, "budi")
    with pytest.raises(AlertStateError):
        actions.acknowledge(db, alert_id, "siti", now_ms=T0 + 4 * MIN)
    apply(lifecycle, cleared(T0 + 10 * MIN, T0))
    trail = lifecycle.alerts.transitions(alert_id)
    assert [(t.kind, t.actor) for t in trail] == [
        ("raised", "system"), ("assigned", "supervisor"), ("commented", "budi"), ("acknowledged", "budi"), ("cleared", "system")]
    assert trail[2].comment == "burner technician called" and trail[1].detail == {"assignee": "budi"}
    assert lifecycle.alerts.get(alert_id).status == "CLEARED_ACK"  # type: ignore[union-attr]


def test_an_unacknowledged_critical_alert_escalates_once_per_level(lifecycle: Lifecycle) -> None:
    (change,) = apply(lifecycle, raised(T0))
    for minutes in (5, 14, 15, 16, 29):
        with lifecycle.db.transaction():
            lifecycle.escalate_due(T0 + minutes * MIN)
    with lifecycle.db.transaction():
        lifecycle.escalate_due(T0 + 30 * MIN)
        lifecycle.escalate_due(T0 + 90 * MIN)  # two levels configured: no third
    escalations = [r for r in lifecycle.outbox.rows() if r.kind == "escalated"]
    assert [(r.channel, r.payload["escalation_level"]) for r in escalations] == [("email", 1), ("email", 2)]
    assert [t.at_ms for t in lifecycle.alerts.transitions(change.alert.id) if t.kind == "escalated"] == [T0 + 15 * MIN, T0 + 30 * MIN]
    apply(lifecycle, cleared(T0 + 95 * MIN, T0))
    assert "email" in channels_of(lifecycle.outbox, "cleared")  # the escalation hears of the recovery too


def test_an_acknowledged_alert_does_not_escalate(lifecycle: Lifecycle) -> None:
    (change,) = apply(lifecycle, raised(T0))
    actions.acknowledge(lifecycle.db, change.alert.id, "budi", now_ms=T0 + MIN)
    with lifecycle.db.transaction():
        assert lifecycle.escalate_due(T0 + 60 * MIN) == []


def test_a_flapping_alert_is_recorded_but_notified_once_as_flapping(lifecycle: Lifecycle) -> None:
    for i in range(6):
        start = T0 + i * 5 * MIN
        apply(lifecycle, raised(start), cleared(start + 2 * MIN, start))
    assert len(lifecycle.alerts.list_alerts()) == 6
    kinds = [(r.kind, r.channel) for r in lifecycle.outbox.rows() if r.channel == "webhook"]
    # two raise/clear pairs notified, then one flapping notice (flap_count=3), then silence
    assert kinds == [("raised", "webhook"), ("cleared", "webhook")] * 2 + [("flapping", "webhook")]


def test_a_flapping_alert_that_stays_quiet_is_reported_settled_once(lifecycle: Lifecycle) -> None:
    for i in range(4):
        start = T0 + i * 5 * MIN
        apply(lifecycle, raised(start), cleared(start + 2 * MIN, start))
    last_clear = T0 + 17 * MIN
    with lifecycle.db.transaction():
        assert lifecycle.escalate_due(last_clear) == []
        assert lifecycle.settle_due(last_clear + 14 * MIN) == []  # not yet quiet for 15 min (the default)
        (change,) = lifecycle.settle_due(last_clear + 15 * MIN)
        assert lifecycle.settle_due(last_clear + 60 * MIN) == []  # once
    kinds = [r.kind for r in lifecycle.outbox.rows() if r.channel == "webhook"]
    assert kinds == ["raised", "cleared"] * 2 + ["flapping", "settled"]
    assert change.alert.id == max(a.id for a in lifecycle.alerts.list_alerts())
    assert [t.kind for t in lifecycle.alerts.transitions(change.alert.id)][-1] == "settled"
