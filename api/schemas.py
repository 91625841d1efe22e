"""Response and request bodies. Times are RFC 3339 in the plant's time zone (UTC for alerts and keys)."""

from __future__ import annotations

from datetime import UTC, datetime, timezone
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from api.keys import NAME_PATTERN
from api.roles import Role
from wastewatch.topics import ID_PATTERN


def to_time(ms: int, zone: ZoneInfo | timezone = UTC) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=zone)


# -- plants and sensors --------------------------------------------------------------------------------


class PlantSummary(BaseModel):
    id: str
    name: str
    timezone: str
    capacity_kg_h: float
    location: str


class PlantList(BaseModel):
    plants: list[PlantSummary]


class FacilityOut(BaseModel):
    id: str
    name: str
    kind: str


class SensorSpecOut(BaseModel):
    id: str
    quantity: str
    unit: str
    min: float
    max: float
    period_s: float
    cems: bool
    description: str


class PlantDetail(PlantSummary):
    devices: list[str]
    facilities: list[FacilityOut]
    sensors: list[SensorSpecOut]
    compliance_profiles: list[str]


class OperatingStateOut(BaseModel):
    plant: str
    state: str | None = Field(description="cold, preheat, ready, burning, burnout, shutdown; null when never recorded")
    since: datetime | None
    reason: str | None


class SensorStatus(BaseModel):
    id: str
    quantity: str
    unit: str
    period_s: float
    value: float | None
    status: str | None = Field(description="the newest reading's status: valid, maintenance, malfunction")
    last_seen: datetime | None
    reporting: str = Field(description="reporting (seen within 3 periods), silent, or never (nothing in 31 days)")


class SensorCatalogue(BaseModel):
    plant: str
    operating_state: OperatingStateOut
    sensors: list[SensorStatus]


# -- readings, averages, batches -----------------------------------------------------------------------


class ReadingRow(BaseModel):
    time: datetime
    value: float
    status: str | None = Field(default=None, description="raw readings only; aggregates span every status asked for")


class Readings(BaseModel):
    plant: str
    sensor: str
    unit: str
    start: datetime
    end: datetime
    interval_s: int | None
    aggregate: str | None
    points: list[ReadingRow]


class AverageRow(BaseModel):
    time: datetime
    profile: str
    pollutant: str
    period: str
    quality: str
    value: float | None = Field(description="at reference O2; only for valid and abnormal-operation averages")
    raw_value: float | None
    n_valid: int
    n_discarded: int | None = None
    v4: str | None = None


class Averages(BaseModel):
    plant: str
    averaging: str
    start: datetime
    end: datetime
    averages: list[AverageRow]


class BatchRow(BaseModel):
    time: datetime
    batch_id: str
    mass_kg: float
    source: str
    waste_code: str | None
    manifest_no: str | None


class Batches(BaseModel):
    plant: str
    start: datetime
    end: datetime
    total_kg: float
    batches: list[BatchRow]


# -- alerts ---------------------------------------------------------------------------------------------


class AlertOut(BaseModel):
    id: int
    plant: str
    rule_id: str
    subject: str
    severity: str
    category: str
    source: str
    title: str
    status: str = Field(description="ACTIVE_UNACK, ACTIVE_ACK, CLEARED_UNACK or CLEARED_ACK")
    active: bool
    acknowledged: bool
    ack_by: str | None
    ack_at: datetime | None
    ack_comment: str | None
    assignee: str | None
    first_seen: datetime
    raised_at: datetime
    last_seen: datetime
    cleared_at: datetime | None
    clear_reason: str | None
    occurrences: int
    value: float | None
    message: str
    flapping: bool
    escalation_level: int


class AlertList(BaseModel):
    alerts: list[AlertOut]


class TransitionOut(BaseModel):
    id: int
    at: datetime
    kind: str
    actor: str
    comment: str | None
    detail: dict[str, object]


class AlertDetail(BaseModel):
    alert: AlertOut
    trail: list[TransitionOut]


class AckIn(BaseModel):
    comment: str | None = Field(default=None, max_length=2000)


class CommentIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class AssignIn(BaseModel):
    assignee: str | None = Field(description="who takes it; null unassigns", min_length=1, max_length=120)


# -- keys -------------------------------------------------------------------------------------------------


class KeyIn(BaseModel):
    name: str = Field(pattern=NAME_PATTERN)
    role: Role
    plants: list[Annotated[str, Field(pattern=ID_PATTERN)]] | None = Field(
        default=None, min_length=1, max_length=1000,
        description="the plants this key reads (ids from the catalogue); left out or null: every plant",
    )


class KeyOut(BaseModel):
    key_id: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    plants: list[str] | None = Field(description="the plants this key reads; null: every plant")


class KeyIssuedOut(BaseModel):
    key: KeyOut
    secret_key: str = Field(description="shown once; only its SHA-256 hash is stored")


class KeyList(BaseModel):
    keys: list[KeyOut]


class AuditEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    target: str
    detail: str


class AuditTrail(BaseModel):
    entries: list[AuditEntry]
