"""The webhook's signature covers the timestamp and the idempotency key, not only the body; a webhook
over plain http (other than to this machine) or with a short secret is refused at start-up."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from alerts.notifiers import Notification
from alerts.notifiers.registry import build_notifiers
from alerts.notifiers.webhook import IDEMPOTENCY_HEADER, WebhookNotifier, sign, verify_signature
from alerts.settings import AlertSettings
from tests.alert_receivers import WebhookReceiver
from wastewatch.settings import Settings, SettingsError

SECRET = "a-webhook-secret-of-at-least-32-bytes"


def notification(key: str) -> Notification:
    payload = {"kind": "raised", "alert_id": 7, "plant": "kotim", "rule": "feed_interlock", "subject": "feed",
               "severity": "critical", "language": "en", "text": {"en": {"subject": "feed interlock", "body": "fed cold"}}}
    return Notification(7, key, "webhook", "raised", payload)


class Recorder(httpx.BaseTransport):
    """Keeps the request the notifier would send (no network), answering 200."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return httpx.Response(200)


def test_the_signature_covers_the_idempotency_key_and_the_timestamp() -> None:
    recorder = Recorder()
    WebhookNotifier("https://agency.example/hook", SECRET, transport=recorder).send(notification("ww-t7-webhook"))
    (request,) = recorder.requests
    ts, key, sig = (request.headers[h] for h in ("X-Wastewatch-Timestamp", IDEMPOTENCY_HEADER, "X-Wastewatch-Signature"))
    body = request.content
    assert verify_signature(SECRET, ts, key, body, sig)
    # the signed string, exactly as the module docstring and the README give it
    assert sig == hmac.new(SECRET.encode(), f"{ts}.{key}.".encode() + body, hashlib.sha256).hexdigest()
    assert not verify_signature(SECRET, ts, "ww-t8-webhook", body, sig)  # another key, same signature
    assert not verify_signature(SECRET, str(int(ts) + 1), key, body, sig)  # another timestamp
    assert sign(SECRET.encode(), ts, key, body) == sig


def test_a_receiver_refuses_a_captured_request_replayed_under_another_idempotency_key() -> None:
    """An attacker who captured one delivery must not get it accepted again by changing the key header
    (which would defeat the receiver's de-duplication)."""
    receiver = WebhookReceiver(SECRET).start()
    recorder = Recorder()
    try:
        WebhookNotifier(receiver.url, SECRET, transport=recorder).send(notification("ww-t7-webhook"))
        (captured,) = recorder.requests
        first = httpx.post(receiver.url, content=captured.content, headers=captured.headers)
        forged = httpx.Headers(captured.headers)
        forged[IDEMPOTENCY_HEADER] = "ww-t9999-webhook"  # replaces the header, whatever its case
        replay = httpx.post(receiver.url, content=captured.content, headers=forged)
    finally:
        receiver.stop()
    assert first.status_code == 200
    assert replay.status_code == 401
    assert [r.key for r in receiver.accepted] == ["ww-t7-webhook"]


@pytest.mark.parametrize("url", ["http://agency.example/hook", "http://10.1.2.3:8080/hook", "ftp://agency.example/hook",
                                 "https:///no-host"])
def test_a_webhook_over_plain_http_to_another_host_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        WebhookNotifier(url, SECRET)


@pytest.mark.parametrize("url", ["https://agency.example/hook", "http://127.0.0.1:8080/hook", "http://localhost/hook",
                                 "http://[::1]:9000/hook"])
def test_https_or_plain_http_to_this_machine_is_accepted(url: str) -> None:
    WebhookNotifier(url, SECRET).close()


def test_plain_http_elsewhere_only_when_the_setting_allows_it() -> None:
    settings = Settings()
    alerts = AlertSettings(webhook_url="http://agency.example/hook", webhook_secret=SECRET)  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="WASTEWATCH_ALERTS_WEBHOOK_URL.*https.*WASTEWATCH_ALERTS_WEBHOOK_ALLOW_HTTP"):
        build_notifiers(settings, alerts, None)
    allowed = AlertSettings(webhook_url="http://agency.example/hook", webhook_secret=SECRET, webhook_allow_http=True)  # type: ignore[arg-type]
    notifiers = build_notifiers(settings, allowed, None)
    assert "webhook" in notifiers
    for notifier in notifiers.values():
        notifier.close()


def test_a_webhook_secret_shorter_than_32_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        WebhookNotifier("https://agency.example/hook", "x" * 31)
    WebhookNotifier("https://agency.example/hook", "x" * 32).close()
    alerts = AlertSettings(webhook_url="https://agency.example/hook", webhook_secret="s3cret")  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="WASTEWATCH_ALERTS_WEBHOOK_SECRET.*32 bytes"):
        build_notifiers(Settings(), alerts, None)


def test_wastewatch_alerts_stops_at_start_with_one_line_naming_the_webhook_setting(tmp_path: Path, mosquitto) -> None:  # type: ignore[no-untyped-def]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WASTEWATCH_")}
    env = {**clean, "WASTEWATCH_MQTT_URL": mosquitto.url, "WASTEWATCH_DATA_DIR": str(tmp_path),
           "WASTEWATCH_ALERTS_WEBHOOK_URL": "https://agency.example/hook", "WASTEWATCH_ALERTS_WEBHOOK_SECRET": "too-short"}
    result = subprocess.run([sys.executable, "-m", "launch.cli", "alerts"], env=env, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2, result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("wastewatch:")]
    assert "WASTEWATCH_ALERTS_WEBHOOK_SECRET" in line and "32 bytes" in line
    assert "too-short" not in result.stderr  # the secret itself is never printed
