"""The Telegram channel: each notification as a message from a bot (Bot API `sendMessage`, plain
text, first language) to every configured chat, with an inline "Acknowledge" button on the kinds an
operator acts on; `alerts.telegram_acks` handles the presses.

Telegram's limits (core.telegram.org/bots/faq): about one message a second in a chat, 20 a minute
in a group, 30 a second overall. The channel paces itself to them (`Pacer`), and a 429 answer's
`retry_after` is waited out by the sender. Telegram has no idempotency key: a retry goes only to the
chats the notification has not reached (`Fanout`). A 5xx, a 429 and a timeout are retried; other
4xx (a wrong token, a chat the bot is not in) are permanent, so the route fails over.
"""

from __future__ import annotations

from typing import Any

import httpx

from alerts.notifiers import Channel, Notification, NotifierError, Receipt
from alerts.notifiers.fanout import Fanout
from alerts.notifiers.pacing import Pacer
from alerts.settings import AlertSettings
from wastewatch.points import Store
from wastewatch.settings import Settings, SettingsError

MAX_TEXT = 4096  # Telegram's limit for a message's text
CHAT_INTERVAL_S, GROUP_INTERVAL_S, OVERALL_INTERVAL_S = 1.0, 3.0, 1 / 30
ACK_KINDS = frozenset({"raised", "updated", "escalated", "flapping"})  # the kinds that carry the button
ACK_PREFIX = "ack:"
BUTTON = {"id": "Akui", "en": "Acknowledge"}


def chat_interval_s(chat_id: str) -> float:
    """Groups (negative ids) take 20 messages a minute, other chats one a second."""
    return GROUP_INTERVAL_S if chat_id.startswith("-") else CHAT_INTERVAL_S


class TelegramApi:
    """The few Bot API methods wastewatch calls, each a POST of JSON; `call` returns `result` or
    raises `NotifierError` (retryable on 5xx, 429 and network trouble, with 429's `retry_after`)."""

    def __init__(self, base_url: str, token: str, *, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        if not token:
            raise ValueError("a Telegram bot needs its token (WASTEWATCH_ALERTS_TELEGRAM_TOKEN)")
        self._url = f"{base_url.rstrip('/')}/bot{token}/"
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def call(self, method: str, body: dict[str, Any], *, timeout_s: float | None = None) -> Any:
        try:
            response = self._client.post(self._url + method, json=body,
                                         timeout=timeout_s if timeout_s is not None else httpx.USE_CLIENT_DEFAULT)
        except httpx.HTTPError as exc:  # the URL holds the token: name the method, not the URL
            raise NotifierError(f"Telegram {method} unreachable: {exc.__class__.__name__}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.is_success and answer.get("ok") is True:
            return answer.get("result")
        description = str(answer.get("description", ""))[:200]
        parameters = answer.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        status = response.status_code
        raise NotifierError(
            f"Telegram {method} answered HTTP {status}" + (f": {description}" if description else ""),
            retryable=status >= 500 or status in (408, 429),
            retry_after_s=float(retry_after) if isinstance(retry_after, (int, float)) and retry_after >= 0 else None,
        )

    def close(self) -> None:
        self._client.close()


def message(notification: Notification) -> dict[str, Any]:
    """The `sendMessage` body for one chat, without its `chat_id`: subject and body in the first
    language, and the Acknowledge button when the notification is about an alert one acts on."""
    text = notification.text()
    body: dict[str, Any] = {"text": f"{text['subject']}\n\n{text['body']}"[:MAX_TEXT], "link_preview_options": {"is_disabled": True}}
    alert_id = notification.payload.get("alert_id")
    if notification.kind in ACK_KINDS and isinstance(alert_id, int):
        label = BUTTON.get(notification.language, BUTTON["en"])
        body["reply_markup"] = {"inline_keyboard": [[{"text": label, "callback_data": f"{ACK_PREFIX}{alert_id}"}]]}
    return body


class TelegramNotifier:
    name = "telegram"

    def __init__(self, api: TelegramApi, chat_ids: list[str], *, pacer: Pacer | None = None) -> None:
        self.api = api
        self._pacer = pacer or Pacer(chat_interval_s, OVERALL_INTERVAL_S)
        self._fanout = Fanout(self.name, chat_ids, self._send_one)

    def _send_one(self, chat_id: str, notification: Notification) -> str:
        self._pacer.wait(chat_id)
        result = self.api.call("sendMessage", {"chat_id": chat_id, **message(notification)})
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return f"message {message_id}"

    def send(self, notification: Notification) -> Receipt:
        return self._fanout.send(notification)

    def close(self) -> None:
        self.api.close()


def check_settings(alerts: AlertSettings) -> bool:
    """Whether the settings configure Telegram; a token without chats (or chats without a token) and
    a malformed chat id or user pair are refused, naming the setting."""
    token = alerts.telegram_token.get_secret_value() if alerts.telegram_token else ""
    if not token and not alerts.telegram_chat_ids:
        return False
    if not token:
        raise SettingsError("bad setting WASTEWATCH_ALERTS_TELEGRAM_TOKEN: required with WASTEWATCH_ALERTS_TELEGRAM_CHAT_IDS")
    if not alerts.telegram_chat_ids:
        raise SettingsError("bad setting WASTEWATCH_ALERTS_TELEGRAM_CHAT_IDS: required with WASTEWATCH_ALERTS_TELEGRAM_TOKEN")
    for chat in alerts.telegram_chat_ids:
        if not (chat.removeprefix("-").isdigit() or (chat.startswith("@") and len(chat) > 1)):
            raise SettingsError(f"bad setting WASTEWATCH_ALERTS_TELEGRAM_CHAT_IDS: {chat!r} is not a chat id (digits, - for a group) or @channel")
    telegram_users(alerts)
    return True


def telegram_users(alerts: AlertSettings) -> dict[int, str]:
    """WASTEWATCH_ALERTS_TELEGRAM_USERS as {telegram user id: name}."""
    users: dict[int, str] = {}
    for pair in alerts.telegram_users:
        user_id, sep, name = pair.partition("=")
        if not sep or not user_id.strip().isdigit() or not name.strip():
            raise SettingsError(f"bad setting WASTEWATCH_ALERTS_TELEGRAM_USERS: {pair!r} is not telegram-user-id=name")
        users[int(user_id)] = name.strip()
    return users


def telegram_api(alerts: AlertSettings) -> TelegramApi:
    assert alerts.telegram_token is not None
    return TelegramApi(alerts.telegram_api_url, alerts.telegram_token.get_secret_value(), timeout_s=alerts.telegram_timeout_s)


def _build(settings: Settings, alerts: AlertSettings, store: Store | None) -> TelegramNotifier:
    return TelegramNotifier(telegram_api(alerts), alerts.telegram_chat_ids)


CHANNEL = Channel("telegram", configured=lambda settings, alerts: check_settings(alerts), build=_build)
