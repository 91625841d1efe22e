"""The settings every wastewatch command shares, read from `WASTEWATCH_*` environment variables.

One pydantic-settings class per concern, each with its own prefix (`Section` is their base):
`BrokerSettings` (WASTEWATCH_MQTT_*), `InfluxSettings` (WASTEWATCH_INFLUX_*), `DecodeSettings` (the
decoder's WASTEWATCH_INGEST_MAX_* limits), `SmtpSettings` (WASTEWATCH_ALERTS_SMTP_*) and `Settings`,
which holds the shared few and the others as sections. Each service declares its own class beside
its code (`ingest.settings.IngestSettings`, `alerts.settings.AlertSettings`,
`compliance.settings.ComplianceSettings`, `api.settings.ApiSettings`, `api.settings.ReportSettings`);
`load(cls)` reads one with a one-line error, `describe_settings(*classes)` writes a command's help.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from wastewatch.errors import ConfigError


class SettingsError(ConfigError):
    """A setting is missing or invalid; the message is one line naming it."""


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
"""Secrets in .env.example start with this; every settings class refuses them outside a demo."""


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_commas)]
"""A list setting written in the environment as `a,b,c` (empty: an empty list)."""


class Section(BaseSettings):
    """The base of every settings class: one `WASTEWATCH_…` prefix each, unknown keyword arguments refused (a typo in code fails loudly), and
    the example secrets of .env.example (change-me…) refused unless WASTEWATCH_DEMO is set."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_", extra="forbid", populate_by_name=True)

    demo: bool = Field(
        default=False, validation_alias="WASTEWATCH_DEMO", exclude=True,
        description="a demo or test deployment: example secrets (change-me…) are accepted",
    )

    def secrets(self) -> dict[str, str | None]:
        """{environment variable: secret} for the example-secret check."""
        return {
            env_name(type(self), name): value.get_secret_value()
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), SecretStr)
        }

    @model_validator(mode="after")
    def _refuse_example_secrets(self) -> Section:
        # .env.example ships every secret as change-me-…: a production service must never run with one.
        if self.demo:
            return self
        for name, secret in self.secrets().items():
            if secret is not None and secret.strip().lower().startswith(EXAMPLE_SECRET_PREFIX):
                raise ValueError(
                    f"{name} still holds an example secret ({EXAMPLE_SECRET_PREFIX}…): set a real one, or WASTEWATCH_DEMO=1 for a demo"
                )
        return self


class BrokerSettings(Section):
    """The MQTT broker every MQTT client connects to (`WASTEWATCH_MQTT_*`)."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_MQTT_")

    url: str | None = Field(
        default=None,
        description="MQTT broker, mqtt://user:pass@host:1883 or mqtts://…; unset: the demo starts an embedded broker",
    )
    protocol: Literal["3.1.1", "5"] = Field(
        default="3.1.1",
        description="MQTT protocol: 3.1.1 (fastest in paho; the broker's max_inflight_messages sets the window) or 5",
    )
    ca_file: Path | None = Field(default=None, description="CA certificate for mqtts://")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None:
            parse_mqtt_url(value)
        return value

    @property
    def address(self) -> BrokerAddress | None:
        """The configured broker, or None when none is configured."""
        return parse_mqtt_url(self.url) if self.url else None

    def secrets(self) -> dict[str, str | None]:
        address = self.address
        return {"WASTEWATCH_MQTT_URL": address.password if address else None}


class InfluxSettings(Section):
    """The time-series store (`WASTEWATCH_INFLUX_*`): InfluxDB through its 1.x HTTP API, or embedded SQLite."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_INFLUX_")

    url: str | None = Field(
        default=None, description="InfluxDB base URL (1.x API: /write, /query); unset: the embedded SQLite store"
    )
    database: str = Field(default="wastewatch", description="InfluxDB database (2.x: the bucket, via DBRP)")
    token: SecretStr | None = Field(default=None, description="InfluxDB 2.x/3.x token")
    username: str | None = Field(default=None, description="InfluxDB 1.x user")
    password: SecretStr | None = Field(default=None, description="InfluxDB 1.x password")
    timeout_s: float = Field(default=10.0, gt=0, description="HTTP timeout for InfluxDB calls")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http:// or https:// URL with a host")
            return value.rstrip("/")
        return value


class DecodeSettings(Section):
    """The limits every consumer of the MQTT contract decodes with (the ingest and the alert worker)."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_INGEST_")

    max_payload_bytes: int = Field(default=256 * 1024, ge=64, description="larger messages are dead-lettered")
    max_age_days: float = Field(default=400, gt=0, description="older timestamps are dead-lettered")
    max_future_s: float = Field(default=300, ge=0, description="timestamps further ahead are dead-lettered")
    unknown_facility: Literal["reject", "accept"] = Field(
        default="reject",
        description="a batch whose source the plant file does not list: reject (dead-letter) or accept; no list accepts any id",
    )


class SmtpSettings(Section):
    """The SMTP server alert e-mails and report e-mails go through (`WASTEWATCH_ALERTS_SMTP_*`)."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_ALERTS_SMTP_")

    host: str | None = Field(default=None, description="SMTP server for e-mail notifications and reports")
    port: int = Field(default=587, ge=1, le=65_535, description="SMTP port")
    starttls: bool = Field(default=True, description="upgrade the SMTP connection with STARTTLS")
    user: str | None = Field(default=None, description="SMTP login user")
    password: SecretStr | None = Field(default=None, description="SMTP login password")
    sender: str = Field(
        default="wastewatch@localhost", validation_alias="WASTEWATCH_ALERTS_SMTP_FROM",
        description="sender address of alert e-mails",
    )
    timeout_s: float = Field(default=10.0, gt=0, description="SMTP timeout")


class Settings(Section):
    """What every command shares: where data lives, the plant file, the log level, the relational
    database, and the broker, store, decoder limits and SMTP server as sections. Each service adds
    its own class (`ingest.settings`, `alerts.settings`, `compliance.settings`, `api.settings`)."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_")

    data_dir: Path = Field(default=Path("wastewatch-data"), description="spool, dead letters, SQLite store")
    plant_config: Path | None = Field(default=None, description="plant YAML file; unset: the bundled Kotim plant")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="log level")
    alerts_db_url: str | None = Field(
        default=None,
        description="relational database (alerts, API keys), sqlite:///path (WAL) or postgresql://…; "
        "unset: sqlite under data_dir/alerts.sqlite3",
    )
    mqtt: BrokerSettings = Field(default_factory=BrokerSettings)
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    decode: DecodeSettings = Field(default_factory=DecodeSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)


S = TypeVar("S", bound=BaseSettings)


def env_name(cls: type[BaseSettings], name: str) -> str:
    """The environment variable a field of a settings class is read from."""
    alias = cls.model_fields[name].validation_alias
    if isinstance(alias, str):
        return alias.upper()
    return f"{cls.model_config.get('env_prefix') or ''}{name}".upper()


def _sections(cls: type[BaseSettings]) -> list[type[BaseSettings]]:
    found = [cls]
    for field in cls.model_fields.values():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings):
            found += _sections(field.annotation)
    return found


def load(cls: type[S], **overrides: object) -> S:
    """Read one settings class (and its sections) from the environment, raising `SettingsError` with
    one line naming the variable."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]  # pydantic-settings reads the environment in __init__
    except ValidationError as exc:
        first = exc.errors()[0]
        owner = next((c for c in _sections(cls) if c.__name__ == exc.title), cls)
        loc = [str(part) for part in first["loc"]]
        while len(loc) > 1 and loc[0] in owner.model_fields and _is_section(owner.model_fields[loc[0]].annotation):
            owner = owner.model_fields[loc.pop(0)].annotation  # type: ignore[assignment]
        names = {env_name(owner, name): name for name in owner.model_fields}
        name = names.get(loc[0].upper(), loc[0]) if loc else None  # a field read through its alias
        if name is None or name not in owner.model_fields:  # a check across settings names them itself
            raise SettingsError(str(first["msg"]).removeprefix("Value error, ")) from exc
        raise SettingsError(f"bad setting {env_name(owner, name)}: {first['msg']}") from exc


def _is_section(annotation: object) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseSettings)


def load_settings(**overrides: object) -> Settings:
    """The shared settings from the environment (`load(Settings)`)."""
    return load(Settings, **overrides)


def variables(cls: type[BaseSettings]) -> list[str]:
    """The environment variables a settings class reads, its sections' included."""
    return [env_name(section, name) for section in _sections(cls) for name, field in section.model_fields.items()
            if not _is_section(field.annotation)]


def describe_settings(*classes: type[BaseSettings]) -> str:
    """A command's help block: every setting of the given classes with its environment variable,
    generated from the classes' fields (sections included, each once)."""
    lines = ["settings (environment variables):"]
    seen: set[str] = set()
    for cls in classes:
        for name, field in cls.model_fields.items():
            if _is_section(field.annotation) or (name == "demo" and cls is not Settings):  # WASTEWATCH_DEMO: once
                continue
            variable = env_name(cls, name)
            if variable not in seen:
                seen.add(variable)
                lines.append(f"  {variable:<40} {field.description or ''}")
    return "\n".join(lines)
