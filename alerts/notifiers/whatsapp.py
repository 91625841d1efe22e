"""The WhatsApp channel: each notification as a pre-approved template message (Cloud API
`POST /{phone-number-id}/messages`) to every configured number.

WhatsApp allows free text only within 24 hours of the recipient's last message; an agency officer
may not have written to the plant's number for weeks, so every message is a template (which the
business registers once in its WhatsApp Manager; the README gives the text), with two body
parameters: {{1}} the alert's headline, {{2}} its link. Template parameters may hold no newline,
no tab and no run of more than four spaces, and the channel makes them so.

Limits (developers.facebook.com/docs/whatsapp/cloud-api): about one message every 6 s to one
number (error 131056 beyond it) and 80 a second per sending number (130429). The channel paces
itself to the first, waits out a `Retry-After`, and retries rate limits, 5xx and network trouble;
other errors (an expired token, a template not approved, a number not on WhatsApp) are permanent,
so the route fails over. A retry goes only to the numbers not reached yet (`Fanout`).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from alerts.notifiers import Channel, Notification, NotifierError, Receipt
from alerts.notifiers.fanout import Fanout
from alerts.notifiers.pacing import Pacer
from alerts.settings import AlertSettings
from wastewatch.points import Store
from wastewatch.settings import Settings, SettingsError

PAIR_INTERVAL_S, OVERALL_INTERVAL_S = 6.0, 1 / 80
RETRYABLE_CODES = frozenset({4, 80007, 130429, 131000, 131016, 131048, 131056, 133004})  # rate limits, service trouble
MAX_PARAMETER = 1000  # characters of one template parameter (the body's limit is 1024)
_SPACES = re.compile(r"[\s]+")


def parameter(text: str) -> str:
    """`text` as a template parameter: whitespace runs (newlines, tabs) become one space, at most
    MAX_PARAMETER characters, never empty."""
    flat = _SPACES.sub(" ", text).strip()
    if len(flat) > MAX_PARAMETER:
        flat = flat[: MAX_PARAMETER - 1] + "…"
    return flat or "-"


def template_message(to: str, notification: Notification, template: str, language_code: str) -> dict[str, Any]:
    """The Cloud API body of one template message to `to`."""
    headline = notification.text()["subject"]
    link = str(notification.payload.get("link", ""))
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {
            "name": template,
            "language": {"code": language_code},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": parameter(headline)}, {"type": "text", "text": parameter(link)},
            ]}],
        },
    }


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 86_400 else None


class WhatsAppNotifier:
    name = "whatsapp"

    def __init__(
        self, base_url: str, token: str, phone_number_id: str, recipients: list[str], *, template: str,
        language_code: str, timeout_s: float = 10.0, pacer: Pacer | None = None, transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self._client = httpx.Client(timeout=timeout_s, transport=transport, headers={"Authorization": f"Bearer {token}"})
        self._template, self._language_code = template, language_code
        self._pacer = pacer or Pacer(lambda number: PAIR_INTERVAL_S, OVERALL_INTERVAL_S)
        self._fanout = Fanout(self.name, recipients, self._send_one)

    def _send_one(self, to: str, notification: Notification) -> str:
        self._pacer.wait(to)
        try:
            response = self._client.post(self._url, json=template_message(to, notification, self._template, self._language_code))
        except httpx.HTTPError as exc:
            raise NotifierError(f"WhatsApp unreachable: {exc.__class__.__name__}") from None
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        answer: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        if response.is_success:
            messages = answer.get("messages")
            first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
            return str(first.get("id", f"HTTP {response.status_code}"))
        error: dict[str, Any] = answer["error"] if isinstance(answer.get("error"), dict) else {}
        code = error.get("code")
        status = response.status_code
        retryable = status >= 500 or status in (408, 429) or code in RETRYABLE_CODES
        raise NotifierError(
            f"WhatsApp answered HTTP {status}" + (f" code {code}" if code is not None else "")
            + (f": {str(error.get('message'))[:200]}" if error.get("message") else ""),
            retryable=retryable, retry_after_s=_retry_after(response),
        )

    def send(self, notification: Notification) -> Receipt:
        return self._fanout.send(notification)

    def close(self) -> None:
        self._client.close()


def check_settings(alerts: AlertSettings) -> bool:
    """Whether the settings configure WhatsApp; any one of token, sending number and recipients
    without the others is refused, naming what is missing, as is a recipient that is not a number."""
    given = {
        "WASTEWATCH_ALERTS_WHATSAPP_TOKEN": bool(alerts.whatsapp_token and alerts.whatsapp_token.get_secret_value()),
        "WASTEWATCH_ALERTS_WHATSAPP_PHONE_NUMBER_ID": bool(alerts.whatsapp_phone_number_id),
        "WASTEWATCH_ALERTS_WHATSAPP_TO": bool(alerts.whatsapp_to),
    }
    if not any(given.values()):
        return False
    missing = [name for name, ok in given.items() if not ok]
    if missing:
        raise SettingsError(f"bad setting {missing[0]}: required with " + ", ".join(n for n, ok in given.items() if ok))
    assert alerts.whatsapp_phone_number_id is not None
    if not alerts.whatsapp_phone_number_id.isdigit():
        raise SettingsError("bad setting WASTEWATCH_ALERTS_WHATSAPP_PHONE_NUMBER_ID: the number's id is digits (WhatsApp Manager, API setup)")
    for number in alerts.whatsapp_to:
        if not (number.isdigit() and 8 <= len(number) <= 15):
            raise SettingsError(
                f"bad setting WASTEWATCH_ALERTS_WHATSAPP_TO: {number!r} is not an international number without + (e.g. 6281234567890)"
            )
    return True


def _build(settings: Settings, alerts: AlertSettings, store: Store | None) -> WhatsAppNotifier:
    assert alerts.whatsapp_token is not None and alerts.whatsapp_phone_number_id is not None
    return WhatsAppNotifier(
        alerts.whatsapp_api_url, alerts.whatsapp_token.get_secret_value(), alerts.whatsapp_phone_number_id, alerts.whatsapp_to,
        template=alerts.whatsapp_template, language_code=alerts.whatsapp_template_language, timeout_s=alerts.whatsapp_timeout_s,
    )


CHANNEL = Channel("whatsapp", configured=lambda settings, alerts: check_settings(alerts), build=_build)
