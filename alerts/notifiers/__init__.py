"""Notification channels: one module each, the same small interface `send(notification) -> Receipt`.

Exceptions:
    NotifierError   a channel could not deliver; `retryable` says whether the same send may succeed
                    later (down, 5xx, timeout) or never will as it is (4xx, refused recipient);
                    `retry_after_s`, when the service said how long to wait (a rate limit)

Channels: `webhook` (signed JSON), `mqtt` (plants/{plant}/alerts/{rule}/{subject}), `email` (SMTP),
`telegram` (Bot API, with an Acknowledge button), `whatsapp` (Cloud API templates), `log`, and the internal `annotation` channel that writes alert events to the time-series store. Each
channel module declares its `CHANNEL` entry (when the settings configure it, how to build it);
`alerts.notifiers.registry` collects them, and is the one list of channels routes, the sender and
the compliance process read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from alerts.settings import AlertSettings
from wastewatch.errors import WastewatchError
from wastewatch.points import Store
from wastewatch.settings import Settings


class NotifierError(WastewatchError):
    """A channel failed to deliver one notification."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retryable, self.retry_after_s = retryable, retry_after_s


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the channel said when it took the notification (HTTP status, SMTP reply, MQTT message id)."""

    channel: str
    detail: str


@dataclass(frozen=True, slots=True)
class Notification:
    """One outbox row to deliver: its payload was fixed, in both languages, when the alert changed."""

    outbox_id: int
    idempotency_key: str
    channel: str
    kind: str
    payload: dict[str, Any]

    @property
    def language(self) -> str:
        return str(self.payload.get("language", "id"))

    def text(self, language: str | None = None) -> dict[str, str]:
        """{"subject": …, "body": …} in `language` (default: the notification's first language)."""
        texts: dict[str, dict[str, str]] = self.payload.get("text", {})
        return texts.get(language or self.language) or next(iter(texts.values()), {"subject": self.kind, "body": ""})

    def body_json(self) -> bytes:
        """The JSON document sent by the webhook and MQTT channels (compact, keys sorted)."""
        document = {**self.payload, "idempotency_key": self.idempotency_key}
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Notifier(Protocol):
    """A channel. `send` returns a receipt or raises `NotifierError`; it never retries by itself."""

    name: str

    def send(self, notification: Notification) -> Receipt: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel's entry in the registry. `configured` says whether the settings give this channel
    (and raises `SettingsError` for a half or bad configuration); `build` makes its notifier, or
    None when it cannot exist in this process (the annotation channel without a store).
    An internal channel is never named in routes."""

    name: str
    configured: Callable[[Settings, AlertSettings], bool]
    build: Callable[[Settings, AlertSettings, Store | None], Notifier | None]
    internal: bool = False
