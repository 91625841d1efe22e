"""The compliance counts of a range: whole months and days from the rollup where it holds them
(against the same limits), the rest counted from the stored averages and days themselves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from api.summaries.cells import (
    DAY_S,
    capped,
    constant_offset_s,
    days_of_month,
    months_within,
    next_month,
    runs_outside,
    whole_days,
)
from api.summaries.counts import (
    ABNORMAL,
    DAY,
    DISCARDED_N,
    NOT_DISCARDED,
    VALID,
    Counts,
    count_averages,
    count_days,
    limits_fingerprint,
    merge,
    over,
    window_limits,
)
from api.summaries.periods import local_midnight_ms
from api.summaries.rollup import COUNT_DAY, COUNT_MONTH, read_counts
from compliance.result_store import read_days
from wastewatch.compliance.pipeline import plan_series
from wastewatch.compliance.profiles import Profile
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import EMISSION_AVG
from wastewatch.compliance.windows import local_day
from wastewatch.plant import PlantConfig
from wastewatch.points import FieldCondition, Store

MAX_RUNS = 3
"""Stretches not covered read with one query each; with more, one query spans them all."""
SELECT_MAX_MS = 2 * 86_400_000
"""Up to two days of averages are fetched and counted here (one query); longer stretches are counted by the store."""
IS_VALID = FieldCondition("quality", "=", QualityCode.VALID.value)
IS_ABNORMAL = FieldCondition("quality", "=", QualityCode.ABNORMAL_OPERATION.value)
IS_DISCARDED = tuple(FieldCondition("quality", "!=", q) for q in sorted(NOT_DISCARDED))


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
        months = months_within(first, after)
        if months:
            span = (local_midnight_ms(months[0], zone), local_midnight_ms(next_month(months[-1]), zone))
            found, done = read_counts(store, plant, COUNT_MONTH, *span, limits)
            merge(counts, _kept(found, done, averages))
            for month in done:
                covered |= days_of_month(month)
        inner_start, inner_end = local_midnight_ms(first, zone), local_midnight_ms(after, zone)
        for run_start, run_end in capped(runs_outside(zone, inner_start, inner_end, first, after, covered), MAX_RUNS):
            found, days = read_counts(store, plant, COUNT_DAY, run_start, run_end, limits)
            merge(counts, _kept(found, days - covered, averages))
            covered |= days
    for run_start, run_end in capped(runs_outside(zone, start_ms, end_ms, first, after, covered), MAX_RUNS):
        merge(counts, _kept(_raw_counts(store, plant, profiles, run_start, run_end, averages), None, averages, covered))
    return counts


def _raw_counts(store: Store, plant: PlantConfig, profiles: Sequence[Profile], start_ms: int, end_ms: int, averages: bool) -> Counts:
    counts = count_days(read_days(store, plant.id, plant.zone, start_ms, end_ms).values(), profiles)
    if not averages:
        return counts
    offset_s = constant_offset_s(plant.zone, start_ms, end_ms)
    if end_ms - start_ms <= SELECT_MAX_MS or offset_s is None:
        points = store.select(EMISSION_AVG, where={"plant": plant.id}, start_ms=start_ms, end_ms=end_ms)
        return merge(counts, count_averages(points, profiles, plant.zone))
    return merge(counts, _aggregated_counts(store, plant, profiles, start_ms, end_ms, offset_s))


def _aggregated_counts(
    store: Store, plant: PlantConfig, profiles: Sequence[Profile], start_ms: int, end_ms: int, offset_s: int
) -> Counts:
    """The same counts as `count_averages`, by the store: per series and local day, `count(n_valid)`
    under field conditions (a query per series and count; each reads one series)."""
    limits = window_limits(profiles)
    counts: Counts = {}
    for series in plan_series(plant, profiles):
        where = {"plant": plant.id, "profile": series.profile.id, "pollutant": series.pollutant, "period": series.period}
        wanted: list[tuple[str, Sequence[FieldCondition]]] = [(VALID, (IS_VALID,)), (DISCARDED_N, IS_DISCARDED)]
        wanted += [(ABNORMAL, (IS_ABNORMAL,))] if series.period == "30min" else []
        wanted += [(over(rule), (IS_VALID, FieldCondition("value", ">", value))) for rule, value in limits.get(series.key, ())]
        for name, conditions in wanted:
            rows = store.aggregate(
                EMISSION_AVG, "n_valid", "count", where=where, start_ms=start_ms, end_ms=end_ms, every_s=DAY_S,
                offset_s=-offset_s, field_where=conditions,
            )
            for row in rows:
                if row.time_ms is not None and row.value:
                    merge(counts, {(*series.key, local_day(row.time_ms, plant.zone)): {name: int(row.value)}})
    return counts


def _kept(counts: Counts, days: set[date] | None, averages: bool, excluded: set[date] | frozenset[date] = frozenset()) -> Counts:
    """The counts of `days` (all when None) and not of `excluded`; only the day counts without `averages`."""
    return {
        k: v for k, v in counts.items()
        if (days is None or k[3] in days) and k[3] not in excluded and (averages or k[2] == DAY)
    }

