"""Each notification channel against a real local endpoint: webhook (signed), SMTP, MQTT, the log."""

from __future__ import annotations

import email
import logging
import time
from email import policy
from pathlib import Path

import pytest

from alerts.notifiers import Notification, NotifierError
from alerts.notifiers.email import EmailNotifier
from alerts.notifiers.log import LogNotifier
from alerts.notifiers.mqtt import MqttNotifier
from alerts.notifiers.webhook import WebhookNotifier, sign, verify_signature
from tests.alert_receivers import MqttCollector, SmtpServer, WebhookReceiver, receiver_verifies, self_signed_tls
from tests.helpers import wait_until
from tests.servers import MosquittoServer, free_port
from wastewatch.settings import parse_mqtt_url

SECRET = "s3cret-shared-with-the-agency-32-bytes+"


def notification(key: str = "ww-t1-webhook", kind: str = "raised") -> Notification:
    payload = {
        "kind": kind, "alert_id": 1, "plant": "kotim", "rule": "t_secondary_low", "subject": "t_secondary",
        "severity": "critical", "value": 950.0, "limit": 1000.0, "unit": "°C", "language": "id",
        "text": {"id": {"subject": "[ALARM · KRITIS] kotim: suhu sekunder", "body": "Nilai terukur: 950 °C"},
                 "en": {"subject": "[ALERT · CRITICAL] kotim: secondary temperature", "body": "Measured: 950 °C"}},
    }
    return Notification(1, key, "webhook", kind, payload)


@pytest.fixture
def receiver():
    server = WebhookReceiver(SECRET).start()
    yield server
    server.stop()


def test_a_receiver_verifies_the_webhook_as_the_readme_describes(receiver: WebhookReceiver) -> None:
    notifier = WebhookNotifier(receiver.url, SECRET)
    receipt = notifier.send(notification())
    notifier.close()
    assert receipt.detail == "HTTP 200"
    (got,) = receiver.accepted
    assert got.verified and got.key == "ww-t1-webhook" and got.body["idempotency_key"] == "ww-t1-webhook"
    assert got.body["value"] == 950.0 and got.body["text"]["id"]["subject"].startswith("[ALARM")


def test_verify_signature_refuses_a_changed_body_a_wrong_secret_and_an_old_timestamp() -> None:
    body = notification().body_json()
    now = int(time.time())
    key = "ww-t1-webhook"
    good = sign(SECRET.encode(), str(now), key, body)
    assert verify_signature(SECRET, str(now), key, body, good)
    assert receiver_verifies(SECRET, str(now), key, body, good)  # our helper and the README's stdlib recipe agree
    assert not verify_signature(SECRET, str(now), key, body.replace(b"950", b"1050"), good)
    assert not verify_signature("another secret of thirty-two bytes..", str(now), key, body, good)
    old = str(now - 3600)
    assert not verify_signature(SECRET, old, key, body, sign(SECRET.encode(), old, key, body), max_age_s=300)
    assert not verify_signature(SECRET, "not-a-number", key, body, good)


def test_a_4xx_is_permanent_and_a_5xx_or_refused_connection_is_retried(receiver: WebhookReceiver) -> None:
    notifier = WebhookNotifier(receiver.url, SECRET, timeout_s=2)
    receiver.status = 400
    with pytest.raises(NotifierError) as bad_request:
        notifier.send(notification())
    receiver.status = 503
    with pytest.raises(NotifierError) as unavailable:
        notifier.send(notification())
    assert not bad_request.value.retryable and unavailable.value.retryable
    with pytest.raises(NotifierError) as refused:
        WebhookNotifier(f"http://127.0.0.1:{free_port()}/hook", SECRET, timeout_s=2).send(notification())
    assert refused.value.retryable
    # signed with the wrong secret: the receiver answers 401, which is permanent
    with pytest.raises(NotifierError) as unauthorized:
        WebhookNotifier(receiver.url, "a wrong secret, though 32 bytes long").send(notification())
    assert not unauthorized.value.retryable
    notifier.close()


def test_a_webhook_without_a_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        WebhookNotifier("http://127.0.0.1:1/hook", "")


def test_email_over_starttls_with_login_carries_both_languages(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed_tls(tmp_path)
    smtp = SmtpServer(tls_context=server_tls, login=("alerts", "pw")).start()
    try:
        notifier = EmailNotifier("127.0.0.1", smtp.port, "wastewatch@kotim.example", ["dlh@kotim.example"],
                                 starttls=True, user="alerts", password="pw", tls_context=client_tls)
        receipt = notifier.send(notification("ww-t1-email"))
        assert receipt.detail.startswith("accepted")
        (sender, recipients, raw), = smtp.messages
        message = email.message_from_bytes(raw, policy=policy.default)
        assert (sender, recipients) == ("wastewatch@kotim.example", ["dlh@kotim.example"])
        assert message["Subject"] == "[ALARM · KRITIS] kotim: suhu sekunder"
        assert message["Message-ID"] == "<ww-t1-email@wastewatch>"
        body = message.get_content()
        assert "Nilai terukur: 950 °C" in body and "Measured: 950 °C" in body
        with pytest.raises(NotifierError) as refused_login:
            EmailNotifier("127.0.0.1", smtp.port, "a@b", ["c@d"], user="alerts", password="wrong",
                          tls_context=client_tls).send(notification())
        assert not refused_login.value.retryable
    finally:
        smtp.stop()


def test_email_to_a_server_that_is_down_is_retried() -> None:
    notifier = EmailNotifier("127.0.0.1", free_port(), "a@b", ["c@d"], starttls=False, timeout_s=2)
    with pytest.raises(NotifierError) as down:
        notifier.send(notification())
    assert down.value.retryable


def test_mqtt_notification_arrives_on_the_alert_topic(mosquitto: MosquittoServer) -> None:
    collector = MqttCollector(mosquitto.url, "plants/+/alerts/#", "test-alert-collector")
    notifier = MqttNotifier(parse_mqtt_url(mosquitto.url), "test-alert-notifier")
    try:
        receipt = notifier.send(notification("ww-t1-mqtt"))
        assert receipt.detail.startswith("mid")
        wait_until(lambda: collector.messages, what="alert on MQTT")
        topic, document, _ = collector.messages[0]
        assert topic == "plants/kotim/alerts/t_secondary_low/t_secondary"
        assert document["idempotency_key"] == "ww-t1-mqtt" and document["severity"] == "critical"
    finally:
        notifier.close()
        collector.close()


def test_the_log_channel_writes_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="wastewatch.alerts.notifications"):
        LogNotifier().send(notification("ww-t1-log"))
    assert [r.getMessage() for r in caplog.records] == ["[ALARM · KRITIS] kotim: suhu sekunder key=ww-t1-log"]
