"""The alert worker end to end: simulator faults over the real broker, alerts in the database,
notifications to a real webhook receiver and over MQTT, annotations and plant states in InfluxDB;
a restart half-way through a tolerance; a flapping sensor for a simulated hour."""

from __future__ import annotations

import email
import json
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from email import policy as email_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alerts import RuleState, actions, bundled_rules_path, load_rules
from alerts.clock import DataClock
from alerts.engine import Engine
from alerts.outbox import Outbox
from alerts.schema import open_database
from alerts.service import AlertsComponent
from alerts.settings import AlertSettings
from alerts.store import AlertStore
from simulators import generate_messages, parse_fault_spec
from tests.alert_receivers import MqttCollector, SmtpServer, WebhookReceiver
from tests.conftest import SettingsFor
from tests.helpers import publish_all, wait_until
from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.plant import PlantCatalog
from wastewatch.settings import Settings, SmtpSettings
from wastewatch.store.influx import InfluxStore

SECRET = "worker-test-secret-of-32-bytes-or-more"
HOUR_MS = 3_600_000


class ManualClock:
    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> float:
        return self.now_ms / 1000


@pytest.fixture
def receiver():
    server = WebhookReceiver(SECRET).start()
    yield server
    server.stop()


def alert_settings(
    settings_for: SettingsFor, tmp_path: Path, receiver: WebhookReceiver, store: InfluxStore | None = None, *,
    shared: Mapping[str, object] | None = None, **extra: object,
) -> tuple[Settings, AlertSettings]:
    """The shared settings (with `shared` overrides) and the alert worker's: its own client id, the
    webhook receiver as the agency's channel, no escalation, fast retries; `extra` overrides those."""
    values: dict[str, object] = {
        "client_id": f"alerts-{tmp_path.name}",
        "routes": "operators=mqtt,log;agency=webhook",
        "webhook_url": receiver.url,
        "webhook_secret": SECRET,
        "escalation_after_min": 0,
        "retry_base_s": 0.05,
        **extra,
    }
    return settings_for(store, **(shared or {})), AlertSettings(**values)  # type: ignore[arg-type]


def wait_drained(component: AlertsComponent, published: int) -> None:
    wait_until(lambda: component.worker.counts["processed"] >= published, timeout_s=60, what="all messages processed")
    outbox = Outbox(component.db)
    wait_until(lambda: not outbox.rows() or "pending" not in outbox.counts(), timeout_s=30, what="outbox drained")


def morning_start_ms(days_ago: int) -> int:
    """05:00 plant time a few days back: a cold plant, and timestamps the decoder accepts."""
    zone = ZoneInfo("Asia/Jakarta")
    day = datetime.now(zone).date() - timedelta(days=days_ago)
    return round(datetime(day.year, day.month, day.day, 5, 0, tzinfo=zone).timestamp() * 1000)


def replayed_events(catalog: PlantCatalog, messages, interval_ms: int) -> list[tuple[str, str, str, int]]:  # type: ignore[no-untyped-def]
    """The same messages through the engine alone, in memory: what the worker must have stored."""
    engine = Engine([load_rules(bundled_rules_path("kotim"), catalog.get("kotim"))], interval_ms)
    out = []
    for message in messages:
        for record in decode_message(message.topic, message.payload, catalog, message.at_ms, DecodeLimits()).records:
            out += [(e.kind, e.rule_id, e.subject, e.at_ms) for e in engine.observe(record, record.time_ms).events]
    return out


# both burners out for 45 min with waste in the chamber: burn-out, not a shut-down (issue 17 finding 2),
# so the P.56 breach recovers instead of being cleared as "not applicable", and relit burners are no start-up
@pytest.mark.parametrize("fault", ["burner_trip@+2h/20m", "burner_trip@+2h/45m,burner=both", "id_fan_failure@+2h/15m"])
def test_a_fault_scenario_opens_and_recovers_exactly_the_expected_alerts_with_one_notification_per_channel(
    fault, settings_for, influx_store, catalog, tmp_path, receiver, mosquitto
):  # type: ignore[no-untyped-def]
    start_ms = morning_start_ms(2)
    generated = generate_messages(catalog.get("kotim"), seed=11, start_ms=start_ms, duration_s=3 * 3600,  # type: ignore[arg-type]
                                  faults=[parse_fault_spec(fault, sim_start_ms=start_ms)])
    settings, alerts = alert_settings(settings_for, tmp_path, receiver, influx_store)
    collector = MqttCollector(mosquitto.url, ["plants/kotim/alerts/#", "plants/kotim/state"], f"collector-{tmp_path.name}")
    component = AlertsComponent(settings, alerts, catalog, influx_store, clock=DataClock(), scheduler=False)
    component.start()
    try:
        wait_until(component.worker.connected.is_set, what="alert worker subscribed")
        publish_all(mosquitto.url, [(m.topic, m.payload) for m in generated.messages], client_id=f"pub-{tmp_path.name}")
        wait_drained(component, len(generated.messages))
        alerts = sorted(component.lifecycle.alerts.list_alerts(limit=100), key=lambda a: a.id)
        wait_until(lambda: sum("/alerts/" in t for t, _, _ in collector.messages) >= 2 * len(alerts), what="MQTT alerts")
        log_rows = Outbox(component.db).rows(channel="log")
    finally:
        component.stop()
        collector.close()

    fault_ms = start_ms + 2 * HOUR_MS
    by_rule = {a.rule_id: a for a in alerts}
    # one fault, its root alert: a tripped burner shows as the secondary falling, then below P.56's
    # minimum; a stopped ID fan is the one alert of its fault (draft, O2/CO, the burners the burner
    # management stopped and the temperatures are its consequences, not sent)
    expected = {"id_fan_stopped"} if fault.startswith("id_fan") else {"t_secondary_falling", "t_secondary_low"}
    assert set(by_rule) == expected and len(alerts) == len(expected)
    assert all(fault_ms <= a.raised_at_ms <= fault_ms + 300_000 for a in alerts)
    assert all(a.status == "CLEARED_UNACK" and a.clear_reason == "recovered" for a in alerts)
    # exactly what the pure engine gives for the same messages, opened and closed at the same instants
    stored = sorted([("raised", a.rule_id, a.subject, a.raised_at_ms) for a in alerts]
                    + [("cleared", a.rule_id, a.subject, a.cleared_at_ms) for a in alerts])  # type: ignore[misc]
    assert stored == sorted(e for e in replayed_events(catalog, generated.messages, 5000) if e[0] != "updated")

    # one notification per channel per event: operators (MQTT, log) get all, the agency webhook the critical ones
    events = Counter((kind, a.id) for a in alerts for kind in ("raised", "cleared"))
    critical = {a.id for a in alerts if a.severity == "critical"}
    webhook = Counter((r.body["kind"], r.body["alert_id"]) for r in receiver.requests)
    assert webhook == Counter(k for k in events if k[1] in critical) and len(critical) == 1  # the agency: one fault, one alert
    mqtt = Counter((m["kind"], m["alert_id"]) for t, m, _ in collector.messages if "/alerts/" in t)
    assert mqtt == events
    assert Counter(r.kind for r in log_rows if r.status == "sent") == Counter(k for k, _ in events)
    # annotations and plant states in InfluxDB; the latest plant state retained on its topic
    assert len(influx_store.select("alert_event", where={"plant": "kotim"})) == 2 * len(alerts)
    states = [p.fields["state"] for p in influx_store.select("plant_state", where={"plant": "kotim"})]
    assert states[:3] == ["preheat", "ready", "burning"]
    published_states = [m for t, m, retained in collector.messages if t == "plants/kotim/state" and not retained]
    assert [m["state"] for m in published_states] == states
    late = MqttCollector(mosquitto.url, "plants/kotim/state", f"late-{tmp_path.name}")
    try:
        (_, document, retained), = wait_until(lambda: late.messages, what="retained plant state")
    finally:
        late.close()
    assert retained and document["state"] == states[-1]


RULES = """
plant: kotim
rules:
  - id: t_secondary_low
    title: Secondary chamber below 1000 degC
    sensors: [t_secondary]
    condition: {kind: threshold, op: "<", value: 1000, recovery_value: 1010}
    tolerance_s: 60
    severity: critical
    category: process
    source: "P.56/2015 Ps.22(1)c"
    message: {raised: "secondary {value:.0f} degC", cleared: "secondary back at {value:.0f} degC"}
"""


def reading(value: float, at_ms: int) -> tuple[str, bytes]:
    return "plants/kotim/sensors/t_secondary", json.dumps({"ts": at_ms, "value": value}).encode()


def test_a_worker_stopped_mid_tolerance_fires_once_and_on_time_after_restart(
    settings_for, catalog, tmp_path, receiver, mosquitto
):  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    settings, alerts = alert_settings(settings_for, tmp_path, receiver, rules_file=rules, tick_interval_s=0.5)
    t0 = (round(datetime.now().timestamp()) - 3600) * 1000
    clock = ManualClock(t0)
    first = AlertsComponent(settings, alerts, catalog, clock=clock)
    first.start()
    try:
        wait_until(first.worker.connected.is_set)
        publish_all(mosquitto.url, [reading(950, t0)], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: first.worker.counts["processed"] == 1)
        clock.now_ms = t0 + 30_000  # half the tolerance
        publish_all(mosquitto.url, [reading(940, t0 + 30_000)], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: first.worker.counts["processed"] == 2)
    finally:
        first.stop()
    db = open_database(settings)
    saved = AlertStore(db).load_states()["kotim/t_secondary_low/t_secondary"][1]
    assert RuleState.model_validate_json(saved).condition_since_ms == t0  # the half-elapsed tolerance is on disk
    assert AlertStore(db).list_alerts() == []
    db.close()

    clock.now_ms = t0 + 45_000
    second = AlertsComponent(settings, alerts, catalog, clock=clock)
    second.start()
    try:
        wait_until(lambda: second.worker.counts["commits"] >= 3, what="ticks after the restart")
        assert second.lifecycle.alerts.list_alerts() == []
        clock.now_ms = t0 + 90_000  # the scheduler's ticks walk the grid through t0 + 60 s
        (alert,) = wait_until(lambda: second.lifecycle.alerts.list_alerts(), what="alert raised")
        assert (alert.raised_at_ms, alert.first_seen_ms) == (t0 + 60_000, t0)
        publish_all(mosquitto.url, [reading(1020, t0 + 90_000)], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: second.worker.counts["processed"] == 1)
        clock.now_ms = t0 + 200_000
        wait_until(lambda: second.lifecycle.alerts.list_alerts(active_only=True) == [], what="cleared")
        wait_until(lambda: len(receiver.requests) == 2, what="webhooks")
        (alert,) = second.lifecycle.alerts.list_alerts()
    finally:
        second.stop()
    assert (alert.cleared_at_ms, alert.occurrences) == (t0 + 150_000, 1)  # recovery tolerance 60 s, too
    assert [(r.body["kind"], r.body["alert_id"]) for r in receiver.requests] == [("raised", alert.id), ("cleared", alert.id)]


def test_a_sensor_flapping_for_an_hour_yields_a_bounded_number_of_messages(
    settings_for, catalog, tmp_path, receiver, mosquitto
):  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    settings, alerts = alert_settings(settings_for, tmp_path, receiver, rules_file=rules, flap_count=4,
                              flap_settle_s=900)
    t0 = (round(datetime.now().timestamp()) - 2 * 3600) * 1000
    # every 10 s for an hour: three minutes below the limit, three minutes above, ten times over
    messages = [reading(950 if (i // 18) % 2 == 0 else 1050, t0 + i * 10_000) for i in range(360)]
    # then 20 minutes steadily above the limit: the flapping has ended
    quiet = [reading(1050, t0 + i * 10_000) for i in range(360, 480)]
    component = AlertsComponent(settings, alerts, catalog, clock=DataClock(), scheduler=False)
    component.start()
    try:
        wait_until(component.worker.connected.is_set)
        publish_all(mosquitto.url, messages, client_id=f"pub-{tmp_path.name}")
        wait_drained(component, len(messages))
        component.worker.tick()  # at the hour's end: still flapping, nothing to settle
        publish_all(mosquitto.url, quiet, client_id=f"pub-{tmp_path.name}")
        wait_drained(component, len(messages) + len(quiet))
        component.worker.tick()  # the time-driven checks at the data clock's now, as the scheduler would
        wait_until(lambda: len(receiver.requests) == 8, what="the settled notice")
        alerts = component.lifecycle.alerts.list_alerts(limit=100)
    finally:
        component.stop()
    assert len(alerts) == 10  # every episode is recorded …
    kinds = [r.body["kind"] for r in receiver.requests]
    # … but only three raise/recovery pairs are sent, then one "flapping" notice, silence, and one
    # "settled" notice once the sensor has stayed on one side for flap_settle_s
    assert kinds == ["raised", "cleared"] * 3 + ["flapping", "settled"]
    assert sum(1 for a in alerts if a.flapping) == 7
    settled = receiver.requests[-1].body
    assert settled["alert_id"] == max(a.id for a in alerts) and settled["active"] is False
    assert "has RECOVERED" in settled["text"]["en"]["body"] and "sudah PULIH" in settled["text"]["id"]["body"]


def test_a_critical_alert_left_unacknowledged_is_escalated_by_the_running_worker(
    settings_for, catalog, tmp_path, receiver, mosquitto
):  # type: ignore[no-untyped-def]
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    smtp = SmtpServer().start()
    settings, alerts = alert_settings(
        settings_for, tmp_path, receiver, rules_file=rules, tick_interval_s=0.2,
        routes="operators=log;agency=webhook;escalation=email", escalation_after_min=1,
        escalation_levels=2, smtp_to=["kepala-dinas@example.org"],
        shared={"smtp": SmtpSettings(host="127.0.0.1", port=smtp.port, starttls=False)},
    )
    t0 = (round(datetime.now().timestamp()) - 3600) * 1000
    clock = ManualClock(t0)
    component = AlertsComponent(settings, alerts, catalog, clock=clock)
    component.start()
    try:
        wait_until(component.worker.connected.is_set)
        publish_all(mosquitto.url, [reading(950, t0)], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: component.worker.counts["processed"] == 1)
        clock.now_ms = t0 + 60_000  # the rule's tolerance: raised
        (alert,) = wait_until(lambda: component.lifecycle.alerts.list_alerts(), what="alert raised")
        clock.now_ms = t0 + 125_000  # one minute unacknowledged: escalation level 1, by e-mail
        wait_until(lambda: len(smtp.messages) == 1, what="escalation e-mail")
        actions.acknowledge(component.db, alert.id, "budi", now_ms=t0 + 130_000)
        clock.now_ms = t0 + 300_000  # acknowledged: no second level
        commits = component.worker.counts["commits"]
        wait_until(lambda: component.worker.counts["commits"] >= commits + 3, what="ticks after the acknowledgement")
        alert = component.lifecycle.alerts.get(alert.id)
        trail = [(t.kind, t.at_ms) for t in component.lifecycle.alerts.transitions(alert.id)]
    finally:
        component.stop()
        smtp.stop()
    assert alert is not None and alert.escalation_level == 1
    mail = email.message_from_bytes(smtp.messages[0][2], policy=email_policy.default)
    assert mail["Subject"].startswith("[ESKALASI · KRITIS] kotim:") and smtp.messages[0][1] == ["kepala-dinas@example.org"]
    assert [r.body["kind"] for r in receiver.requests] == ["raised"]  # the agency's webhook got the raise once
    # escalated at the first tick after the minute was up (the clock stood at t0 + 125 s), once
    assert [k for k, _ in trail] == ["raised", "escalated", "acknowledged"] and trail[1][1] == t0 + 125_000


WORKER_PROCESS = """
import sys, threading
from pathlib import Path
from alerts.service import AlertsComponent
from alerts.settings import AlertSettings
from wastewatch.settings import Settings

clock_file = Path(sys.argv[1])
component = AlertsComponent(Settings(), AlertSettings(), clock=lambda: float(clock_file.read_text()))
component.start()
print("subscribed" if component.worker.connected.wait(30) else "not connected", flush=True)
threading.Event().wait()
"""


@pytest.mark.fault
def test_a_worker_killed_mid_tolerance_fires_once_and_on_time_after_restart(
    settings_for, catalog, tmp_path, receiver, mosquitto
):  # type: ignore[no-untyped-def]
    import os
    import signal
    import subprocess
    import sys

    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    settings, alerts = alert_settings(settings_for, tmp_path, receiver, rules_file=rules, tick_interval_s=0.5)
    t0 = (round(datetime.now().timestamp()) - 3600) * 1000
    clock_file = tmp_path / "clock"
    clock_file.write_text(str(t0 / 1000))
    env = {**os.environ, **{f"WASTEWATCH_{k.upper()}": str(v) for k, v in {
        "mqtt_url": settings.mqtt.url, "data_dir": settings.data_dir, "alerts_rules_file": rules,
        "alerts_client_id": alerts.client_id, "alerts_routes": alerts.routes,
        "alerts_webhook_url": receiver.url, "alerts_webhook_secret": SECRET, "alerts_escalation_after_min": 0,
        "alerts_tick_interval_s": 0.5,
    }.items()}}
    process = subprocess.Popen([sys.executable, "-c", WORKER_PROCESS, str(clock_file)], env=env, stdout=subprocess.PIPE,
                               text=True)
    try:
        db = open_database(settings)
        states = AlertStore(db)

        def saved_value() -> float | None:
            text = states.load_states().get("kotim/t_secondary_low/t_secondary")
            return RuleState.model_validate_json(text[1]).leaves["c"].value if text else None

        assert process.stdout is not None and process.stdout.readline().strip() == "subscribed"
        publish_all(mosquitto.url, [reading(950, t0)], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: saved_value() == 950, what="first reading committed")
        clock_file.write_text(str((t0 + 30_000) / 1000))
        publish_all(mosquitto.url, [reading(940, t0 + 30_000)], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: saved_value() == 940, what="second reading committed")
    finally:
        os.kill(process.pid, signal.SIGKILL)  # no clean shutdown: whatever was not committed is lost
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
    assert states.list_alerts() == []
    publish_all(mosquitto.url, [reading(930, t0 + 40_000)], client_id=f"pub-{tmp_path.name}")  # queued in the session
    clock = ManualClock(t0 + 45_000)
    restarted = AlertsComponent(settings, alerts, catalog, clock=clock)
    restarted.start()
    try:
        wait_until(lambda: restarted.worker.counts["processed"] == 1, what="the message queued while it was down")
        assert states.list_alerts() == []
        clock.now_ms = t0 + 90_000
        (alert,) = wait_until(lambda: states.list_alerts(), what="alert raised")
        wait_until(lambda: len(receiver.requests) == 1, what="webhook")
    finally:
        restarted.stop()
        db.close()
    assert (alert.raised_at_ms, alert.first_seen_ms, alert.value) == (t0 + 60_000, t0, 930)
    assert [(r.body["kind"], r.body["alert_id"]) for r in receiver.requests] == [("raised", alert.id)]
