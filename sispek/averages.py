"""5-minute values per stack from raw samples (pure: no clock, no store).

A channel's value for a slot [t, t + 5 min) is the mean of its *valid* samples there. A channel with
no valid sample in the slot has no value: it is left out of the record, never zero, never carried
over. A slot in which no channel has a value is no record at all. With `send_sentinels` (only when
the server requires it: it distorts every average computed from the data) a pollutant parameter
without a valid sample gets 1 when some of its samples in the slot were calibration (`maintenance`)
and 0 when they were `malfunction` (a broken analyser); oxygen and flow never get a sentinel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sispek.stacks import StackMapping
from wastewatch.compliance.samples import Sample

SLOT_MS = 300_000
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # [A] the plant's local time, the slot's start
SENTINEL_CALIBRATION = 1.0  # [A] a slot whose analyser was only in calibration (maintenance)
SENTINEL_MALFUNCTION = 0.0  # [A] a slot whose analyser was only broken (malfunction)


@dataclass(frozen=True, slots=True)
class SlotRecord:
    """One stack's 5-minute record: its parameters' values and, when measured, oxygen and flow."""

    plant: str
    id_cerobong: str
    slot_ms: int
    waktu: str
    parameters: Mapping[str, float]
    o2: float | None = None
    flow: float | None = None
    sentinels: tuple[str, ...] = field(default=())  # the parameters whose value is a sentinel, not a measurement

    @property
    def key(self) -> str:
        """The idempotency key: one record per plant, stack and 5-minute slot."""
        return f"sispek-{self.plant}-{self.id_cerobong}-{self.slot_ms}"

    def payload(self) -> dict[str, Any]:
        """The record as the submit call carries it ([A] names)."""
        body: dict[str, Any] = {"waktu": self.waktu, "parameter": dict(sorted(self.parameters.items()))}
        if self.o2 is not None:
            body["o2"] = self.o2
        if self.flow is not None:
            body["laju_alir"] = self.flow
        return body


def slot_of(time_ms: int) -> int:
    return time_ms - time_ms % SLOT_MS


def local_time(slot_ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(slot_ms / 1000, zone).strftime(TIME_FORMAT)


@dataclass(slots=True)
class _Slot:
    total: list[float] = field(default_factory=list)
    maintenance: bool = False
    malfunction: bool = False


def _by_slot(samples: Sequence[Sample], start_ms: int, end_ms: int) -> dict[int, _Slot]:
    slots: dict[int, _Slot] = {}
    for sample in samples:
        if not start_ms <= sample.time_ms < end_ms:
            continue
        slot = slots.setdefault(slot_of(sample.time_ms), _Slot())
        if sample.status == "valid":
            if math.isfinite(sample.value):
                slot.total.append(sample.value)
        elif sample.status == "maintenance":
            slot.maintenance = True
        elif sample.status == "malfunction":
            slot.malfunction = True
    return slots


def _mean(values: list[float]) -> float | None:
    if not values:
        return None
    n = len(values)
    mean = math.fsum(v / n for v in values)  # each term divided first: no overflow near the float limit
    return min(max(mean, min(values)), max(values))  # a rounding error never leaves the samples' range


def five_minute_records(
    stack: StackMapping, samples: Mapping[str, Sequence[Sample]], start_ms: int, end_ms: int, zone: ZoneInfo, *,
    send_sentinels: bool = False,
) -> list[SlotRecord]:
    """The stack's records for the slots in [start_ms, end_ms) (both on 5-minute boundaries), in time order."""
    if start_ms % SLOT_MS or end_ms % SLOT_MS:
        raise ValueError(f"[{start_ms}, {end_ms}) is not on 5-minute boundaries")
    channels = {sensor: _by_slot(samples.get(sensor, ()), start_ms, end_ms) for sensor in stack.sensors}
    records: list[SlotRecord] = []
    for slot_ms in range(start_ms, end_ms, SLOT_MS):
        values: dict[str, float] = {}
        sentinels: list[str] = []
        for name, sensor in stack.parameters.items():
            slot = channels[sensor].get(slot_ms)
            if slot is None:
                continue
            mean = _mean(slot.total)
            if mean is not None:
                values[name] = mean
            elif send_sentinels and (slot.maintenance or slot.malfunction):
                values[name] = SENTINEL_CALIBRATION if slot.maintenance else SENTINEL_MALFUNCTION
                sentinels.append(name)
        o2 = _channel_mean(channels, stack.oxygen, slot_ms)
        flow = _channel_mean(channels, stack.flow, slot_ms)
        if values or o2 is not None or flow is not None:
            records.append(SlotRecord(stack.plant, stack.id_cerobong, slot_ms, local_time(slot_ms, zone), values, o2, flow,
                                      tuple(sorted(sentinels))))
    return records


def _channel_mean(channels: Mapping[str, dict[int, _Slot]], sensor: str | None, slot_ms: int) -> float | None:
    if sensor is None:
        return None
    slot = channels[sensor].get(slot_ms)
    return _mean(slot.total) if slot is not None else None
