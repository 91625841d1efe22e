"""What the simulator published, counted the way the store will hold it, so tests can compare.

A stored point is identified by its sensor, status and timestamp, so a duplicate (or a clock-skewed
reading landing on an existing timestamp) counts once. Keys are remembered for a rolling window of
publish time, which bounds memory on long runs; repeats further apart than that are not expected.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from simulators.messages import Message
from wastewatch.records import Batch, DeviceStatus, Reading

_KEY_MEMORY_MS = 6 * 3_600_000


@dataclass(slots=True)
class Tally:
    """Running counts of published messages and of the records they carry."""

    messages: int = 0
    copies: int = 0
    status_messages: int = 0
    readings_by_sensor: Counter[str] = field(default_factory=Counter)
    readings_by_status: Counter[str] = field(default_factory=Counter)
    invalid_by_reason: Counter[str] = field(default_factory=Counter)
    batch_ids: set[str] = field(default_factory=set, repr=False)
    batch_mass_total_kg: float = 0.0
    first_ts_ms: int | None = None
    last_ts_ms: int | None = None
    _keys: set[tuple[str, int, str]] = field(default_factory=set, repr=False)
    _older_keys: set[tuple[str, int, str]] = field(default_factory=set, repr=False)
    _keys_since_ms: int | None = field(default=None, repr=False)

    @property
    def distinct_valid_readings(self) -> int:
        """Readings the ingest should store (from messages it accepts), each point once, any status."""
        return sum(self.readings_by_sensor.values())

    @property
    def batches(self) -> int:
        return len(self.batch_ids)

    @property
    def invalid_messages(self) -> int:
        return sum(self.invalid_by_reason.values())

    def record(self, message: Message) -> None:
        self.messages += 1
        self.copies += message.copy
        if not message.valid:
            self.invalid_by_reason[message.expected_reason or "unknown"] += 1
            return
        self._rotate(message.at_ms)
        for rec in message.records:
            if isinstance(rec, Reading):
                self._reading(rec)
            elif isinstance(rec, Batch):
                self._batch(rec)
            elif isinstance(rec, DeviceStatus):
                self.status_messages += 1

    def _rotate(self, at_ms: int) -> None:
        if self._keys_since_ms is None:
            self._keys_since_ms = at_ms
        elif at_ms - self._keys_since_ms >= _KEY_MEMORY_MS:
            self._older_keys, self._keys = self._keys, set()
            self._keys_since_ms = at_ms

    def _reading(self, reading: Reading) -> None:
        key = (reading.sensor, reading.time_ms, reading.status)
        if key in self._keys or key in self._older_keys:
            return
        self._keys.add(key)
        self.readings_by_sensor[reading.sensor] += 1
        self.readings_by_status[reading.status] += 1
        if self.first_ts_ms is None or reading.time_ms < self.first_ts_ms:
            self.first_ts_ms = reading.time_ms
        if self.last_ts_ms is None or reading.time_ms > self.last_ts_ms:
            self.last_ts_ms = reading.time_ms

    def _batch(self, batch: Batch) -> None:
        if batch.batch_id in self.batch_ids:
            return
        self.batch_ids.add(batch.batch_id)
        self.batch_mass_total_kg += batch.mass_kg
