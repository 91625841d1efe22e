"""What every protocol's device entry obeys in the device file: each sensor mapped once, and a status entry
speaking only for the device's own points (Modbus registers and OPC UA nodes alike)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class _Mapped(Protocol):
    sensor: str


class _Covering(Protocol):
    covers: list[str] | None


def check_mapping(points: Sequence[_Mapped], status: Sequence[_Covering]) -> None:
    """Every protocol's device: each sensor mapped once, and a status entry covers only the device's points
    (a `ValueError` naming the entry, which pydantic reports with the device and field)."""
    seen: set[str] = set()
    for i, point in enumerate(points):
        if point.sensor in seen:
            raise ValueError(f"points[{i}]: sensor {point.sensor!r} is mapped twice")
        seen.add(point.sensor)
    for i, entry in enumerate(status):
        for sensor in entry.covers or []:
            if sensor not in seen:
                raise ValueError(f"status[{i}].covers: {sensor!r} is not a point of this device")


def covered_sensors(points: Sequence[_Mapped], status: _Covering) -> list[str]:
    """The sensors a status entry speaks for: those it names, else every point of the device."""
    return list(status.covers) if status.covers is not None else [p.sensor for p in points]
