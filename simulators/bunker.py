"""The waste bunker: deliveries from the plant's facilities, each under one manifest, fed batch by batch.

Batch ids (`kotim-20261128-007`) count batches per local day; manifest numbers
(`KOTIM-2026-012803`) count deliveries per day within the year. Both are deterministic for a seed.
A bunker can carry on the counts of batches another run already fed that day (`carry_on`).
"""

from __future__ import annotations

from datetime import date, datetime
from random import Random

from wastewatch.plant import PlantConfig
from wastewatch.records import Batch

WASTE_CODES: tuple[tuple[str, float], ...] = (
    ("A337-1", 0.80),  # infectious clinical waste
    ("A337-4", 0.08),  # contaminated laboratory equipment
    ("A337-2", 0.07),  # expired pharmaceuticals
    ("B337-1", 0.05),  # pharmaceutical packaging
)
UNKNOWN_SOURCE = "unknown"
_DELIVERIES_PER_DAY_MAX = 100


class Bunker:
    """Hands out the next batch: its id, source facility, waste code and manifest."""

    def __init__(self, plant: PlantConfig, rng: Random) -> None:
        self._plant = plant
        self._rng = rng
        # the first facility (the district hospital) sends the most waste
        self._sources = [f.id for f in plant.facilities] or [UNKNOWN_SOURCE]
        self._source_weights = [3.0] + [1.0] * (len(self._sources) - 1)
        self._day: date | None = None
        self._batches_today = 0
        self._deliveries_today = 0
        self._left_in_delivery = 0
        self._source = UNKNOWN_SOURCE
        self._waste_code = WASTE_CODES[0][0]
        self._manifest_no = ""

    def _new_day(self, day: date) -> None:
        self._day = day
        self._batches_today = 0
        self._deliveries_today = 0
        self._left_in_delivery = 0

    def _new_delivery(self, day: date) -> None:
        rng = self._rng
        self._deliveries_today += 1
        self._left_in_delivery = rng.randint(2, 6)
        self._source = rng.choices(self._sources, self._source_weights)[0]
        self._waste_code = rng.choices([c for c, _ in WASTE_CODES], [w for _, w in WASTE_CODES])[0]
        number = (day.timetuple().tm_yday - 1) * _DELIVERIES_PER_DAY_MAX + min(
            self._deliveries_today, _DELIVERIES_PER_DAY_MAX - 1
        )
        self._manifest_no = f"{self._plant.id.upper()}-{day.year}-{number:06d}"

    def carry_on(self, last: Batch, local: datetime) -> None:
        """Count on from `last`, a batch another run fed at local time `local`: the next batch of that
        day takes the next number and a new delivery the next manifest, so no id is used twice. A
        batch of an earlier day than this bunker's own changes nothing (its day's counts start afresh)."""
        day = local.date()
        if self._day is not None and day < self._day:
            return
        try:
            batches = int(last.batch_id.rsplit("-", 1)[1])
            deliveries = int((last.manifest_no or "").rsplit("-", 1)[1]) % _DELIVERIES_PER_DAY_MAX
        except (IndexError, ValueError):
            raise ValueError(f"batch {last.batch_id!r} (manifest {last.manifest_no!r}) is not numbered like this bunker's") from None
        self._new_day(day)
        self._batches_today, self._deliveries_today = batches, deliveries

    def take(self, t_ms: int, local: datetime, mass_kg: float) -> Batch:
        """The batch fed at `t_ms` (local plant time `local`) weighing `mass_kg`."""
        day = local.date()
        if day != self._day:
            self._new_day(day)
        if self._left_in_delivery <= 0:
            self._new_delivery(day)
        self._left_in_delivery -= 1
        self._batches_today += 1
        batch_id = f"{self._plant.id}-{day:%Y%m%d}-{self._batches_today:03d}"
        return Batch(
            plant=self._plant.id,
            batch_id=batch_id,
            time_ms=t_ms,
            mass_kg=round(mass_kg, 1),
            source=self._source,
            waste_code=self._waste_code,
            manifest_no=self._manifest_no,
        )
