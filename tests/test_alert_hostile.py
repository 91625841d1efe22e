"""Hostile messages on the alert worker's feed (a lone surrogate, invalid UTF-8, a payload far over
the limit, deep nesting) cost at most themselves: the running worker acknowledges them, keeps its
network loop and its processing thread, and raises the next real alert as usual."""

from __future__ import annotations

import json
import time

from alerts.outbox import Outbox
from alerts.service import AlertsComponent
from alerts.settings import AlertSettings
from tests.alert_receivers import WebhookReceiver
from tests.helpers import publish_all, wait_until
from tests.test_alert_worker import SECRET
from wastewatch.settings import DecodeSettings


def batch(batch_id: str, ts_ms: int) -> bytes:
    """A batch message; `batch_id` is inserted as raw JSON text, so it can hold escapes json.dumps would not write."""
    return (f'{{"ts": {ts_ms}, "batch_id": "{batch_id}", "source": "rsud-murjani", "mass_kg": 15}}').encode()


def test_hostile_messages_never_stop_the_alert_worker(settings_for, catalog, tmp_path, mosquitto) -> None:  # type: ignore[no-untyped-def]
    receiver = WebhookReceiver(SECRET).start()
    settings = settings_for()
    alerts = AlertSettings(
        client_id=f"alerts-{tmp_path.name}", routes="operators=log;agency=webhook",
        webhook_url=receiver.url, webhook_secret=SECRET, escalation_after_min=0,
    )
    component = AlertsComponent(settings, alerts, catalog, scheduler=False)
    component.start()
    now_ms = round(time.time() * 1000)
    # a cold plant first: the worker seeds its state from the signals (a batch seen first would be a
    # plant already running, whose temperatures it does not know yet)
    cold = ("plants/kotim/telemetry", json.dumps({"ts": now_ms - 10, "values": {
        "t_primary": 40, "t_secondary": 40, "burner_primary": 0, "burner_secondary": 0, "id_fan": 0}}).encode())
    hostile = [
        # a batch fed into a cold plant (a feed interlock) whose id is a lone surrogate: text no database stores
        ("plants/kotim/batches", batch("\\ud800", now_ms)),
        ("plants/kotim/batches", batch("b-\\udfff-\\u0000", now_ms + 1)),
        ("plants/kotim/sensors/t_secondary", b'{"ts": %d, "value": 900, "status": "\\ud800"}' % now_ms),
        ("plants/kotim/sensors/t_secondary", b"\xff\xfe{not utf-8"),
        ("plants/kotim/sensors/t_secondary", b"[" * 100_000),
        ("plants/kotim/telemetry", json.dumps({"ts": now_ms, "values": {"t_secondary": 900}, "pad": "x" * 2_000_000}).encode()),
        ("plants/kotim/status/cems", "\udcff".encode("utf-8", "surrogatepass")),
    ]
    good = ("plants/kotim/batches", batch("b-good", now_ms + 2))
    try:
        wait_until(component.worker.connected.is_set, what="alert worker subscribed")
        publish_all(mosquitto.url, [cold, *hostile, good], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: component.worker.counts["processed"] == len(hostile) + 2, timeout_s=30,
                   what="every message processed, the hostile ones too")
        wait_until(lambda: component.worker.counts["acked"] == len(hostile) + 2, timeout_s=30, what="every message acknowledged")
        (alert,) = wait_until(lambda: [a for a in component.lifecycle.alerts.list_alerts() if a.rule_id == "feed_interlock"],
                              timeout_s=30, what="the feed interlock raised")
        wait_until(lambda: receiver.accepted, timeout_s=30, what="the agency's notification")
        outbox = Outbox(component.db)
        wait_until(lambda: "pending" not in outbox.counts(), timeout_s=30, what="outbox drained")
        assert component.worker._thread.is_alive()
    finally:
        component.stop()
        receiver.stop()
    assert alert.severity == "critical" and alert.active
    assert [r.body["rule"] for r in receiver.accepted] == ["feed_interlock"]
    json.dumps(receiver.accepted[0].body, ensure_ascii=False).encode("utf-8")  # valid UTF-8 all the way to the agency


def test_the_alert_worker_judges_the_batches_the_ingest_stores(settings_for, catalog, tmp_path, mosquitto) -> None:  # type: ignore[no-untyped-def]
    """With WASTEWATCH_INGEST_UNKNOWN_FACILITY=accept the ingest stores a batch from an unlisted facility:
    fed into a cold plant, it must raise the feed interlock like any other batch, not be skipped."""
    settings = settings_for(decode=DecodeSettings(unknown_facility="accept"))
    alerts = AlertSettings(client_id=f"alerts-{tmp_path.name}", routes="operators=log")
    component = AlertsComponent(settings, alerts, catalog, scheduler=False)
    component.start()
    now_ms = round(time.time() * 1000)
    cold = ("plants/kotim/telemetry", json.dumps({"ts": now_ms - 10, "values": {
        "t_primary": 40, "t_secondary": 40, "burner_primary": 0, "burner_secondary": 0, "id_fan": 0}}).encode())
    unlisted = ("plants/kotim/batches", json.dumps(
        {"ts": now_ms, "batch_id": "b-unlisted", "source": "klinik-baru", "mass_kg": 15}).encode())
    try:
        wait_until(component.worker.connected.is_set, what="alert worker subscribed")
        publish_all(mosquitto.url, [cold, unlisted], client_id=f"pub-{tmp_path.name}")
        wait_until(lambda: [a for a in component.lifecycle.alerts.list_alerts() if a.rule_id == "feed_interlock"],
                   timeout_s=30, what="the feed interlock raised for the unlisted facility's batch")
    finally:
        component.stop()
