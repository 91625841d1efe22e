"""Settings for every wastewatch command, read from `WASTEWATCH_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from wastewatch.errors import ConfigError


class BrokerAddress(BaseModel):
    """Where and how to reach the MQTT broker, parsed from `WASTEWATCH_MQTT_URL`."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None


def parse_mqtt_url(url: str) -> BrokerAddress:
    """Parse `mqtt://user:pass@host:1883` or `mqtts://host:8883` into a broker address."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"scheme must be mqtt:// or mqtts://, not {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("no host in the URL")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise ValueError(f"bad port: {exc}") from exc
    return BrokerAddress(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


EXAMPLE_SECRET_PREFIX = "change-me"
"""Secrets in .env.example start with this; `Settings` refuses them outside a demo."""


class Settings(BaseSettings):
    """All settings; each field is read from `WASTEWATCH_<FIELD NAME IN CAPITALS>`."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_", extra="ignore")

    mqtt_url: str | None = Field(
        default=None,
        description="MQTT broker, mqtt://user:pass@host:1883 or mqtts://…; unset: the demo starts an embedded broker",
    )
    mqtt_protocol: Literal["3.1.1", "5"] = Field(
        default="3.1.1",
        description="MQTT protocol: 3.1.1 (fastest in paho; the broker's max_inflight_messages sets the window) or 5",
    )
    mqtt_ca_file: Path | None = Field(default=None, description="CA certificate for mqtts://")
    ingest_client_id: str = Field(default="wastewatch-ingest", description="fixed MQTT client id of the ingest worker")
    ingest_shared_group: str | None = Field(
        default=None, description="subscribe as $share/<group>/… so several ingest workers share the load"
    )
    ingest_batch_max_lines: int = Field(default=5000, ge=1, le=100_000, description="points per InfluxDB write")
    ingest_flush_interval_s: float = Field(default=0.25, gt=0, le=60, description="longest a point waits to be written")
    ingest_receive_maximum: int = Field(
        default=20_000, ge=1, le=65_535, description="MQTT 5 in-flight window the ingest asks the broker for"
    )
    ingest_max_payload_bytes: int = Field(default=256 * 1024, ge=64, description="larger messages are dead-lettered")
    ingest_max_age_days: float = Field(default=400, gt=0, description="older timestamps are dead-lettered")
    ingest_max_future_s: float = Field(default=300, ge=0, description="timestamps further ahead are dead-lettered")
    spool_max_bytes: int = Field(
        default=1024 * 1024 * 1024, ge=1024 * 1024, description="on-disk spool bound; when full, ingest stops acknowledging"
    )
    spool_min_free_bytes: int = Field(
        default=64 * 1024 * 1024, ge=0,
        description="free disk the spool always leaves, so draining it can still write; below it ingest stops acknowledging",
    )
    ingest_unknown_facility: Literal["reject", "accept"] = Field(
        default="reject",
        description="a batch whose source the plant file does not list: reject (dead-letter) or accept; no list accepts any id",
    )
    ingest_max_stall_s: float = Field(
        default=60, gt=0, description="the ingest is unhealthy when messages have waited this long with nothing written"
    )
    dead_letter_max_payload_bytes: int = Field(
        default=4096, ge=64, description="a dead letter keeps this much of its payload (and records the original size)"
    )
    dead_letter_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=64 * 1024, description="bound of the dead-letter table; the oldest go first (counted)"
    )
    dead_letter_max_age_days: float = Field(default=30, gt=0, description="dead letters older than this are deleted (counted)")
    metrics_port: int = Field(default=0, ge=0, le=65_535, description="Prometheus metrics port; 0 turns it off")

    influx_url: str | None = Field(
        default=None, description="InfluxDB base URL (1.x API: /write, /query); unset: the embedded SQLite store"
    )
    influx_database: str = Field(default="wastewatch", description="InfluxDB database (2.x: the bucket, via DBRP)")
    influx_token: SecretStr | None = Field(default=None, description="InfluxDB 2.x/3.x token")
    influx_username: str | None = Field(default=None, description="InfluxDB 1.x user")
    influx_password: SecretStr | None = Field(default=None, description="InfluxDB 1.x password")
    influx_timeout_s: float = Field(default=10.0, gt=0, description="HTTP timeout for InfluxDB calls")

    data_dir: Path = Field(default=Path("wastewatch-data"), description="spool, dead letters, SQLite store")
    plant_config: Path | None = Field(default=None, description="plant YAML file; unset: the bundled Kotim plant")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="log level")

    # --- alert worker (`wastewatch alerts`) ---------------------------------------------------------
    alerts_db_url: str | None = Field(
        default=None,
        description="alert database, sqlite:///path (WAL) or postgresql://…; unset: sqlite under data_dir/alerts.sqlite3",
    )
    alerts_client_id: str = Field(
        default="wastewatch-alerts", description="MQTT client id prefix of the alert worker (one session per plant: <id>-<plant>)"
    )
    alerts_plants: str | None = Field(
        default=None, description="plants this alert worker owns or may claim (comma-separated); unset: every plant with rules"
    )
    alerts_lease_s: float = Field(
        default=0.0, ge=0, description="0: own alerts_plants outright; > 0: claim each with a lease of this many seconds in the alert database"
    )
    alerts_rules_file: Path | None = Field(default=None, description="alert rule YAML; unset: the bundled rules of each plant")
    alerts_clock: Literal["wall", "data"] = Field(
        default="wall", description="evaluation time: the wall clock, or the newest data time seen (replays, the demo)"
    )
    alerts_tick_interval_s: float = Field(default=5.0, gt=0, le=60, description="how often tolerances and silences are checked")
    alerts_language: Literal["id", "en"] = Field(default="id", description="first language of notification texts")
    alerts_public_url: str = Field(default="http://localhost:8000", description="base of the alert link in notifications")
    alerts_routes: str = Field(
        default="operators=mqtt,log;agency=webhook>email;escalation=email",
        description="audience=channel,… ; a>b fails over from a to b; channels: webhook, email, mqtt, log",
    )
    alerts_agency_categories: str = Field(
        default="regulatory", description="categories the agency gets besides every critical alert (comma-separated)"
    )
    alerts_webhook_url: str | None = Field(
        default=None, description="webhook receiving signed JSON notifications; https:// (http:// only to localhost)"
    )
    alerts_webhook_allow_http: bool = Field(
        default=False, description="accept a plain http:// webhook URL to another host (unencrypted: a trusted network only)"
    )
    alerts_webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key of the webhook signature, at least 32 bytes"
    )
    alerts_webhook_timeout_s: float = Field(default=5.0, gt=0, description="webhook HTTP timeout")
    alerts_smtp_host: str | None = Field(default=None, description="SMTP server for e-mail notifications")
    alerts_smtp_port: int = Field(default=587, ge=1, le=65_535, description="SMTP port")
    alerts_smtp_starttls: bool = Field(default=True, description="upgrade the SMTP connection with STARTTLS")
    alerts_smtp_user: str | None = Field(default=None, description="SMTP login user")
    alerts_smtp_password: SecretStr | None = Field(default=None, description="SMTP login password")
    alerts_smtp_from: str = Field(default="wastewatch@localhost", description="sender address of alert e-mails")
    alerts_smtp_to: str | None = Field(default=None, description="recipients of alert e-mails (comma-separated)")
    alerts_smtp_timeout_s: float = Field(default=10.0, gt=0, description="SMTP timeout")
    alerts_retry_base_s: float = Field(default=1.0, gt=0, description="first retry delay; doubles per attempt")
    alerts_retry_max_s: float = Field(default=300.0, gt=0, description="longest retry delay")
    alerts_failover_after_attempts: int = Field(default=3, ge=1, description="failed attempts before the next channel")
    alerts_escalation_after_min: float = Field(
        default=15.0, ge=0, description="critical alert unacknowledged this long: re-sent to escalation; 0 turns it off"
    )
    alerts_escalation_levels: int = Field(default=2, ge=0, description="escalations per alert, one every escalation_after_min")
    alerts_rate_limit_count: int = Field(default=20, ge=1, description="notifications per channel per rate window")
    alerts_rate_limit_window_s: float = Field(default=600.0, gt=0, description="rate-limit window per channel")
    alerts_flap_count: int = Field(default=4, ge=2, description="raises within flap_window_s that make an alert flapping")
    alerts_flap_window_s: float = Field(default=3600.0, gt=0, description="flapping detection window")
    alerts_flap_settle_s: float = Field(default=900.0, gt=0, description="quiet time after which a flapping alert is reported settled")

    # --- compliance engine (`wastewatch compliance`) -----------------------------------------------
    compliance_settle_s: int = Field(
        default=30, ge=0, le=600, description="wait after a half-hour closes for its last readings to be written"
    )
    compliance_day_at_min: int = Field(
        default=15, ge=0, le=59, description="minutes after local midnight the day job recomputes yesterday"
    )

    # --- HTTP API (`wastewatch api`) ------------------------------------------------------------------
    api_host: str = Field(default="127.0.0.1", description="address the API listens on")
    api_port: int = Field(default=8000, ge=1, le=65_535, description="port the API listens on")
    api_cors_origins: str = Field(
        default="", description="browser origins allowed to call the API (comma-separated); empty: CORS closed"
    )
    api_max_points: int = Field(default=10_000, ge=10, le=1_000_000, description="most points or rows one API answer returns")
    api_auth_failures_burst: int = Field(default=10, ge=1, description="failed authentications a client may make at once")
    api_auth_failures_per_min: float = Field(default=6.0, gt=0, description="failed authentications a client regains per minute")
    api_summary_cache_s: float = Field(
        default=60.0, ge=0, description="how long a computed tonnage/uptime/compliance summary is reused; 0 turns it off"
    )
    api_max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, le=64 * 1024 * 1024,
        description="largest request body the API reads (declared or streamed); larger is a 413 before it is parsed",
    )

    # --- plant reports (`wastewatch report`); SMTP server and login: the WASTEWATCH_ALERTS_SMTP_* settings ---
    reports_smtp_to: str | None = Field(default=None, description="recipients of the scheduled report e-mail (comma-separated)")
    reports_smtp_from: str | None = Field(default=None, description="sender of report e-mails; unset: WASTEWATCH_ALERTS_SMTP_FROM")
    reports_cron: str = Field(default="0 7 1 * *", description="when the monthly report is e-mailed: crontab fields on plant time")
    reports_language: Literal["id", "en"] = Field(default="id", description="language of the e-mailed report")
    reports_format: Literal["pdf", "html", "csv", "json"] = Field(default="pdf", description="format of the attached report")

    # --- deployment (docker-compose.yml, grafana/) -----------------------------------------------------
    ingest_health_interval_s: float = Field(
        default=10.0, ge=0, le=3600, description="how often the ingest writes its ingest_health point; 0 turns it off"
    )
    demo: bool = Field(default=False, description="a demo or test deployment: example secrets (change-me…) are accepted")

    @model_validator(mode="after")
    def _refuse_example_secrets(self) -> Settings:
        # .env.example ships every secret as change-me-…: a production service must never run with one.
        if self.demo:
            return self
        mqtt_password = parse_mqtt_url(self.mqtt_url).password if self.mqtt_url else None
        candidates: dict[str, str | None] = {"mqtt_url": mqtt_password}
        for name in type(self).model_fields:
            current = getattr(self, name)
            if isinstance(current, SecretStr):
                candidates[name] = current.get_secret_value()
        for name, secret in candidates.items():
            if secret is not None and secret.strip().lower().startswith(EXAMPLE_SECRET_PREFIX):
                raise ValueError(
                    f"WASTEWATCH_{name.upper()} still holds an example secret ({EXAMPLE_SECRET_PREFIX}…): "
                    "set a real one, or WASTEWATCH_DEMO=1 for a demo"
                )
        return self

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str | None) -> str | None:
        if value is not None:
            parse_mqtt_url(value)
        return value

    @field_validator("influx_url")
    @classmethod
    def _check_influx_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http:// or https:// URL with a host")
            return value.rstrip("/")
        return value

    @property
    def broker(self) -> BrokerAddress | None:
        """The configured broker, or None when none is configured."""
        return parse_mqtt_url(self.mqtt_url) if self.mqtt_url else None


class SettingsError(ConfigError):
    """A setting is missing or invalid; the message is one line naming it."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, raising `SettingsError` with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a check across settings names them itself
            raise SettingsError(str(first["msg"]).removeprefix("Value error, ")) from exc
        name = "WASTEWATCH_" + "_".join(str(p) for p in first["loc"]).upper()
        raise SettingsError(f"bad setting {name}: {first['msg']}") from exc


def describe_settings(names: list[str]) -> str:
    """A help text block listing the named settings with their environment variables."""
    lines = ["settings (environment variables):"]
    for name in names:
        field = Settings.model_fields[name]
        lines.append(f"  WASTEWATCH_{name.upper():<28} {field.description or ''}")
    return "\n".join(lines)
