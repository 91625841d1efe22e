"""What the operators' commands (`compliance`, `ledger`, `verify`) share on their command line: one way
to name a day and a plant, and the one error for bad input (exit 2, one line)."""

from __future__ import annotations

import re
from datetime import date

from wastewatch.errors import ConfigError
from wastewatch.plant import PlantCatalog, PlantConfig

DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")


class UsageError(ConfigError):
    """Bad input on the command line; the message is one line saying what to give instead."""


def parse_day(text: str, option: str = "--date") -> date:
    """A calendar date written YYYY-MM-DD."""
    try:
        if not DATE_PATTERN.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date: write YYYY-MM-DD, e.g. 2026-11-28") from None


def select_plant(catalog: PlantCatalog, plant_id: str | None) -> PlantConfig:
    if plant_id is None:
        if len(catalog) != 1:
            raise UsageError(f"the catalogue has several plants ({', '.join(catalog.ids)}): choose one with --plant")
        only: PlantConfig = next(iter(catalog))
        return only
    plant = catalog.get(plant_id)
    if plant is None:
        raise UsageError(f"unknown plant {plant_id!r} (known: {', '.join(catalog.ids)})")
    return plant
