"""The store interface every backend implements, and the point it stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from wastewatch.errors import WastewatchError

FieldValue = float | int | str | bool
AggregateFn = Literal["mean", "sum", "count", "min", "max", "last"]
AGGREGATE_FNS: tuple[AggregateFn, ...] = ("mean", "sum", "count", "min", "max", "last")


@dataclass(frozen=True, slots=True)
class Point:
    """One point: a measurement, its tags, its fields and a time in epoch milliseconds.

    Two points with the same measurement, tags and time are the same point: writing it again
    overwrites (merges) its fields, so replays never duplicate.
    """

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ms: int


def check_tag_value(value: str) -> str:
    """`value` if every backend can store and give back this tag value; ValueError otherwise.

    Line protocol has no escape for a backslash that ends a tag value (it escapes the separator after
    it) nor for control characters, and a lone surrogate is not UTF-8 at all.
    """
    if value.endswith("\\") or not value.isprintable():
        raise ValueError(f"tag value {value[:60]!r} ends with a backslash or holds a control character or a lone surrogate")
    return value


def check_text(value: str) -> str:
    """`value` if it is valid UTF-8 (no lone surrogate); ValueError (UnicodeEncodeError) otherwise."""
    value.encode("utf-8")
    return value


def check_point(point: Point) -> None:
    """ValueError when a backend could not store `point` faithfully (see `check_tag_value`)."""
    for tag in point.tags.values():
        check_tag_value(tag)
    for value in point.fields.values():
        if isinstance(value, str):
            check_text(value)


FieldOp = Literal["=", "!=", ">", ">=", "<", "<="]


@dataclass(frozen=True, slots=True)
class FieldCondition:
    """A condition on a field's value (`quality = 'valid'`, `value > 30`); a point without the field fails it."""

    field: str
    op: FieldOp
    value: FieldValue


@dataclass(frozen=True, slots=True)
class AggregateRow:
    """One aggregate: the bucket start (None without a time grouping), the group's tags, the value."""

    time_ms: int | None
    tags: Mapping[str, str] = field(default_factory=dict)
    value: float | None = None


@dataclass(frozen=True, slots=True)
class SeriesColumn:
    """One field of one series (tag set): its times (epoch ms) and values, in time order."""

    tags: Mapping[str, str]
    times: list[int]
    values: list[FieldValue]


class StoreError(WastewatchError):
    """Any failure of the time-series store."""


class StoreUnavailable(StoreError):
    """The store could not be reached or failed (5xx, timeout); the same call may succeed later."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StoreRejected(StoreError):
    """The store refused the request (4xx): the data or query is bad and retrying cannot help."""


class Store(Protocol):
    """What every backend offers. Times are epoch milliseconds; ranges are [start, end)."""

    def ping(self) -> bool:
        """True when the store answers."""
        ...

    def ensure_database(self) -> None:
        """Create the database when it is missing (where the server allows it)."""
        ...

    def write(self, points: Sequence[Point]) -> None:
        """Write points; raises `StoreUnavailable` (retry) or `StoreRejected` (bad data)."""
        ...

    def select(
        self,
        measurement: str,
        *,
        where: Mapping[str, str] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int | None = None,
    ) -> list[Point]:
        """Points of one measurement whose tags equal `where`, in time order."""
        ...

    def select_column(
        self,
        measurement: str,
        field_name: str,
        *,
        where: Mapping[str, str] | None = None,
        any_of: tuple[str, Sequence[str]] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[SeriesColumn]:
        """One field of the points whose tags equal `where` and, with `any_of=(tag, values)`, whose tag
        is one of the values: one column per series, in one query. Points without the field are left out."""
        ...

    def aggregate(
        self,
        measurement: str,
        field_name: str,
        fn: AggregateFn,
        *,
        where: Mapping[str, str] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        every_s: int | None = None,
        group_by: Sequence[str] = (),
        offset_s: int = 0,
        field_where: Sequence[FieldCondition] = (),
    ) -> list[AggregateRow]:
        """`fn(field)` per time bucket of `every_s` (aligned to the epoch shifted by `offset_s`, e.g. local
        midnight) and per `group_by` tags, over points meeting every `field_where` condition.

        Empty buckets are left out.
        """
        ...

    def latest(
        self,
        measurement: str,
        field_name: str,
        *,
        where: Mapping[str, str] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        group_by: Sequence[str] = (),
    ) -> list[Point]:
        """Per `group_by` tag set, the newest point in the range that has `field_name`, in one query
        (InfluxDB's `last()` selector, SQLite's bare columns of `max(time_ms)`): its own time, that
        field and the group's tags (a tag the point lacks is left out), ordered by the tags.

        Unlike `aggregate(fn="last")`, which gives no time without a time grouping, this tells when
        each series last reported (the API's latest readings).
        """
        ...

    def close(self) -> None:
        ...
