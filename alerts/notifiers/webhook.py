"""The webhook channel: a signed JSON POST, and the check a receiver runs on it.

Headers: `X-Wastewatch-Timestamp` (Unix seconds), `X-Wastewatch-Signature` (lower-case hex
HMAC-SHA256 of `f"{timestamp}.{body}"` keyed with the shared secret, over the raw body bytes) and
`X-Wastewatch-Idempotency-Key` (the same for every retry of one notification: a receiver drops a key
it has seen). A 2xx is success; a 4xx other than 408/429 is permanent; anything else is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

import httpx

from alerts.notifiers import Notification, NotifierError, Receipt

TIMESTAMP_HEADER = "X-Wastewatch-Timestamp"
SIGNATURE_HEADER = "X-Wastewatch-Signature"
IDEMPOTENCY_HEADER = "X-Wastewatch-Idempotency-Key"
DEFAULT_MAX_AGE_S = 300


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 over `timestamp.body`."""
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str | bytes, timestamp: str, body: bytes, signature: str, max_age_s: float = DEFAULT_MAX_AGE_S,
    *, now_s: float | None = None,
) -> bool:
    """What a receiver does with a request: True only for a fresh timestamp and a matching signature.

    1. the timestamp is an integer no more than `max_age_s` away from the receiver's clock (replays
       of an old, validly signed request are refused);
    2. the HMAC-SHA256 of `timestamp + "." + raw body` with the shared secret, as lower-case hex,
       equals the signature header, compared in constant time.
    """
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now_s is None else now_s) - sent_at) > max_age_s:
        return False
    return hmac.compare_digest(sign(key, timestamp, body), signature.strip().lower())


class WebhookNotifier:
    name = "webhook"

    def __init__(
        self, url: str, secret: str, *, timeout_s: float = 5.0, clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret (WASTEWATCH_ALERTS_WEBHOOK_SECRET) to sign with")
        self.url = url
        self._secret = secret.encode("utf-8")
        self._clock = clock
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def send(self, notification: Notification) -> Receipt:
        body = notification.body_json()
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            IDEMPOTENCY_HEADER: notification.idempotency_key,
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
