"""Stored records as the ledger sees them, pure: each with its kind, a key that names it, the local day
it belongs to and its content (identity and fields), and the leaf a sealed day keeps for it.

    kind                 key                                                      day (plant's local)
    emission_avg         emission_avg,period=30min,plant=kotim,…@<window start ms>   the window's start
    emission_day         emission_day,plant=kotim,…@<local midnight ms>             the day
    emission_amendment   emission_amendment,amended_at=<ms>,period=…@<window ms>    when it was made (amended_at)
    alert_transition     alert_transitions id=<id>                                  its at_ms, or the first day
    api_audit            api_audit id=<id>                                            sealed after it was written
    ledger_watermark     alert_transitions | api_audit                              each sealed day: the table's
                                                                                  highest id when it was sealed

A row's day is the later of its at_ms's local day and the first sealed day whose watermark of its
table reaches its id (`check.RowDays`): a row written late with an older time (alerts raised from
data replayed after an outage) joins the next seal, not a sealed day.

A result's content is the stored point: measurement, tags, time and every field (a field left by an
earlier write counts too: it is what a reader gets). An amendment's leaf also carries the key of the
result it changed (`target`), the hash that result had in the ledger before it (`replaced`, empty when
it was not sealed yet) and its hash when the amendment's day was sealed (`replacement`): those three
are part of the amendment's leaf hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from wastewatch.compliance.amendments import EMISSION_AMENDMENT, Amendment
from wastewatch.compliance.results import EMISSION_AVG, EMISSION_DAY, AverageRecord, DayRecord, same_value
from wastewatch.compliance.windows import local_day
from wastewatch.ledger.hashing import Content, leaf_hash
from wastewatch.points import Point

ALERT_TRANSITION = "alert_transition"
API_AUDIT = "api_audit"
LEDGER_WATERMARK = "ledger_watermark"
RESULT_KINDS = frozenset({EMISSION_AVG, EMISSION_DAY})
"""The kinds an amendment may change."""
TRAILS = {"alert_transitions": ALERT_TRANSITION, "api_audit": API_AUDIT}
"""The relational trails (table: kind) a day seals up to its watermarks."""


@dataclass(frozen=True, slots=True)
class ResultState:
    """What an amendment says about a result: its quality, value (None when the quality carries none)
    and calculation version."""

    quality: str
    value: float | None
    version: str

    def same(self, other: ResultState) -> bool:
        return (self.quality, self.version) == (other.quality, other.version) and same_value(self.value, other.value)


@dataclass(frozen=True, slots=True)
class Record:
    """One stored record: `state` for a result; for an amendment `time_ms` is when it was made, and
    `target`, `target_ms` and `new_state` the result it changed, that result's time and what it is now."""

    kind: str
    key: str
    day: date
    time_ms: int
    content: Content
    state: ResultState | None = None
    target: str = ""
    target_ms: int = 0
    new_state: ResultState | None = None
    row_id: int = 0
    """A row's id in its table (`content['table']`): where the day's watermark of that table places it."""

    @property
    def hash(self) -> str:
        """The leaf hash of a result or a row (an amendment's needs its ledger fields: `Leaf.for_amendment`)."""
        return leaf_hash(self.content)


@dataclass(frozen=True, slots=True)
class Leaf:
    """What a sealed day keeps of one record: enough to name it and to check it again."""

    kind: str
    key: str
    hash: str
    target: str = ""
    replaced: str = ""
    replacement: str = ""

    @classmethod
    def of(cls, record: Record) -> Leaf:
        return cls(record.kind, record.key, record.hash)

    @classmethod
    def for_amendment(cls, record: Record, replaced: str, replacement: str) -> Leaf:
        return cls(record.kind, record.key, amendment_hash(record, replaced, replacement), record.target, replaced, replacement)

    def to_json(self) -> list[str]:
        row = [self.kind, self.key, self.hash]
        return row + [self.target, self.replaced, self.replacement] if self.target else row

    @classmethod
    def from_json(cls, row: list[Any]) -> Leaf:
        return cls(*(str(v) for v in row))


def amendment_hash(record: Record, replaced: str, replacement: str) -> str:
    """An amendment's leaf hash: its stored point and what it replaced in the ledger."""
    return leaf_hash({**record.content, "ledger": {"target": record.target, "replaced": replaced, "replacement": replacement}})


def point_key(measurement: str, tags: Mapping[str, str], time_ms: int) -> str:
    return measurement + "".join(f",{k}={v}" for k, v in sorted(tags.items())) + f"@{time_ms}"


def point_content(point: Point) -> Content:
    return {"measurement": point.measurement, "tags": dict(point.tags), "time_ms": point.time_ms, "fields": dict(point.fields)}


def result_record(point: Point, zone: ZoneInfo) -> Record:
    """An `emission_avg` or `emission_day` point."""
    if point.measurement == EMISSION_AVG:
        avg = AverageRecord.from_point(point)
        state = ResultState(avg.quality.value, avg.value, avg.version)
    elif point.measurement == EMISSION_DAY:
        day = DayRecord.from_point(point, zone)
        state = ResultState(day.quality.value, day.value, day.version)
    else:
        raise ValueError(f"{point.measurement} is not a compliance result")
    key = point_key(point.measurement, point.tags, point.time_ms)
    return Record(point.measurement, key, local_day(point.time_ms, zone), point.time_ms, point_content(point), state=state)


def amendment_target(amendment: Amendment) -> str:
    """The key of the result an amendment changed."""
    tags = {"plant": amendment.plant, "profile": amendment.profile, "pollutant": amendment.pollutant}
    if amendment.period == "24h":
        return point_key(EMISSION_DAY, tags, amendment.start_ms)
    return point_key(EMISSION_AVG, {**tags, "period": amendment.period}, amendment.start_ms)


def amendment_record(point: Point, zone: ZoneInfo) -> Record:
    """An `emission_amendment` point: a record of the local day it was made."""
    amendment = Amendment.from_point(point)
    new = ResultState(amendment.new_quality.value, amendment.new_value, amendment.new_version)
    return Record(
        EMISSION_AMENDMENT, point_key(point.measurement, point.tags, point.time_ms), local_day(amendment.at_ms, zone),
        amendment.at_ms, point_content(point), target=amendment_target(amendment), target_ms=amendment.start_ms, new_state=new,
    )


def row_record(kind: str, table: str, row: Mapping[str, Any], zone: ZoneInfo) -> Record:
    """A row of an append-only table with an `id` and an `at_ms`: every column it was read with."""
    row_id, at_ms = int(row["id"]), int(row["at_ms"])
    fields = {k: v for k, v in row.items() if k not in ("id", "at_ms")}
    content = {"table": table, "id": row_id, "time_ms": at_ms, "fields": fields}
    return Record(kind, f"{table} id={row_id}", local_day(at_ms, zone), at_ms, content, row_id=row_id)


def watermark_record(table: str, max_id: int, day: date) -> Record:
    """A sealed day's watermark of one trail: the highest id the table had when the day was sealed, so
    a row that arrives later with an older time goes into the next seal instead of passing for added."""
    return Record(LEDGER_WATERMARK, table, day, 0, {"table": table, "max_id": max_id})
