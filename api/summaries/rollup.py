"""Daily rollups kept by the compliance day job, so year-long summaries read a few thousand stored
points instead of every batch and average. Time of every point: the local midnight starting the day
(or the month).

- `tonnage_day` / `tonnage_month`: tags plant, source, waste_code (`-` for none); fields grams, batches (integers).
- `compliance_count_day` / `compliance_count_month`: tags plant; fields counts (a JSON object
  `{"profile/pollutant/period": {"valid": n, …}}`, see `summaries.counts`; one field, so a year is
  read as 12 values, not hundreds of series × fields), limits (fingerprint of the limits counted
  against: counts of other limits are not used), rolled_up_ms.
- `rollup_day` / `rollup_month`: tags plant; fields grams, batches (day only), rolled_up_ms.

Every day (month) rolled up gets its points, empty ones included: a summary serves a day from the
rollup only when they exist. A month is summed from its days once it has ended and all of its days
are rolled up.

Rolling a day up again overwrites the same points (idempotent; a count or cell that vanished is
overwritten with zeros). Late data is taken in by rolling its days up again: the compliance day job
(`rollup_after_day`, wired into `ComplianceJobs` by `wastewatch compliance`) redoes the last
`LOOKBACK_DAYS` days, and the day it judged when that is older; `wastewatch report rollup --since`
any range.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from api.summaries.cells import Cells, next_month, raw_cells
from api.summaries.counts import (
    Counts,
    count_averages,
    count_days,
    limits_fingerprint,
    merge,
    totals,
)
from api.summaries.periods import local_midnight_ms
from api.summaries.profiles import plant_profiles
from compliance.result_store import read_days
from wastewatch.compliance.profiles import Profile
from wastewatch.compliance.results import EMISSION_AVG
from wastewatch.compliance.windows import local_day
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import FieldValue, Point, Store
from wastewatch.settings import Settings
from wastewatch.store import open_store

logger = logging.getLogger(__name__)

TONNAGE_DAY, TONNAGE_MONTH = "tonnage_day", "tonnage_month"
COUNT_DAY, COUNT_MONTH = "compliance_count_day", "compliance_count_month"
ROLLUP_DAY, ROLLUP_MONTH = "rollup_day", "rollup_month"
LOOKBACK_DAYS = 7
"""Days the day job rolls up again each night: batches and readings back-filled within a week are taken in."""
CHUNK_DAYS = 31
"""Days rolled up per round of raw queries (bounds the size of one answer)."""


@dataclass(frozen=True, slots=True)
class RollupReport:
    plant: str
    days: int
    months: int
    grams: int
    batches: int


def rollup_recent_days(store: Store, plant: PlantConfig, now_ms: int, days: int = LOOKBACK_DAYS) -> RollupReport:
    """The day job's hook: the last `days` local days that have ended by `now_ms` (yesterday included)."""
    today = local_day(now_ms, plant.zone)
    start = local_midnight_ms(today - timedelta(days=days), plant.zone)
    return rollup(store, plant, start, local_midnight_ms(today, plant.zone), now_ms=now_ms)


def rollup_after_day(store: Store, plant: PlantConfig, day: date, now_ms: int) -> RollupReport:
    """The compliance day job's hook (`jobs.DayHook`): the last `LOOKBACK_DAYS` days, and `day`
    itself (with its month) when the job judged an older day, so an operator's `run-day` of a past
    day does not leave that day's stored counts behind its recomputed results."""
    recent = rollup_recent_days(store, plant, now_ms)
    if day >= local_day(now_ms, plant.zone) - timedelta(days=LOOKBACK_DAYS):
        return recent
    older = rollup(store, plant, local_midnight_ms(day, plant.zone), local_midnight_ms(day + timedelta(days=1), plant.zone), now_ms=now_ms)
    return RollupReport(plant.id, recent.days + older.days, recent.months + older.months,
                        recent.grams + older.grams, recent.batches + older.batches)


def rollup(
    store: Store, plant: PlantConfig, start_ms: int, end_ms: int, *, now_ms: int, profiles: Mapping[str, Profile] | None = None
) -> RollupReport:
    """Roll up every local day that [start_ms, end_ms) touches and that has ended by `now_ms`, then
    every month among them that has ended and whose days are all rolled up."""
    selected = plant_profiles(plant, profiles)
    first = local_day(start_ms, plant.zone)
    after = min(local_day(max(start_ms, end_ms - 1), plant.zone) + timedelta(days=1), local_day(now_ms, plant.zone))
    grams = batches = months = 0
    day = first
    while day < after:
        chunk_after = min(after, day + timedelta(days=CHUNK_DAYS))
        cells = _rollup_days(store, plant, selected, day, chunk_after, now_ms)
        grams += sum(g for g, _ in cells.values())
        batches += sum(n for _, n in cells.values())
        day = chunk_after
    month = first.replace(day=1)
    while month < after:
        following = next_month(month)
        if following <= local_day(now_ms, plant.zone):
            months += _rollup_month(store, plant, selected, month, following, now_ms)
        month = following
    report = RollupReport(plant.id, max(0, (after - first).days), months, grams, batches)
    logger.info("rollup done plant=%s first=%s days=%d months=%d grams=%d", plant.id, first, report.days, months, grams)
    return report


def rollup_command(settings: Settings, catalog: PlantCatalog, plant_id: str | None, since: str | None, until: str | None) -> int:
    """`wastewatch report rollup --since YYYY-MM-DD [--until YYYY-MM-DD] [--plant ID]`: every plant by default."""
    if not since:
        print("wastewatch report rollup: --since YYYY-MM-DD is required", file=sys.stderr)
        return 2
    plants = [p for p in catalog if plant_id in (None, p.id)]
    if not plants:
        print(f"wastewatch report rollup: unknown plant {plant_id!r} ({', '.join(catalog.ids)})", file=sys.stderr)
        return 2
    try:
        first, after = date.fromisoformat(since), date.fromisoformat(until) if until else None
    except ValueError as exc:
        print(f"wastewatch report rollup: {exc}", file=sys.stderr)
        return 2
    store = open_store(settings)
    try:
        now_ms = int(time.time() * 1000)
        for plant in plants:
            end = local_midnight_ms(after, plant.zone) if after else now_ms
            report = rollup(store, plant, local_midnight_ms(first, plant.zone), end, now_ms=now_ms)
            print(f"{plant.id}: {report.days} days and {report.months} months rolled up, {report.batches} batches, {report.grams} g")
    finally:
        store.close()
    return 0


def _rollup_days(store: Store, plant: PlantConfig, profiles: Sequence[Profile], first: date, after: date, now_ms: int) -> Cells:
    start_ms, end_ms = local_midnight_ms(first, plant.zone), local_midnight_ms(after, plant.zone)
    cells = raw_cells(store, plant, start_ms, end_ms)
    stale = set(read_rollup_cells(store, plant, start_ms, end_ms)) - set(cells)
    points = [_cell_point(plant, cell, grams, n) for cell, (grams, n) in cells.items()]
    points += [_cell_point(plant, cell, 0, 0) for cell in stale]
    averages = store.select(EMISSION_AVG, where={"plant": plant.id}, start_ms=start_ms, end_ms=end_ms)
    counts = count_averages(averages, profiles, plant.zone)
    merge(counts, count_days(read_days(store, plant.id, plant.zone, start_ms, end_ms).values(), profiles))
    fingerprint = limits_fingerprint(profiles)
    day = first
    while day < after:
        mine = [v for (d, _, _), v in cells.items() if d == day]
        midnight = local_midnight_ms(day, plant.zone)
        fields: dict[str, FieldValue] = {"grams": sum(g for g, _ in mine), "batches": sum(n for _, n in mine), "rolled_up_ms": int(now_ms)}
        points.append(Point(ROLLUP_DAY, {"plant": plant.id}, fields, midnight))
        points.append(_count_point(plant, COUNT_DAY, midnight, {k: v for k, v in counts.items() if k[3] == day}, fingerprint, now_ms))
        day += timedelta(days=1)
    store.write(points)
    return cells


def _rollup_month(store: Store, plant: PlantConfig, profiles: Sequence[Profile], first: date, after: date, now_ms: int) -> int:
    """The month's counts summed from its days, when every day is rolled up against the same limits."""
    start_ms, end_ms = local_midnight_ms(first, plant.zone), local_midnight_ms(after, plant.zone)
    fingerprint = limits_fingerprint(profiles)
    day_counts, counted = read_counts(store, plant, COUNT_DAY, start_ms, end_ms, fingerprint)
    if len(counted) < (after - first).days or len(rolled_up_days(store, plant, start_ms, end_ms)) < (after - first).days:
        return 0
    points = [_count_point(plant, COUNT_MONTH, start_ms, day_counts, fingerprint, now_ms)]
    month_cells: dict[tuple[date, str, str], list[int]] = {}
    for (_, source, code), (grams, n) in read_rollup_cells(store, plant, start_ms, end_ms).items():
        tally = month_cells.setdefault((first, source, code), [0, 0])
        tally[0], tally[1] = tally[0] + grams, tally[1] + n
    stale = set(read_rollup_cells(store, plant, start_ms, end_ms, TONNAGE_MONTH)) - set(month_cells)
    points += [_cell_point(plant, cell, g, n, TONNAGE_MONTH) for cell, (g, n) in month_cells.items()]
    points += [_cell_point(plant, cell, 0, 0, TONNAGE_MONTH) for cell in stale]
    fields: dict[str, FieldValue] = {"rolled_up_ms": int(now_ms)}
    store.write(points + [Point(ROLLUP_MONTH, {"plant": plant.id}, fields, start_ms)])
    return 1


def _count_point(plant: PlantConfig, measurement: str, time_ms: int, counts: Counts, limits: str, now_ms: int) -> Point:
    document = {"/".join(key): fields for key, fields in sorted(totals(counts).items())}
    fields: dict[str, FieldValue] = {"counts": json.dumps(document, separators=(",", ":")), "limits": limits, "rolled_up_ms": int(now_ms)}
    return Point(measurement, {"plant": plant.id}, fields, time_ms)


def _cell_point(plant: PlantConfig, cell: tuple[date, str, str], grams: int, batches: int, measurement: str = TONNAGE_DAY) -> Point:
    day, source, code = cell
    tags = {"plant": plant.id, "source": source, "waste_code": code}
    return Point(measurement, tags, {"grams": int(grams), "batches": int(batches)}, local_midnight_ms(day, plant.zone))


def read_rollup_cells(store: Store, plant: PlantConfig, start_ms: int, end_ms: int, measurement: str = TONNAGE_DAY) -> Cells:
    """The stored tonnage cells (`TONNAGE_DAY` or `TONNAGE_MONTH`) starting in [start_ms, end_ms) (zero cells left out)."""
    cells: Cells = {}
    for point in store.select(measurement, where={"plant": plant.id}, start_ms=start_ms, end_ms=end_ms):
        grams, n = _int(point.fields.get("grams")), _int(point.fields.get("batches"))
        if grams or n:
            key = (local_day(point.time_ms, plant.zone), point.tags.get("source", ""), point.tags.get("waste_code", ""))
            cells[key] = (grams, n)
    return cells


def read_counts(
    store: Store, plant: PlantConfig, measurement: str, start_ms: int, end_ms: int, limits: str
) -> tuple[Counts, set[date]]:
    """Stored counts (`COUNT_DAY` or `COUNT_MONTH`) starting in [start_ms, end_ms) counted against
    `limits`, keyed by their day (month); and those days (months)."""
    counts: Counts = {}
    found: set[date] = set()
    for point in store.select(measurement, where={"plant": plant.id}, start_ms=start_ms, end_ms=end_ms):
        document = point.fields.get("counts")
        if point.fields.get("limits") != limits or not isinstance(document, str):
            continue
        day = local_day(point.time_ms, plant.zone)
        found.add(day)
        for series, fields in json.loads(document).items():
            profile, pollutant, period = series.split("/")
            counts[(profile, pollutant, period, day)] = {k: int(v) for k, v in fields.items()}
    return counts, found


def rolled_up_days(store: Store, plant: PlantConfig, start_ms: int, end_ms: int) -> set[date]:
    """The local days starting in [start_ms, end_ms) whose tonnage is rolled up."""
    return _marked(store, plant, ROLLUP_DAY, start_ms, end_ms)


def rolled_up_months(store: Store, plant: PlantConfig, start_ms: int, end_ms: int) -> set[date]:
    """First days of the months starting in [start_ms, end_ms) whose tonnage is rolled up."""
    return _marked(store, plant, ROLLUP_MONTH, start_ms, end_ms)


def day_totals(store: Store, plant: PlantConfig, start_ms: int, end_ms: int) -> dict[date, tuple[int, int]]:
    """(grams, batches) of each rolled-up local day starting in [start_ms, end_ms), from its marker."""
    points = store.select(ROLLUP_DAY, where={"plant": plant.id}, start_ms=start_ms, end_ms=end_ms)
    return {local_day(p.time_ms, plant.zone): (_int(p.fields.get("grams")), _int(p.fields.get("batches"))) for p in points}


def _marked(store: Store, plant: PlantConfig, measurement: str, start_ms: int, end_ms: int) -> set[date]:
    points = store.select(measurement, where={"plant": plant.id}, start_ms=start_ms, end_ms=end_ms)
    return {local_day(p.time_ms, plant.zone) for p in points}


def _int(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
