"""Encode points as InfluxDB line protocol (millisecond precision)."""

from __future__ import annotations

import math

from wastewatch.store.base import FieldValue, Point

_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})


def _field(value: FieldValue) -> str:
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


def encode_point(point: Point) -> str:
    """One line of line protocol; tags sorted, as InfluxDB recommends."""
    parts = [point.measurement.translate(_MEASUREMENT)]
    for key in sorted(point.tags):
        value = point.tags[key]
        if value:
            parts.append(f"{key.translate(_KEY)}={value.translate(_KEY)}")
    head = ",".join(parts)
    fields = ",".join(f"{k.translate(_KEY)}={_field(v)}" for k, v in point.fields.items())
    return f"{head} {fields} {point.time_ms}"


def encode_points(points: list[Point] | tuple[Point, ...]) -> bytes:
    return "\n".join(encode_point(p) for p in points).encode("utf-8")
