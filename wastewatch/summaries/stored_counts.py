"""The compliance counts of a range: whole months and days from the rollup where it holds them
(against the same limits), the rest counted from the stored averages and days themselves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from wastewatch.compliance.profiles import Profile
from wastewatch.compliance.results import EMISSION_AVG, read_days
from wastewatch.plant import PlantConfig
from wastewatch.store.base import Store
from wastewatch.summaries.cells import capped, runs_outside, whole_days
from wastewatch.summaries.counts import DAY, Counts, count_averages, count_days, limits_fingerprint, merge
from wastewatch.summaries.periods import local_midnight_ms
from wastewatch.summaries.rollup import COUNT_DAY, COUNT_MONTH, read_counts, rolled_up_days, rolled_up_months

MAX_RUNS = 3
"""Stretches not covered read with one query each; with more, one query spans them all."""


def compliance_counts(
    store: Store, plant: PlantConfig, profiles: Sequence[Profile], start_ms: int, end_ms: int, *, averages: bool = True
) -> Counts:
    """Counts of [start_ms, end_ms) (see `summaries.counts`); without `averages` only the judged days."""
    zone = plant.zone
    first, after = whole_days(zone, start_ms, end_ms)
    counts: Counts = {}
    covered: set[date] = set()
    if first < after:
        limits = limits_fingerprint(profiles)
        months = _months_within(first, after)
        if months:
            span = (local_midnight_ms(months[0], zone), local_midnight_ms(_next_month(months[-1]), zone))
            done = rolled_up_months(store, plant, *span, limits)
            if done:
                merge(counts, _kept(read_counts(store, plant, COUNT_MONTH, *span), done, averages))
                for month in done:
                    covered |= _days_of(month)
        inner_start, inner_end = local_midnight_ms(first, zone), local_midnight_ms(after, zone)
        for run_start, run_end in capped(runs_outside(zone, inner_start, inner_end, first, after, covered), MAX_RUNS):
            days = rolled_up_days(store, plant, run_start, run_end, limits) - covered
            if days:
                merge(counts, _kept(read_counts(store, plant, COUNT_DAY, run_start, run_end), days, averages))
                covered |= days
    for run_start, run_end in capped(runs_outside(zone, start_ms, end_ms, first, after, covered), MAX_RUNS):
        merge(counts, _kept(_raw_counts(store, plant, profiles, run_start, run_end, averages), None, averages, covered))
    return counts


def _raw_counts(store: Store, plant: PlantConfig, profiles: Sequence[Profile], start_ms: int, end_ms: int, averages: bool) -> Counts:
    counts = count_days(read_days(store, plant.id, plant.zone, start_ms, end_ms).values(), profiles)
    if averages:
        points = store.select(EMISSION_AVG, where={"plant": plant.id}, start_ms=start_ms, end_ms=end_ms)
        merge(counts, count_averages(points, profiles, plant.zone))
    return counts


def _kept(counts: Counts, days: set[date] | None, averages: bool, excluded: set[date] | frozenset[date] = frozenset()) -> Counts:
    """The counts of `days` (all when None) and not of `excluded`; only the day counts without `averages`."""
    return {
        k: v for k, v in counts.items()
        if (days is None or k[3] in days) and k[3] not in excluded and (averages or k[2] == DAY)
    }


def _months_within(first: date, after: date) -> list[date]:
    """First days of the calendar months lying wholly within [first, after)."""
    month = first if first.day == 1 else _next_month(first.replace(day=1))
    found: list[date] = []
    while _next_month(month) <= after:
        found.append(month)
        month = _next_month(month)
    return found


def _days_of(month: date) -> set[date]:
    return {month + timedelta(days=i) for i in range((_next_month(month) - month).days)}


def _next_month(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
