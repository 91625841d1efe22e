"""`wastewatch edge`'s settings (`WASTEWATCH_EDGE_*`); the broker (`WASTEWATCH_MQTT_*`) and the plant
file (`WASTEWATCH_PLANT_CONFIG`) are the shared ones (`wastewatch.settings`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wastewatch.settings import Section


class EdgeSettings(Section):
    """The field end: its device file, its on-disk queue, its identity, health and metrics."""

    model_config = SettingsConfigDict(env_prefix="WASTEWATCH_EDGE_")

    device_file: Path | None = Field(default=None, description="device file (YAML) of the devices to poll; the FILE argument wins")
    edge_id: str = Field(
        default="edge", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", validation_alias="WASTEWATCH_EDGE_ID",
        description="this edge's id: its MQTT client id, its status topic plants/{plant}/status/{id} and its health topic",
    )
    queue_path: Path | None = Field(
        default=None, description="the store-and-forward queue (SQLite); unset: $WASTEWATCH_DATA_DIR/edge-queue.sqlite3",
    )
    queue_max_rows: int = Field(
        default=2_000_000, ge=100,
        description="samples the queue holds; when full, new samples are refused and counted (health: refused), old ones never dropped",
    )
    backfill_frames: int = Field(
        default=500, ge=1, le=10_000, description="telemetry frames per back-fill message when the queue replays a backlog",
    )
    max_message_bytes: int = Field(
        default=128 * 1024, ge=4096, le=16 * 1024 * 1024,
        description="a back-fill message is cut before this size (keep it under the ingest's WASTEWATCH_INGEST_MAX_PAYLOAD_BYTES)",
    )
    inflight_messages: int = Field(default=20, ge=1, le=1000, description="back-fill messages awaiting their PUBACK at once")
    clock_jump_limit_s: float = Field(
        default=60.0, gt=0,
        description="a forward step of the wall clock against the monotonic clock larger than this is logged and counted as a jump",
    )
    health_interval_s: float = Field(default=10.0, gt=0, le=3600, description="how often the edge publishes its health (retained)")
    metrics_port: int = Field(default=0, ge=0, le=65_535, description="Prometheus metrics port; 0 turns it off")
