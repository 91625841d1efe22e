"""Alerts on the phone: the Telegram and WhatsApp channels against local stand-ins of the Bot API
and the Cloud API (tests/phone_standins.py), through the running alert worker: delivery once, retry
on 5xx, a rate limit's retry_after waited out, failover along the route, the services' limits kept;
the Telegram Acknowledge button acknowledges through the lifecycle under the mapped name, and an
unknown Telegram user cannot; hostile updates never stop the button's poller."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.lifecycle import Lifecycle
from alerts.notifiers import Notification
from alerts.notifiers.registry import build_notifiers
from alerts.notifiers.telegram import TelegramApi, TelegramNotifier, chat_interval_s
from alerts.notifiers.whatsapp import WhatsAppNotifier
from alerts.outbox import Outbox
from alerts.schema import open_database
from alerts.service import AlertsComponent
from alerts.settings import AlertSettings
from alerts.store import AlertStore
from alerts.telegram_acks import TelegramAcks
from tests.conftest import SettingsFor
from tests.helpers import hostile_examples, publish_all, wait_until
from tests.phone_standins import Scripted, TelegramStandin, WhatsAppStandin
from tests.servers import MosquittoServer
from tests.test_alert_lifecycle import T0, alert_db_url, apply, db, lifecycle, raised
from tests.test_alert_worker import RULES, ManualClock, reading
from wastewatch.plant import PlantCatalog
from wastewatch.relational import Database
from wastewatch.settings import Settings, SettingsError

TOKEN = "123456:standin-bot-token"
OFFICER, GROUP, STRANGER = "111", "-100200", 999
WA_TOKEN, WA_PHONE_ID, WA_TO = "wa-standin-token", "1098765", "6281234567890"


@pytest.fixture
def telegram() -> Iterator[TelegramStandin]:
    server = TelegramStandin(TOKEN, [OFFICER, GROUP]).start()
    yield server
    server.stop()


@pytest.fixture
def whatsapp() -> Iterator[WhatsAppStandin]:
    server = WhatsAppStandin(WA_TOKEN, WA_PHONE_ID, "wastewatch_alert", "id", [WA_TO]).start()
    yield server
    server.stop()


def phone_settings(telegram: TelegramStandin, whatsapp: WhatsAppStandin, **extra: object) -> dict[str, object]:
    return {
        "telegram_token": TOKEN, "telegram_chat_ids": [OFFICER], "telegram_users": [f"{OFFICER}=budi"],
        "telegram_api_url": telegram.api_url, "whatsapp_token": WA_TOKEN, "whatsapp_phone_number_id": WA_PHONE_ID,
        "whatsapp_to": [WA_TO], "whatsapp_api_url": whatsapp.api_url, **extra,
    }


def run_worker(
    settings_for: SettingsFor, tmp_path: Path, mosquitto: MosquittoServer, catalog: PlantCatalog, routes: str,
    values: dict[str, object], *, raise_it: bool = True,
) -> tuple[AlertsComponent, ManualClock, int]:
    """The alert worker with the one-rule file (secondary chamber below 1000 °C for 60 s) and a
    manual clock, after one cold reading and (with `raise_it`) the tolerance: the critical alert
    raised at the next tick; without, the caller sets `clock.now_ms = t0 + 60_000` for it."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    alerts = AlertSettings(**{"client_id": f"alerts-{tmp_path.name}", "routes": routes, "rules_file": rules,  # type: ignore[arg-type]
                              "escalation_after_min": 0, "retry_base_s": 0.05, "tick_interval_s": 0.2, **values})
    t0 = (round(datetime.now().timestamp()) - 3600) * 1000
    clock = ManualClock(t0)
    component = AlertsComponent(settings_for(), alerts, catalog, clock=clock)
    component.start()
    wait_until(component.worker.connected.is_set)
    publish_all(mosquitto.url, [reading(950, t0)], client_id=f"pub-{tmp_path.name}")
    # the cold reading is in the rule's state (the session broker may also hand over other tests' retained messages)
    wait_until(lambda: getattr(component.worker.engine.states.get("kotim/t_secondary_low/t_secondary"), "condition_since_ms", None)
               == t0, what="the cold reading evaluated")
    if raise_it:
        clock.now_ms = t0 + 60_000
    return component, clock, t0


def delivered(component: AlertsComponent, channel: str) -> list[Any]:
    """The channel's outbox rows, once none is pending."""
    outbox = Outbox(component.db)
    wait_until(lambda: outbox.rows(channel=channel) and "pending" not in {r.status for r in outbox.rows(channel=channel)},
               timeout_s=30, what=f"{channel} delivered")
    return outbox.rows(channel=channel)


def attempts(component: AlertsComponent, row_id: int) -> list[str]:
    return [d.receipt for d in Outbox(component.db).deliveries(row_id)]


def test_telegram_delivers_once_after_a_5xx_and_the_button_acknowledges_only_for_a_mapped_user(
    settings_for, tmp_path, mosquitto, catalog, telegram, whatsapp
):  # type: ignore[no-untyped-def]
    telegram.answer_next("sendMessage", Scripted(502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}))
    component, _, _ = run_worker(settings_for, tmp_path, mosquitto, catalog, "operators=log;agency=telegram",
                                      phone_settings(telegram, whatsapp))
    try:
        (row,) = delivered(component, "telegram")
        (alert,) = component.lifecycle.alerts.list_alerts()
        (sent,) = [body for _, _, body in telegram.sent]
        message_id = 1
        stranger = telegram.press(STRANGER, f"ack:{alert.id}", OFFICER, message_id)
        wait_until(lambda: telegram.answer_to(stranger), what="the stranger answered")
        still_open = AlertStore(component.db).get(alert.id)
        officer = telegram.press(int(OFFICER), f"ack:{alert.id}", OFFICER, message_id)
        wait_until(lambda: telegram.answer_to(officer), what="the officer answered")
        again = telegram.press(int(OFFICER), f"ack:{alert.id}", OFFICER, message_id)
        wait_until(lambda: telegram.answer_to(again), what="the second press answered")
        acked = AlertStore(component.db).get(alert.id)
        trail = [(t.kind, t.actor) for t in component.lifecycle.alerts.transitions(alert.id)]
        receipts = attempts(component, row.id)
    finally:
        component.stop()
    assert row.status == "sent" and len(receipts) == 2 and "HTTP 502" in receipts[0]
    assert sent["chat_id"] == OFFICER and sent["text"].startswith("[ALARM · KRITIS] kotim")
    assert sent["reply_markup"]["inline_keyboard"][0][0] == {"text": "Akui", "callback_data": f"ack:{alert.id}"}
    assert still_open is not None and not still_open.acknowledged
    assert "tidak berwenang" in (telegram.answer_to(stranger) or "")
    assert acked is not None and acked.ack_by == "budi"
    assert ("acknowledged", "budi") in trail and trail.count(("acknowledged", "budi")) == 1
    assert "budi" in (telegram.answer_to(officer) or "") and "sudah diakui oleh budi" in (telegram.answer_to(again) or "")
    assert [e["message_id"] for e in telegram.edits] == [message_id]  # the button removed once, after the acknowledgement
    assert telegram.violations == []


def test_a_telegram_rate_limit_is_waited_out_and_a_refusing_chat_fails_over_to_whatsapp(
    settings_for, tmp_path, mosquitto, catalog, telegram, whatsapp
):  # type: ignore[no-untyped-def]
    """429 retry_after=2 on the first send: the retry (whose back-off is 50 ms) waits the 2 s. Then a
    chat the bot was removed from (400, permanent) fails the route over to WhatsApp at once, which
    is retried after a 503 and delivered once."""
    telegram.refuse_until(OFFICER, 2)
    component, clock, t0 = run_worker(settings_for, tmp_path, mosquitto, catalog, "operators=log;agency=telegram>whatsapp",
                                      phone_settings(telegram, whatsapp))
    try:
        (row,) = delivered(component, "telegram")
        receipts = attempts(component, row.id)
        telegram.chats.discard(OFFICER)  # the bot is removed from the chat
        whatsapp.answer_next("messages", Scripted(503, {"error": {"code": 131000, "message": "Something went wrong"}}))
        publish_all(mosquitto.url, [reading(1020, t0 + 61_000)], client_id=f"pub-{tmp_path.name}")
        # the recovery is timed from the worker's clock when the reading is evaluated: moving the clock
        # before that would start the recovery at t0 + 125 s, and it would never last its tolerance
        wait_until(lambda: getattr(component.worker.engine.states.get("kotim/t_secondary_low/t_secondary"), "recovery_since_ms", None)
                   is not None, what="the recovery reading evaluated")
        clock.now_ms = t0 + 125_000  # recovered for the recovery tolerance: cleared
        rows = wait_until(lambda: [r for r in Outbox(component.db).rows() if r.kind == "cleared" and r.status == "sent"
                                   and r.channel == "whatsapp"], timeout_s=90, what="the clearance over WhatsApp")
        failed_over = [r for r in Outbox(component.db).rows(channel="telegram") if r.kind == "cleared"]
        wa_receipts = attempts(component, rows[0].id)
        failed_over_receipts = [r for row in failed_over for r in attempts(component, row.id)]
    finally:
        component.stop()
    assert row.status == "sent" and "HTTP 429" in receipts[0] and len(receipts) == 2
    assert telegram.violations == []  # the retry came after retry_after
    assert [r.status for r in failed_over] == ["failed_over"] and "chat not found" in failed_over_receipts[0]
    (sent,) = whatsapp.sent
    assert sent[1] == WA_TO and sent[2][0].startswith("[PULIH") and sent[2][1].endswith(f"/alerts/{row.alert_id}")
    assert "HTTP 503" in wa_receipts[0] and "wamid." in wa_receipts[-1] and whatsapp.violations == []


def test_the_telegram_channel_keeps_each_chats_limit_and_a_retry_reaches_only_the_chat_it_missed(telegram) -> None:  # type: ignore[no-untyped-def]
    notifier = TelegramNotifier(TelegramApi(telegram.api_url, TOKEN), [OFFICER, GROUP])
    telegram.answer_next("sendMessage", Scripted(500, {"ok": False, "error_code": 500, "description": "Internal"},
                                                 when=lambda body: str(body.get("chat_id")) == GROUP))
    try:
        first = notification(1)
        with pytest.raises(Exception, match="HTTP 500") as failed:
            notifier.send(first)
        receipt = notifier.send(first)  # the retry: only the group
        notifier.send(notification(2))
    finally:
        notifier.close()
    assert getattr(failed.value, "retryable", False) and "reached 1 of 2" in str(failed.value)
    per_chat = {chat: [body["text"] for _, c, body in telegram.sent if c == chat] for chat in (OFFICER, GROUP)}
    assert per_chat[OFFICER] == per_chat[GROUP] and len(per_chat[OFFICER]) == 2  # each chat got each message once
    assert GROUP in receipt.detail and OFFICER in receipt.detail
    assert telegram.violations == [] and chat_interval_s(GROUP) > chat_interval_s(OFFICER)


def notification(n: int, subject: str = "[ALARM · KRITIS] kotim: suhu sekunder") -> Notification:
    payload = {"kind": "raised", "alert_id": n, "plant": "kotim", "language": "id", "link": f"http://localhost:8000/alerts/{n}",
               "text": {"id": {"subject": subject, "body": "Nilai terukur: 950 °C"}}}
    return Notification(n, f"ww-t{n}-phone", "telegram", "raised", payload)


def test_whatsapp_keeps_six_seconds_between_messages_to_one_number(whatsapp) -> None:  # type: ignore[no-untyped-def]
    notifier = WhatsAppNotifier(whatsapp.api_url, WA_TOKEN, WA_PHONE_ID, [WA_TO], template="wastewatch_alert", language_code="id")
    try:
        receipts = [notifier.send(notification(n)).detail for n in (1, 2)]
    finally:
        notifier.close()
    assert [texts for _, _, texts in whatsapp.sent] == [["[ALARM · KRITIS] kotim: suhu sekunder", f"http://localhost:8000/alerts/{n}"]
                                                       for n in (1, 2)]
    assert whatsapp.violations == [] and all("wamid." in r for r in receipts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=1500))
def test_any_headline_is_a_template_parameter_whatsapp_accepts(whatsapp, headline: str) -> None:  # type: ignore[no-untyped-def]
    whatsapp.numbers = {f"62812{n:08d}" for n in range(10_000)} if len(whatsapp.numbers) == 1 else whatsapp.numbers
    to = f"62812{len(whatsapp.sent):08d}"  # a new number each time: no pair limit to wait for
    notifier = WhatsAppNotifier(whatsapp.api_url, WA_TOKEN, WA_PHONE_ID, [to], template="wastewatch_alert", language_code="id")
    try:
        notifier.send(notification(1, subject=headline))
    finally:
        notifier.close()


def test_half_a_phone_configuration_is_refused_naming_the_setting() -> None:
    cases = [
        ({"telegram_token": TOKEN}, "WASTEWATCH_ALERTS_TELEGRAM_CHAT_IDS"),
        ({"telegram_chat_ids": [OFFICER]}, "WASTEWATCH_ALERTS_TELEGRAM_TOKEN"),
        ({"telegram_token": TOKEN, "telegram_chat_ids": ["general"]}, "WASTEWATCH_ALERTS_TELEGRAM_CHAT_IDS"),
        ({"telegram_token": TOKEN, "telegram_chat_ids": [OFFICER], "telegram_users": ["budi"]}, "WASTEWATCH_ALERTS_TELEGRAM_USERS"),
        ({"whatsapp_token": WA_TOKEN, "whatsapp_to": [WA_TO]}, "WASTEWATCH_ALERTS_WHATSAPP_PHONE_NUMBER_ID"),
        ({"whatsapp_token": WA_TOKEN, "whatsapp_phone_number_id": WA_PHONE_ID, "whatsapp_to": ["+62 812"]}, "WASTEWATCH_ALERTS_WHATSAPP_TO"),
    ]
    for values, setting in cases:
        with pytest.raises(SettingsError, match=setting):
            build_notifiers(Settings(), AlertSettings(**values), None)  # type: ignore[arg-type]


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=12)
QUERY = st.fixed_dictionaries({}, optional={
    "id": st.text(max_size=8) | JSON, "from": st.fixed_dictionaries({}, optional={"id": st.integers() | JSON}) | JSON,
    "data": st.from_regex(r"ack:-?[0-9]{0,20}", fullmatch=True) | st.text(max_size=30) | JSON,
    "message": st.fixed_dictionaries({}, optional={"message_id": JSON, "chat": st.fixed_dictionaries(
        {}, optional={"id": JSON})}) | JSON,
})
UPDATE = JSON | st.fixed_dictionaries({}, optional={"update_id": st.integers() | JSON, "callback_query": QUERY | JSON})


@pytest.mark.parametrize("alert_db_url", ["sqlite"], indirect=True)  # the updates' parsing, not the database, is under test
def test_hostile_updates_never_stop_the_button_poller_and_a_real_press_still_acknowledges(
    telegram: TelegramStandin, db: Database, lifecycle: Lifecycle,
) -> None:
    (change,) = apply(lifecycle, raised(T0))
    acks = TelegramAcks(TelegramApi(telegram.api_url, TOKEN), {int(OFFICER): "budi", 0: "nobody"}, db, poll_timeout_s=0)

    @settings(max_examples=hostile_examples(150), deadline=None)
    @given(st.lists(UPDATE, min_size=1, max_size=5))
    def batch(updates: list[Any]) -> None:
        for update in updates:
            telegram.push_update(update)
        acks.run_once(timeout_s=0)  # a hostile batch is handled or skipped, never raised

    try:
        batch()
        if (alert := AlertStore(db).get(change.alert.id)) is not None and alert.acknowledged:
            pytest.skip("a generated press acknowledged the alert")  # vanishingly rare: only with user 111 and its id
        press = telegram.press(int(OFFICER), f"ack:{change.alert.id}", OFFICER, 5)
        wait_until(lambda: acks.run_once(timeout_s=0) >= 0 and telegram.answer_to(press), what="the press answered")
    finally:
        acks.api.close()
    alert = AlertStore(db).get(change.alert.id)
    assert alert is not None and alert.ack_by == "budi" and acks.counts["updates"] > 150


WORKER_ENV = {
    "WASTEWATCH_ALERTS_ROUTES": "operators=log;agency=telegram,whatsapp", "WASTEWATCH_ALERTS_CLOCK": "data",
    "WASTEWATCH_ALERTS_ESCALATION_AFTER_MIN": "0", "WASTEWATCH_ALERTS_TELEGRAM_TOKEN": TOKEN,
    "WASTEWATCH_ALERTS_TELEGRAM_CHAT_IDS": OFFICER, "WASTEWATCH_ALERTS_TELEGRAM_USERS": f"{OFFICER}=budi,222=sari",
    "WASTEWATCH_ALERTS_WHATSAPP_TOKEN": WA_TOKEN, "WASTEWATCH_ALERTS_WHATSAPP_PHONE_NUMBER_ID": WA_PHONE_ID,
    "WASTEWATCH_ALERTS_WHATSAPP_TO": WA_TO,
}


def test_wastewatch_alerts_sends_to_both_phones_and_takes_the_acknowledgement_from_telegram(
    tmp_path: Path, mosquitto: MosquittoServer, telegram: TelegramStandin, whatsapp: WhatsAppStandin,
) -> None:
    """The process a user runs, configured by the environment only."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WASTEWATCH_")}
    env = {**clean, **WORKER_ENV, "WASTEWATCH_MQTT_URL": mosquitto.url, "WASTEWATCH_DATA_DIR": str(tmp_path / "data"),
           "WASTEWATCH_ALERTS_RULES_FILE": str(rules), "WASTEWATCH_ALERTS_CLIENT_ID": f"alerts-{tmp_path.name}",
           "WASTEWATCH_ALERTS_TELEGRAM_API_URL": telegram.api_url, "WASTEWATCH_ALERTS_WHATSAPP_API_URL": whatsapp.api_url}
    process = subprocess.Popen([sys.executable, "-m", "launch.cli", "alerts"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    t0 = (round(datetime.now().timestamp()) - 3600) * 1000
    try:
        wait_until(lambda: telegram.polls > 0, timeout_s=30, what="the worker polling Telegram")
        payloads = [("plants/kotim/sensors/t_secondary", json.dumps({"ts": t0 + s * 1000, "value": 950}).encode())
                    for s in range(0, 75, 5)]
        wait_until(lambda: publish_all(mosquitto.url, payloads, client_id=f"pub-{tmp_path.name}") or telegram.sent,
                   timeout_s=30, what="the alert on Telegram")  # published again until the worker has subscribed
        wait_until(lambda: whatsapp.sent, timeout_s=30, what="the alert on WhatsApp")
        (sent,) = [body for _, _, body in telegram.sent]
        alert_id = int(sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"].removeprefix("ack:"))
        press = telegram.press(222, f"ack:{alert_id}", OFFICER, 1)
        wait_until(lambda: telegram.answer_to(press), timeout_s=30, what="the press answered")
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    database = open_database(Settings(data_dir=tmp_path / "data"))
    try:
        alert = AlertStore(database).get(alert_id)
    finally:
        database.close()
    assert process.returncode == 0, output
    assert alert is not None and alert.ack_by == "sari"
    assert len(whatsapp.sent) == 1 and whatsapp.sent[0][2][1].endswith(f"/alerts/{alert_id}")
    assert "Diakui sebagai sari" in (telegram.answer_to(press) or "")
