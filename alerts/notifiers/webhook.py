"""The webhook channel: a signed JSON POST, and the check a receiver runs on it.

Headers:
    X-Wastewatch-Timestamp        Unix seconds when the request was signed (decimal digits)
    X-Wastewatch-Idempotency-Key  the same for every retry of one notification (letters, digits and
                                  "-", never a "."): a receiver drops a key it has seen
    X-Wastewatch-Signature        lower-case hex HMAC-SHA256, keyed with the shared secret
                                  (WASTEWATCH_ALERTS_WEBHOOK_SECRET, at least 32 bytes), of

        timestamp + "." + idempotency_key + "." + raw body bytes

    e.g. b'1795000000.ww-t42-webhook.{"alert_id":7,...}'. Neither the timestamp nor the key can be
    changed without breaking the signature, so a captured request can be replayed neither later (the
    receiver refuses a timestamp more than 300 s from its clock) nor under another key (which would
    slip past the receiver's de-duplication).

A 2xx is success; a 4xx other than 408/429 is permanent; anything else is retried. The URL must be
https://, except to this machine (localhost, 127.0.0.0/8, ::1) or with `allow_http`
(WASTEWATCH_ALERTS_WEBHOOK_ALLOW_HTTP): the body names the plant and its alerts, and the signature
protects integrity only, not confidentiality.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from alerts.notifiers import Channel, Notification, NotifierError, Receipt
from alerts.settings import AlertSettings
from wastewatch.points import Store
from wastewatch.settings import Settings, SettingsError

TIMESTAMP_HEADER = "X-Wastewatch-Timestamp"
SIGNATURE_HEADER = "X-Wastewatch-Signature"
IDEMPOTENCY_HEADER = "X-Wastewatch-Idempotency-Key"
DEFAULT_MAX_AGE_S = 300
MIN_SECRET_BYTES = 32


def signed_string(timestamp: str, idempotency_key: str, body: bytes) -> bytes:
    """What is signed: `timestamp.idempotency_key.body` (the raw body bytes)."""
    return timestamp.encode("ascii") + b"." + idempotency_key.encode("utf-8") + b"." + body


def sign(secret: bytes, timestamp: str, idempotency_key: str, body: bytes) -> str:
    """Hex HMAC-SHA256 over `timestamp.idempotency_key.body`."""
    return hmac.new(secret, signed_string(timestamp, idempotency_key, body), hashlib.sha256).hexdigest()


def verify_signature(
    secret: str | bytes, timestamp: str, idempotency_key: str, body: bytes, signature: str,
    max_age_s: float = DEFAULT_MAX_AGE_S, *, now_s: float | None = None,
) -> bool:
    """What a receiver does with a request: True only for a fresh timestamp and a matching signature.

    1. the timestamp is an integer no more than `max_age_s` away from the receiver's clock (replays
       of an old, validly signed request are refused);
    2. the HMAC-SHA256 of `timestamp + "." + idempotency key + "." + raw body` with the shared
       secret, as lower-case hex, equals the signature header, compared in constant time.
    """
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs((time.time() if now_s is None else now_s) - int(timestamp)) > max_age_s:
        return False
    return hmac.compare_digest(sign(key, timestamp, idempotency_key, body), signature.strip().lower())


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_http: bool = False) -> None:
    """Refuse (ValueError) a URL that is not https:// with a host; plain http:// only to this machine,
    or anywhere with `allow_http`."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"must be an https:// URL with a host, got {parts.scheme or 'no'} scheme")
    if parts.scheme == "http" and not allow_http and not _loopback(parts.hostname):
        raise ValueError(
            f"must be https:// (plain http:// to {parts.hostname} would send alerts unencrypted); "
            "plain http is accepted only to this machine, or with WASTEWATCH_ALERTS_WEBHOOK_ALLOW_HTTP=1"
        )


def check_secret(secret: str) -> None:
    """Refuse (ValueError) a secret shorter than MIN_SECRET_BYTES bytes (as UTF-8)."""
    if not secret:
        raise ValueError("a webhook needs a secret (WASTEWATCH_ALERTS_WEBHOOK_SECRET) to sign with")
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise ValueError(
            f"the webhook secret must be at least {MIN_SECRET_BYTES} bytes, got {len(secret.encode('utf-8'))} "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )


class WebhookNotifier:
    name = "webhook"

    def __init__(
        self, url: str, secret: str, *, timeout_s: float = 5.0, clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None, allow_http: bool = False,
    ) -> None:
        check_url(url, allow_http=allow_http)
        check_secret(secret)
        self.url = url
        self._secret = secret.encode("utf-8")
        self._clock = clock
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def send(self, notification: Notification) -> Receipt:
        body = notification.body_json()
        timestamp = str(int(self._clock()))
        key = notification.idempotency_key
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, key, body),
            IDEMPOTENCY_HEADER: key,
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise NotifierError(f"webhook unreachable: {exc.__class__.__name__}: {exc}") from exc
        if response.is_success:
            return Receipt(self.name, f"HTTP {response.status_code}")
        retryable = response.status_code >= 500 or response.status_code in (408, 429)
        raise NotifierError(f"webhook answered HTTP {response.status_code}", retryable=retryable)

    def close(self) -> None:
        self._client.close()


def check_settings(alerts: AlertSettings) -> bool:
    """Whether the settings configure a webhook; refuses, with one line naming the setting, a URL that
    is not https:// (plain http:// only to this machine or with WASTEWATCH_ALERTS_WEBHOOK_ALLOW_HTTP)
    and a missing or short secret."""
    if not alerts.webhook_url:
        return False
    try:
        check_url(alerts.webhook_url, allow_http=alerts.webhook_allow_http)
    except ValueError as exc:
        raise SettingsError(f"bad setting WASTEWATCH_ALERTS_WEBHOOK_URL: {exc}") from None
    if alerts.webhook_secret is None or not alerts.webhook_secret.get_secret_value():
        raise SettingsError("bad setting WASTEWATCH_ALERTS_WEBHOOK_SECRET: required with WASTEWATCH_ALERTS_WEBHOOK_URL")
    try:
        check_secret(alerts.webhook_secret.get_secret_value())
    except ValueError as exc:
        raise SettingsError(f"bad setting WASTEWATCH_ALERTS_WEBHOOK_SECRET: {exc}") from None
    return True


def _build(settings: Settings, alerts: AlertSettings, store: Store | None) -> WebhookNotifier:
    assert alerts.webhook_url is not None and alerts.webhook_secret is not None
    return WebhookNotifier(alerts.webhook_url, alerts.webhook_secret.get_secret_value(), timeout_s=alerts.webhook_timeout_s,
                           allow_http=alerts.webhook_allow_http)


CHANNEL = Channel("webhook", configured=lambda settings, alerts: check_settings(alerts), build=_build)
