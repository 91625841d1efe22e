"""Tonnage treated: per local day, ISO week or month, per source facility and per waste code, summed
in integer grams so totals are exact to the gram; batch counts and the facilities served."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from wastewatch.compliance.windows import local_day
from wastewatch.plant import PlantConfig
from wastewatch.records import BATCH
from wastewatch.store.base import Store
from wastewatch.summaries.periods import local_midnight_ms

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


DAY_S = 86_400
FALLBACK_BUCKET_S = 900
"""Where the zone's UTC offset changes inside the range (DST), sums are fetched per quarter-hour instead."""

Cell = tuple[date, str, str]
"""(local day, facility, waste code)."""


def tonnage(store: Store, plant: PlantConfig, start_ms: int, end_ms: int, by: Grouping = "day") -> Tonnage:
    """The batches fed in [start_ms, end_ms), grouped on the plant's local calendar.

    Served by two aggregate queries (sum and count of `mass_kg` per local day, facility and waste
    code), never by fetching each batch. Each group's sum is rounded to whole grams once: exact as
    long as batches are weighed to the gram (a float sum of a day's batches drifts by far less).
    """
    cells = _cells(store, plant, start_ms, end_ms)
    names = {f.id: f.name for f in plant.facilities}
    buckets = _buckets(cells, plant.zone, start_ms, end_ms, by)
    by_facility = _shares(((c[1], g, n) for c, (g, n) in cells.items()), names)
    by_code = _shares(((c[2], g, n) for c, (g, n) in cells.items()), {})
    return Tonnage(
        plant.id, start_ms, end_ms, by, sum(g for g, _ in cells.values()), sum(n for _, n in cells.values()),
        buckets, by_facility, by_code, tuple(s.key for s in by_facility if s.mass_g > 0),
    )


def _cells(store: Store, plant: PlantConfig, start_ms: int, end_ms: int) -> dict[Cell, tuple[int, int]]:
    offset_s = constant_offset_s(plant.zone, start_ms, end_ms)
    every_s, shift_s = (DAY_S, -offset_s) if offset_s is not None else (FALLBACK_BUCKET_S, 0)
    cells: dict[Cell, list[int]] = defaultdict(lambda: [0, 0])
    for i, fn in enumerate(("sum", "count")):
        rows = store.aggregate(
            BATCH, "mass_kg", "sum" if fn == "sum" else "count", where={"plant": plant.id}, start_ms=start_ms,
            end_ms=end_ms, every_s=every_s, group_by=("source", "waste_code"), offset_s=shift_s,
        )
        for row in rows:
            if row.time_ms is None or row.value is None:
                continue
            key = (local_day(row.time_ms, plant.zone), row.tags.get("source") or "", row.tags.get("waste_code") or NO_CODE)
            cells[key][i] += round(row.value * 1000) if fn == "sum" else int(row.value)
    return {k: (v[0], v[1]) for k, v in cells.items()}


def constant_offset_s(zone: ZoneInfo, start_ms: int, end_ms: int) -> int | None:
    """The zone's UTC offset in seconds when it is the same at every local midnight of the range, else None."""
    day, last = local_day(start_ms, zone), local_day(max(start_ms, end_ms - 1), zone)
    offsets: set[int] = set()
    while day <= last + timedelta(days=1):
        offset = datetime.fromtimestamp(local_midnight_ms(day, zone) / 1000, tz=zone).utcoffset()
        offsets.add(int(offset.total_seconds()) if offset is not None else 0)
        day += timedelta(days=1)
    return offsets.pop() if len(offsets) == 1 else None


def bucket_of(day: date, by: Grouping) -> tuple[str, date, date]:
    """The calendar bucket holding a local day: its key, first day and the day after it."""
    if by == "day":
        return day.isoformat(), day, day + timedelta(days=1)
    if by == "week":
        iso = day.isocalendar()
        monday = day - timedelta(days=iso.weekday - 1)
        return f"{iso.year}-W{iso.week:02d}", monday, monday + timedelta(days=7)
    first = day.replace(day=1)
    after = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    return f"{first.year:04d}-{first.month:02d}", first, after


def _buckets(cells: dict[Cell, tuple[int, int]], zone: ZoneInfo, start_ms: int, end_ms: int, by: Grouping) -> tuple[TonnageBucket, ...]:
    """Every bucket the range touches, empty ones included (a chart shows the idle days)."""
    totals: dict[str, list[int]] = {}
    bounds: dict[str, tuple[int, int]] = {}
    day, last = local_day(start_ms, zone), local_day(max(start_ms, end_ms - 1), zone)
    while day <= last:
        key, first, after = bucket_of(day, by)
        if key not in totals:
            totals[key] = [0, 0]
            bounds[key] = (max(start_ms, local_midnight_ms(first, zone)), min(end_ms, local_midnight_ms(after, zone)))
        day += timedelta(days=1)
    for (cell_day, _, _), (grams, count) in cells.items():
        key = bucket_of(cell_day, by)[0]
        if key in totals:
            totals[key][0] += grams
            totals[key][1] += count
    return tuple(TonnageBucket(k, *bounds[k], g, n) for k, (g, n) in totals.items())


def _shares(items: Iterable[tuple[str, int, int]], names: dict[str, str]) -> tuple[TonnageShare, ...]:
    """Totals per key, largest first (ties by key)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, grams, count in items:
        totals[key][0] += grams
        totals[key][1] += count
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return tuple(TonnageShare(k, names.get(k, k), g, n) for k, (g, n) in ordered)
