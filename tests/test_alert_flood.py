"""Flood control never holds back a critical alert: a flood of minor alerts fills a channel's rate
limit and is digested, yet a critical alert (a feed interlock, a cold secondary chamber) is sent at
once in a notification of its own, and goes before minor notifications still waiting to be sent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

from alerts import bundled_rules_path, load_rules
from alerts.lifecycle import Lifecycle, Policy
from alerts.notifiers.log import LogNotifier
from alerts.notifiers.webhook import WebhookNotifier
from alerts.outbox import Outbox
from alerts.routing import parse_routes
from alerts.schema import create_schema
from alerts.sender import OutboxSender, SenderPolicy
from alerts.service import AlertsComponent
from alerts.settings import AlertSettings
from tests.alert_receivers import WebhookReceiver
from tests.helpers import publish_all, wait_until
from tests.test_alert_lifecycle import T0, alert_db_url, raised
from tests.test_alert_worker import SECRET
from wastewatch.plant import PlantCatalog
from wastewatch.relational import connect_url

MINOR_SENSORS = ["co", "nox", "so2", "hcl", "dust", "toc", "o2", "flow"]
FLOOD_RULES = f"""
plant: kotim
rules:
  - id: emission_high
    title: An emission reading above its operating band
    sensors: [{", ".join(MINOR_SENSORS)}]
    condition: {{kind: threshold, op: ">", value: 0.5}}
    tolerance_s: 0
    severity: minor
    category: process
    source: "test"
    message: {{raised: "{{subject}} high {{value:.1f}}", cleared: "{{subject}} back"}}
  - id: t_secondary_low
    title: Secondary chamber below 1000 degC
    sensors: [t_secondary]
    condition: {{kind: threshold, op: "<", value: 1000, recovery_value: 1010}}
    tolerance_s: 0
    severity: critical
    category: process
    source: "P.56/2015 Ps.22(1)c"
    message: {{raised: "secondary {{value:.0f}} degC", cleared: "secondary back at {{value:.0f}} degC"}}
"""


def test_a_flood_of_minor_alerts_never_holds_back_a_critical_one(settings_for, catalog, tmp_path, mosquitto) -> None:  # type: ignore[no-untyped-def]
    receiver = WebhookReceiver(SECRET).start()
    rules = tmp_path / "rules.yaml"
    rules.write_text(FLOOD_RULES)
    settings = settings_for()
    alerts = AlertSettings(
        client_id=f"alerts-{tmp_path.name}", rules_file=rules, routes="operators=webhook",
        webhook_url=receiver.url, webhook_secret=SECRET, escalation_after_min=0,
        rate_limit_count=3, rate_limit_window_s=3600,
    )
    component = AlertsComponent(settings, alerts, catalog, scheduler=False)
    component.start()
    outbox = Outbox(component.db)
    now_ms = round(time.time() * 1000)
    try:
        wait_until(component.worker.connected.is_set, what="alert worker subscribed")
        # the flood: eight minor alerts, five more than the channel's rate limit lets through
        flood = [(f"plants/kotim/sensors/{s}", json.dumps({"ts": now_ms, "value": 1.0}).encode()) for s in MINOR_SENSORS]
        publish_all(mosquitto.url, flood, client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: len([r for r in outbox.rows(channel="webhook") if r.status != "pending"]) == 8, timeout_s=30,
                   what="the flood sent or held back")
        assert [r.status for r in outbox.rows(channel="webhook")] == ["sent"] * 3 + ["suppressed"] * 5
        # then the critical alert, while the rate limit's window is still full
        critical = ("plants/kotim/sensors/t_secondary", json.dumps({"ts": now_ms + 1000, "value": 900.0}).encode())
        publish_all(mosquitto.url, [critical], client_id=f"pub-{tmp_path.name}")
        row = wait_until(lambda: next((r for r in outbox.rows(channel="webhook")
                                       if r.payload.get("rule") == "t_secondary_low" and r.status != "pending"), None),
                         timeout_s=30, what="the critical alert's notification handled")
        assert row.status == "sent"  # not "suppressed" into a later digest
        arrived = wait_until(lambda: [r for r in receiver.accepted if r.body.get("rule") == "t_secondary_low"],
                             what="the critical alert at the receiver")
    finally:
        component.stop()
        receiver.stop()
    (notice,) = arrived
    assert (notice.body["kind"], notice.body["severity"], notice.body["subject"]) == ("raised", "critical", "t_secondary")
    assert [r.body["kind"] for r in receiver.accepted] == ["raised"] * 4  # three minors and the critical; no digest yet
    assert [r.body["severity"] for r in receiver.accepted] == ["minor"] * 3 + ["critical"]


@pytest.fixture
def gated() -> Iterator[WebhookReceiver]:
    """A slow agency endpoint: it holds the first request until the test lets it go."""
    hold = threading.Event()
    receiver = WebhookReceiver(SECRET, hold_first=hold).start()
    yield receiver
    hold.set()
    receiver.stop()


def test_a_critical_alert_goes_before_minor_notifications_still_queued(alert_db_url, catalog: PlantCatalog, gated) -> None:  # type: ignore[no-untyped-def]
    db = connect_url(alert_db_url)
    create_schema(db)
    rules = load_rules(bundled_rules_path("kotim"), catalog.get("kotim")).rules
    routes = parse_routes("operators=webhook", ["regulatory"], ["webhook", "log"])
    lifecycle = Lifecycle(db, routes, rules, catalog, Policy(flap_count=100), annotate=False)
    sender_db = connect_url(alert_db_url)
    sender = OutboxSender(sender_db, {"webhook": WebhookNotifier(gated.url, SECRET, timeout_s=30), "log": LogNotifier()},
                          SenderPolicy(retry_base_s=0.02, retry_max_s=0.1, rate_limit_count=100))
    try:
        with db.transaction():
            for i, sensor in enumerate(MINOR_SENSORS[:5]):
                lifecycle.apply(raised(T0 + i, rule="flatline", subject=sensor, severity="minor", category="data_quality"))
        sender.start()
        wait_until(lambda: gated.arrivals, what="the first minor notification at the (slow) receiver")
        with db.transaction():  # while the receiver still holds the first minor notification
            lifecycle.apply(raised(T0 + 10, rule="feed_interlock", subject="feed", category="interlock"))
        sender.wake()  # what the worker does after each commit
        wait_until(lambda: len(Outbox(db).rows(channel="webhook")) == 6, what="six rows")
        gated.hold_first.set()  # type: ignore[union-attr]
        wait_until(lambda: len(gated.accepted) == 6, what="all six delivered")
    finally:
        sender.stop()
        db.close()
        sender_db.close()
    order = [r.body["rule"] for r in gated.accepted]
    assert order[:2] == ["flatline", "feed_interlock"], order  # the critical one right after the one in flight
