"""Counts of stored compliance results per profile, pollutant, period and local calendar quarter:
the short averages (`emission_avg`) by quality and above each limit, and the judged days
(`emission_day`). One pure counting of records serves the rollup and the days it does not cover."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from wastewatch.compliance.profiles import Profile
from wastewatch.compliance.quality import DISCARDED, IDLE, QualityCode
from wastewatch.compliance.results import DayRecord
from wastewatch.compliance.windows import local_day, quarter_of
from wastewatch.points import Point

DAY = "day"
"""The period tag of the counts of judged days."""
DAY_RULES = frozenset({"D100", "D97"})
NOT_DISCARDED: frozenset[str] = frozenset(q.value for q in QualityCode if q not in DISCARDED)

CountKey = tuple[str, str, str, date]
"""(profile, pollutant, period or `day`, local day or first day of a month)."""
Counts = dict[CountKey, dict[str, int]]

# window counts
VALID, DISCARDED_N, ABNORMAL = "valid", "discarded", "abnormal"
# day counts
DAYS, DAYS_VALID, DAYS_VALID_CODE, DAYS_OPERATING, DAYS_DISCARDED = "days", "days_valid", "days_valid_code", "days_operating", "days_discarded"
N_VALID, N_DISCARDED = "n_valid", "n_discarded"


def over(rule: str) -> str:
    """The count of judged values above the limit of `rule`."""
    return f"over_{rule}"


def limits_fingerprint(profiles: Sequence[Profile]) -> str:
    """Changes whenever the limits counted against change: stored counts of another fingerprint are not used."""
    text = "|".join(
        f"{p.id}:{lim.pollutant}:{lim.avg_period}:{lim.rule}:{lim.value!r}" for p in profiles for lim in p.limits
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def window_limits(profiles: Sequence[Profile]) -> dict[tuple[str, str, str], list[tuple[str, float]]]:
    found: dict[tuple[str, str, str], list[tuple[str, float]]] = defaultdict(list)
    for p in profiles:
        for lim in p.limits:
            if lim.rule not in DAY_RULES:
                found[(p.id, lim.pollutant, lim.avg_period)].append((lim.rule, lim.value))
    return found


def _day_limits(profiles: Sequence[Profile]) -> dict[tuple[str, str], list[tuple[str, float]]]:
    found: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for p in profiles:
        for lim in p.limits:
            if lim.rule in DAY_RULES:
                found[(p.id, lim.pollutant)].append((lim.rule, lim.value))
    return found


def count_averages(points: Iterable[Point], profiles: Sequence[Profile], zone: ZoneInfo) -> Counts:
    """Stored averages by quality and above each limit of their period, as the store counts `n_valid`
    under field conditions (a point without `n_valid` or `quality` is not counted)."""
    limits = window_limits(profiles)
    counts: Counts = defaultdict(lambda: defaultdict(int))
    for point in points:
        f, t = point.fields, point.tags
        quality = f.get("quality")
        if "n_valid" not in f or not isinstance(quality, str):
            continue
        series = (t.get("profile", ""), t.get("pollutant", ""), t.get("period", ""))
        tally = counts[(*series, local_day(point.time_ms, zone))]
        if quality == QualityCode.VALID.value:
            tally[VALID] += 1
            value = f.get("value")
            for rule, limit in limits.get(series, ()):
                tally[over(rule)] += int(_numeric(value) and float(value) > limit)  # type: ignore[arg-type]
        elif quality == QualityCode.ABNORMAL_OPERATION.value:
            tally[ABNORMAL] += 1
        if quality not in NOT_DISCARDED:
            tally[DISCARDED_N] += 1
    return _plain(counts)


def count_days(records: Iterable[DayRecord], profiles: Sequence[Profile]) -> Counts:
    """Judged days per quality class, their hour/half-hour counts, and valid days above each daily limit."""
    limits = _day_limits(profiles)
    counts: Counts = defaultdict(lambda: defaultdict(int))
    for d in records:
        tally = counts[(d.profile, d.pollutant, DAY, d.day)]
        tally[DAYS] += 1
        tally[N_VALID] += d.n_valid
        tally[N_DISCARDED] += d.n_discarded
        tally[DAYS_VALID] += int(d.valid)
        tally[DAYS_VALID_CODE] += int(d.quality == QualityCode.VALID)
        tally[DAYS_OPERATING] += int(d.quality not in IDLE)
        tally[DAYS_DISCARDED] += int(d.quality in DISCARDED)
        for rule, limit in limits.get((d.profile, d.pollutant), ()):
            tally[over(rule)] += int(d.valid and d.value is not None and d.value > limit)
    return _plain(counts)


def merge(into: Counts, more: Mapping[CountKey, Mapping[str, int]]) -> Counts:
    for key, fields in more.items():
        tally = into.setdefault(key, {})
        for name, n in fields.items():
            tally[name] = tally.get(name, 0) + n
    return into


Totals = dict[tuple[str, str, str], dict[str, int]]
"""Counts summed over the days and months of a range, per (profile, pollutant, period)."""


def totals(counts: Counts) -> Totals:
    found: Totals = {}
    for (profile, pollutant, period, _), fields in counts.items():
        tally = found.setdefault((profile, pollutant, period), {})
        for name, n in fields.items():
            tally[name] = tally.get(name, 0) + n
    return found


def total(sums: Totals, profile: str, pollutant: str, period: str, name: str) -> int:
    """One count of the range."""
    return sums.get((profile, pollutant, period), {}).get(name, 0)


def quarters(counts: Counts, profile: str, pollutant: str) -> dict[tuple[int, int], dict[str, int]]:
    """The day counts of each calendar quarter with any judged day, in order."""
    found: Counts = {}
    for (prof, pol, period, day), fields in counts.items():
        if (prof, pol, period) == (profile, pollutant, DAY) and fields.get(DAYS):
            year, quarter = quarter_of(day)
            merge(found, {(prof, pol, period, date(year, 3 * quarter - 2, 1)): fields})
    return {quarter_of(k[3]): v for k, v in sorted(found.items())}


def _numeric(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _plain(counts: Mapping[CountKey, Mapping[str, int]]) -> Counts:
    return {k: dict(v) for k, v in counts.items()}
