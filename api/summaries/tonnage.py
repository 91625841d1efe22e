"""Tonnage treated: per local day, ISO week or month, per source facility and per waste code, summed
in integer grams so totals are exact to the gram; batch counts and the facilities served."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from api.summaries.cells import (
    Cells,
    capped,
    days_of_month,
    months_within,
    next_month,
    raw_cells,
    runs_outside,
    whole_days,
)
from api.summaries.periods import local_midnight_ms
from api.summaries.rollup import TONNAGE_MONTH, day_totals, read_rollup_cells, rolled_up_months
from wastewatch.compliance.windows import local_day
from wastewatch.plant import PlantConfig
from wastewatch.points import Store

Grouping = Literal["day", "week", "month"]


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


MAX_RAW_RUNS = 3
"""Stretches not rolled up read with one query (pair) each; with more, one spans them all."""
DayTotals = dict[date, tuple[int, int]]
"""(grams, batches) per local day."""


def tonnage(store: Store, plant: PlantConfig, start_ms: int, end_ms: int, by: Grouping = "day") -> Tonnage:
    """The batches fed in [start_ms, end_ms), grouped on the plant's local calendar.

    Whole months and days that the day job has rolled up come from the rollup; the rest (partial days
    at the range's ends, today, days not rolled up yet) from aggregate queries over the raw batches.
    Both sum integer grams per local day, facility and waste code: the result is the same.
    """
    cells, days = tonnage_cells(store, plant, start_ms, end_ms)
    names = {f.id: f.name for f in plant.facilities}
    buckets = _buckets(days, plant.zone, start_ms, end_ms, by)
    by_facility = _shares(((c[1], g, n) for c, (g, n) in cells.items()), names)
    by_code = _shares(((c[2], g, n) for c, (g, n) in cells.items()), {})
    return Tonnage(
        plant.id, start_ms, end_ms, by, sum(g for g, _ in cells.values()), sum(n for _, n in cells.values()),
        buckets, by_facility, by_code, tuple(s.key for s in by_facility if s.mass_g > 0),
    )


def tonnage_cells(store: Store, plant: PlantConfig, start_ms: int, end_ms: int) -> tuple[Cells, DayTotals]:
    """Grams and batches of [start_ms, end_ms) per facility and waste code (cells keyed by a local day,
    or by a month's first day where a rolled-up month serves them), and per local day."""
    zone = plant.zone
    first, after = whole_days(zone, start_ms, end_ms)
    cells: Cells = {}
    days: DayTotals = {}
    covered: set[date] = set()
    if first < after:
        inner_start, inner_end = local_midnight_ms(first, zone), local_midnight_ms(after, zone)
        marked = day_totals(store, plant, inner_start, inner_end)
        months = months_within(first, after)
        if months and marked:
            span = (local_midnight_ms(months[0], zone), local_midnight_ms(next_month(months[-1]), zone))
            done = rolled_up_months(store, plant, *span)
            if done:
                cells.update((k, v) for k, v in read_rollup_cells(store, plant, *span, TONNAGE_MONTH).items() if k[0] in done)
                covered.update(*(days_of_month(m) for m in done))
        for run_start, run_end in capped(runs_outside(zone, inner_start, inner_end, first, after, covered), MAX_RAW_RUNS):
            found = {k: v for k, v in read_rollup_cells(store, plant, run_start, run_end).items() if k[0] in marked and k[0] not in covered}
            cells.update(found)
            covered.update(d for d in marked if run_start <= local_midnight_ms(d, zone) < run_end)
        days.update((d, v) for d, v in marked.items() if d in covered)
    for run_start, run_end in capped(runs_outside(zone, start_ms, end_ms, first, after, covered), MAX_RAW_RUNS):
        for key, (grams, n) in raw_cells(store, plant, run_start, run_end).items():
            if key[0] not in covered:
                cells[key] = (grams, n)
                g0, n0 = days.get(key[0], (0, 0))
                days[key[0]] = (g0 + grams, n0 + n)
    return cells, days


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


def _buckets(days: DayTotals, zone: ZoneInfo, start_ms: int, end_ms: int, by: Grouping) -> tuple[TonnageBucket, ...]:
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
    for cell_day, (grams, count) in days.items():
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
