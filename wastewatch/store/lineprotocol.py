"""Encode points as InfluxDB line protocol (millisecond precision)."""

from __future__ import annotations

import functools
import math

from wastewatch.points import FieldValue, Point, check_tag_value

_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})


def _field(value: FieldValue) -> str:
    if type(value) is float and value - value == 0.0:  # a finite float, the common case (inf - inf is nan)
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"line protocol cannot carry {value!r}")
        return repr(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _tag(value: str) -> str:
    return check_tag_value(value).translate(_KEY)  # ValueError: the writer dead-letters the point


@functools.lru_cache(maxsize=65_536)
def _series(measurement: str, tags: tuple[tuple[str, str], ...]) -> str:
    parts = [measurement.translate(_MEASUREMENT)]
    parts += [f"{k.translate(_KEY)}={_tag(v)}" for k, v in sorted(tags) if v]
    return ",".join(parts)


@functools.lru_cache(maxsize=1024)
def _field_key(key: str) -> str:
    return key.translate(_KEY)


def encode_point(point: Point) -> str:
    """One line of line protocol; tags sorted, as InfluxDB recommends (series and field keys are cached)."""
    head = _series(point.measurement, tuple(point.tags.items()))
    fields = ",".join([f"{_field_key(k)}={_field(v)}" for k, v in point.fields.items()])
    return f"{head} {fields} {point.time_ms}"


def encode_points(points: list[Point] | tuple[Point, ...]) -> bytes:
    return "\n".join(map(encode_point, points)).encode("utf-8")
