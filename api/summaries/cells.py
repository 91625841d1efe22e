"""Batch mass per local day, facility and waste code ("cells") summed from the raw `batch` points:
what the tonnage summary serves for days without a rollup, and what the rollup stores."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from api.summaries.periods import local_midnight_ms
from wastewatch.compliance.windows import local_day
from wastewatch.plant import PlantConfig
from wastewatch.points import Store
from wastewatch.records import BATCH

NO_CODE = "-"
"""Waste-code key of batches sent without a code."""
DAY_S = 86_400
FALLBACK_BUCKET_S = 900
"""Where the zone's UTC offset changes inside the range (DST), sums are fetched per quarter-hour instead."""

Cell = tuple[date, str, str]
"""(local day, facility, waste code)."""
Cells = dict[Cell, tuple[int, int]]
"""Per cell: (grams, batches)."""


def raw_cells(store: Store, plant: PlantConfig, start_ms: int, end_ms: int) -> Cells:
    """Two aggregate queries (sum and count of `mass_kg` per local day, facility and waste code) over
    [start_ms, end_ms). Each group's sum is rounded to whole grams once: exact as long as batches are
    weighed to the gram (a float sum of a day's batches drifts by far less)."""
    if end_ms <= start_ms:
        return {}
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


def whole_days(zone: ZoneInfo, start_ms: int, end_ms: int) -> tuple[date, date]:
    """[first, after) of the local days lying wholly inside [start_ms, end_ms) (empty when first >= after)."""
    first = local_day(start_ms, zone)
    if local_midnight_ms(first, zone) < start_ms:
        first += timedelta(days=1)
    after = local_day(end_ms, zone)
    return first, max(first, after)


def runs_outside(
    zone: ZoneInfo, start_ms: int, end_ms: int, first: date, after: date, covered: set[date] | frozenset[date]
) -> list[tuple[int, int]]:
    """[start, end) of each maximal stretch of [start_ms, end_ms) outside the `covered` whole days
    (`first`..`after` being the whole days of the range, see `whole_days`)."""
    runs: list[tuple[int, int]] = []
    run_start: int | None = start_ms if start_ms < local_midnight_ms(first, zone) else None
    day = first
    while day < after:
        midnight = local_midnight_ms(day, zone)
        if day in covered and run_start is not None:
            runs.append((run_start, midnight))
            run_start = None
        elif day not in covered and run_start is None:
            run_start = midnight
        day += timedelta(days=1)
    if run_start is not None:
        runs.append((run_start, end_ms))
    elif local_midnight_ms(after, zone) < end_ms:
        runs.append((local_midnight_ms(after, zone), end_ms))
    return [(a, b) for a, b in runs if a < b]


def capped(runs: list[tuple[int, int]], max_runs: int) -> list[tuple[int, int]]:
    """The runs, or one run spanning them all when there are more than `max_runs` (fewer queries)."""
    return [(runs[0][0], runs[-1][1])] if len(runs) > max_runs else runs


def next_month(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)


def months_within(first: date, after: date) -> list[date]:
    """First days of the calendar months lying wholly within the days [first, after)."""
    month = first if first.day == 1 else next_month(first.replace(day=1))
    found: list[date] = []
    while next_month(month) <= after:
        found.append(month)
        month = next_month(month)
    return found


def days_of_month(month: date) -> set[date]:
    return {month + timedelta(days=i) for i in range((next_month(month) - month).days)}
