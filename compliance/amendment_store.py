"""The amendment records (`wastewatch.compliance.amendments`) read back from the time-series store."""

from __future__ import annotations

from wastewatch.compliance.amendments import EMISSION_AMENDMENT, Amendment
from wastewatch.points import Store


def read_amendments(store: Store, plant_id: str, start_ms: int | None = None, end_ms: int | None = None) -> list[Amendment]:
    """Amendments of windows starting in [start_ms, end_ms), in window order."""
    points = store.select(EMISSION_AMENDMENT, where={"plant": plant_id}, start_ms=start_ms, end_ms=end_ms)
    return sorted((Amendment.from_point(p) for p in points), key=lambda a: (a.start_ms, a.at_ms, a.profile, a.pollutant, a.period))
