"""The alert worker's settings (`WASTEWATCH_ALERTS_*`); the broker, store, relational database and
SMTP server are shared (`wastewatch.settings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from wastewatch.settings import CommaList, Section


class AlertSettings(Section):
    """`wastewatch alerts`: which plants, which rules, on which clock; routes, channels, retries,
    escalation, rate limits and flapping."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_ALERTS_")

    client_id: str = Field(
        default="wastewatch-alerts", description="MQTT client id prefix of the alert worker (one session per plant: <id>-<plant>)"
    )
    plants: CommaList | None = Field(
        default=None, description="plants this alert worker owns or may claim (comma-separated); unset: every plant with rules"
    )
    lease_s: float = Field(
        default=0.0, ge=0, description="0: own WASTEWATCH_ALERTS_PLANTS outright; > 0: claim each with a lease of this many seconds in the alert database"
    )
    rules_file: Path | None = Field(default=None, description="alert rule YAML; unset: the bundled rules of each plant")
    clock: Literal["wall", "data"] = Field(
        default="wall", description="evaluation time: the wall clock, or the newest data time seen (replays, the demo)"
    )
    tick_interval_s: float = Field(default=5.0, gt=0, le=60, description="how often tolerances and silences are checked")
    language: Literal["id", "en"] = Field(default="id", description="first language of notification texts")
    public_url: str = Field(default="http://localhost:8000", description="base of the alert link in notifications")
    routes: str = Field(
        default="operators=mqtt,log;agency=webhook>email;escalation=email",
        description="audience=channel,… ; a>b fails over from a to b; channels: webhook, email, telegram, whatsapp, mqtt, log",
    )
    agency_categories: CommaList = Field(
        default=["regulatory"], description="categories the agency gets besides every critical alert (comma-separated)"
    )
    webhook_url: str | None = Field(
        default=None, description="webhook receiving signed JSON notifications; https:// (http:// only to localhost)"
    )
    webhook_allow_http: bool = Field(
        default=False, description="accept a plain http:// webhook URL to another host (unencrypted: a trusted network only)"
    )
    webhook_secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 key of the webhook signature, at least 32 bytes")
    webhook_timeout_s: float = Field(default=5.0, gt=0, description="webhook HTTP timeout")
    smtp_to: CommaList = Field(default=[], description="recipients of alert e-mails (comma-separated); the server: WASTEWATCH_ALERTS_SMTP_*")
    telegram_token: SecretStr | None = Field(default=None, description="Telegram bot token (from @BotFather); with telegram_chat_ids, the telegram channel")
    telegram_chat_ids: CommaList = Field(
        default=[], description="Telegram chats the alerts go to (comma-separated ids; a group's id is negative)"
    )
    telegram_users: CommaList = Field(
        default=[], description="who may press Acknowledge: telegram-user-id=name pairs (comma-separated); the trail records the name"
    )
    telegram_poll: bool = Field(
        default=True, description="poll Telegram for Acknowledge presses (one process per bot: turn it off on all workers but one)"
    )
    telegram_api_url: str = Field(default="https://api.telegram.org", description="Telegram Bot API base URL")
    telegram_timeout_s: float = Field(default=10.0, gt=0, description="Telegram HTTP timeout")
    whatsapp_token: SecretStr | None = Field(default=None, description="WhatsApp Cloud API access token; with the phone number id and recipients, the whatsapp channel")
    whatsapp_phone_number_id: str | None = Field(default=None, description="the sending number's id in the WhatsApp Cloud API")
    whatsapp_to: CommaList = Field(default=[], description="WhatsApp recipients, international numbers without + (comma-separated)")
    whatsapp_template: str = Field(
        default="wastewatch_alert", description="the pre-approved message template: {{1}} the alert's headline, {{2}} its link"
    )
    whatsapp_template_language: str = Field(default="id", description="the template's language code (id, en, en_US …)")
    whatsapp_api_url: str = Field(default="https://graph.facebook.com/v21.0", description="WhatsApp Cloud API base URL (Graph API version)")
    whatsapp_timeout_s: float = Field(default=10.0, gt=0, description="WhatsApp HTTP timeout")
    retry_base_s: float = Field(default=1.0, gt=0, description="first retry delay; doubles per attempt")
    retry_max_s: float = Field(default=300.0, gt=0, description="longest retry delay")
    failover_after_attempts: int = Field(default=3, ge=1, description="failed attempts before the next channel")
    escalation_after_min: float = Field(
        default=15.0, ge=0, description="critical alert unacknowledged this long: re-sent to escalation; 0 turns it off"
    )
    escalation_levels: int = Field(default=2, ge=0, description="escalations per alert, one every escalation_after_min")
    rate_limit_count: int = Field(default=20, ge=1, description="notifications per channel per rate window")
    rate_limit_window_s: float = Field(default=600.0, gt=0, description="rate-limit window per channel")
    flap_count: int = Field(default=4, ge=2, description="raises within flap_window_s that make an alert flapping")
    flap_window_s: float = Field(default=3600.0, gt=0, description="flapping detection window")
    flap_settle_s: float = Field(default=900.0, gt=0, description="quiet time after which a flapping alert is reported settled")
