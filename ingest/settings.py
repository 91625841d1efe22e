"""The ingest worker's settings (`WASTEWATCH_INGEST_*`, with the spool's, the dead letters' and the
metrics port's own names); the broker, store and decoder limits are shared (`wastewatch.settings`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wastewatch.settings import Section


class IngestSettings(Section):
    """`wastewatch ingest`: its MQTT session, write batching, spool, dead letters, health and metrics.
    The spool, dead-letter and metrics settings keep their variables from before the split (aliases)."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_INGEST_")

    client_id: str = Field(default="wastewatch-ingest", description="fixed MQTT client id of the ingest worker")
    shared_group: str | None = Field(
        default=None, description="subscribe as $share/<group>/… so several ingest workers share the load"
    )
    batch_max_lines: int = Field(default=5000, ge=1, le=100_000, description="points per InfluxDB write")
    flush_interval_s: float = Field(default=0.25, gt=0, le=60, description="longest a point waits to be written")
    receive_maximum: int = Field(
        default=20_000, ge=1, le=65_535, description="MQTT 5 in-flight window the ingest asks the broker for"
    )
    max_stall_s: float = Field(
        default=60, gt=0, description="the ingest is unhealthy when messages have waited this long with nothing written"
    )
    health_interval_s: float = Field(
        default=10.0, ge=0, le=3600, description="how often the ingest writes its ingest_health point; 0 turns it off"
    )
    spool_max_bytes: int = Field(
        default=1024 * 1024 * 1024, ge=1024 * 1024, validation_alias="WASTEWATCH_SPOOL_MAX_BYTES",
        description="on-disk spool bound; when full, ingest stops acknowledging",
    )
    spool_min_free_bytes: int = Field(
        default=64 * 1024 * 1024, ge=0, validation_alias="WASTEWATCH_SPOOL_MIN_FREE_BYTES",
        description="free disk the spool always leaves, so draining it can still write; below it ingest stops acknowledging",
    )
    dead_letter_max_payload_bytes: int = Field(
        default=4096, ge=64,
        validation_alias="WASTEWATCH_DEAD_LETTER_MAX_PAYLOAD_BYTES",
        description="a dead letter keeps this much of its payload (and records the original size)",
    )
    dead_letter_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=64 * 1024, validation_alias="WASTEWATCH_DEAD_LETTER_MAX_BYTES",
        description="bound of the dead-letter table; the oldest go first (counted)",
    )
    dead_letter_max_age_days: float = Field(
        default=30, gt=0, validation_alias="WASTEWATCH_DEAD_LETTER_MAX_AGE_DAYS",
        description="dead letters older than this are deleted (counted)",
    )
    sparkplug_rebirth_interval_s: float = Field(
        default=10.0, ge=0, le=3600,
        description="fewest seconds between two Sparkplug rebirth requests (NCMD) to one edge node",
    )
    metrics_port: int = Field(
        default=0, ge=0, le=65_535, validation_alias="WASTEWATCH_METRICS_PORT",
        description="Prometheus metrics port; 0 turns it off",
    )
