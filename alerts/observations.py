"""What the evaluator is shown: a record from the plant, a plant-state change, or time passing."""

from __future__ import annotations

from dataclasses import dataclass

from alerts.plant_state import PlantState
from wastewatch.records import Batch, DeviceStatus, Reading


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed with nothing to report; the worker's scheduler sends it so tolerances and silences
    complete without new data. The time is the `now_ms` given with it."""


Observation = Reading | Batch | DeviceStatus | PlantState | Tick
