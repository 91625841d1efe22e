"""Domain records carried from MQTT to the store, and how each is stored (the schema in the README)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wastewatch.points import FieldValue, Point

SampleStatus = Literal["valid", "maintenance", "malfunction"]
SAMPLE_STATUSES: tuple[SampleStatus, ...] = ("valid", "maintenance", "malfunction")

READING = "reading"
BATCH = "batch"
DEVICE_STATUS = "device_status"
PLANT_STATE = "plant_state"
"""Written by the alert worker (`alerts.plant_state.state_point`): tags plant; fields state, from_state,
reason; time = the transition. Read by the compliance timeline, the summaries, the API and Grafana."""
SIMULATED_HISTORY = "simulated_history"
"""Written by the history back-fill (`launch.history`, the demo): tags plant; fields end_ms (integer),
seed; time = the start of [start, end), a stretch of simulated readings written straight into the store.
Read by the report, which says which part of its period is simulated."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One sensor value at one instant, with its EN 17255 status."""

    plant: str
    sensor: str
    time_ms: int
    value: float
    status: SampleStatus = "valid"

    def to_point(self) -> Point:
        return Point(READING, {"plant": self.plant, "sensor": self.sensor, "status": self.status}, {"value": self.value}, self.time_ms)


@dataclass(frozen=True, slots=True)
class Batch:
    """One weighed waste batch fed into the incinerator, with the facility it came from."""

    plant: str
    batch_id: str
    time_ms: int
    mass_kg: float
    source: str
    waste_code: str | None = None
    manifest_no: str | None = None

    def to_point(self) -> Point:
        tags = {"plant": self.plant, "source": self.source}
        if self.waste_code:
            tags["waste_code"] = self.waste_code
        fields: dict[str, FieldValue] = {"mass_kg": self.mass_kg, "batch_id": self.batch_id}
        if self.manifest_no:
            fields["manifest_no"] = self.manifest_no
        return Point(BATCH, tags, fields, self.time_ms)


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """A device's online/offline state (its retained status topic, set as its last will)."""

    plant: str
    device: str
    time_ms: int
    online: bool

    def to_point(self) -> Point:
        return Point(DEVICE_STATUS, {"plant": self.plant, "device": self.device}, {"online": int(self.online)}, self.time_ms)


@dataclass(frozen=True, slots=True)
class SimulatedHistory:
    """A stretch [start_ms, end_ms) of a plant's store filled by the simulator, not measured."""

    plant: str
    start_ms: int
    end_ms: int
    seed: int

    def to_point(self) -> Point:
        return Point(SIMULATED_HISTORY, {"plant": self.plant}, {"end_ms": self.end_ms, "seed": self.seed}, self.start_ms)


Record = Reading | Batch | DeviceStatus
