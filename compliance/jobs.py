"""The compliance jobs: fetch samples and the plant-state timeline, run the pure pipeline, store the
averages and days, and record an amendment for every stored result a recomputation changes.

- `run_half_hour(plant, window_end_ms)`: the 10-min, half-hour and hour windows that close at a local
  :00 or :30 boundary.
- `run_day(plant, day)`: every window of a local day again (late data changes them), then its days.
- `recompute(plant, start_ms, end_ms)`: the whole local days the range touches, for late data.
- `clock_findings(plant, now_ms)`: the abnormal-operation clock between half-hours (every minute).

After a day job its `after_day` hooks run: the composition root (`launch.compliance`) hands in the
summaries' roll-up, so the jobs do not import what people read.

Recomputing a day from all its samples is what makes the result equal to computing from scratch.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from compliance.dayruns import PendingWrites, Prefetched, day_runs
from compliance.event_store import read_abnormal_events, store_events
from compliance.input_reader import read_channels, read_timeline
from compliance.load_store import chunk_loads, load_sensor_ids, store_loads, stored_loads
from compliance.result_store import read_averages, read_days
from wastewatch.compliance.amendments import Amendment, amend_averages, amend_days
from wastewatch.compliance.averaging import Average
from wastewatch.compliance.daily import DailyAverage
from wastewatch.compliance.loads import DayLoad, LoadSeries, WindowLoad, plan_loads
from wastewatch.compliance.pipeline import (
    Channels,
    Computed,
    Corrections,
    Series,
    closed_window_starts,
    compute_days,
    compute_series,
    day_period,
    pair_tolerance_ms,
    plan_series,
)
from wastewatch.compliance.profiles import Profile, load_bundled_profiles, select_profiles
from wastewatch.compliance.regulatory import (
    CO_WINDOW_H,
    Finding,
    judge_abnormal_clock,
    judge_co_rule,
    judge_days,
    judge_quarter,
    judge_v4,
    judge_windows,
)
from wastewatch.compliance.results import AverageRecord, DayRecord
from wastewatch.compliance.windows import day_bounds_ms, local_day, period_ms, quarter_of, window_start_ms
from wastewatch.plant import PlantConfig
from wastewatch.points import Point, Store, StoreError

logger = logging.getLogger(__name__)

HALF_HOUR_MS = 1_800_000
SCHEDULED = "scheduled"
DAY_CLOSE = "recomputed at day close (late or corrected data)"
LATE_DATA = "late data"


DayHook = Callable[[Store, PlantConfig, date, int], object]
"""Run after each day job with the store, the plant, the judged day and the job's clock; what it
returns goes into `JobReport.after_day` (`api.summaries.rollup.rollup_after_day` is one)."""


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class JobReport:
    """What one job computed, wrote and amended."""

    averages: list[AverageRecord] = field(default_factory=list)
    days: list[DayRecord] = field(default_factory=list)
    written: int = 0
    amendments: list[Amendment] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """Regulatory findings judged after a scheduled half-hour or day job (`alerts.regulatory` applies them)."""
    after_day: list[object] = field(default_factory=list)
    """What each `after_day` hook of a day job returned (a `RollupReport`), in order."""

    def extend(self, other: JobReport) -> None:
        self.averages += other.averages
        self.days += other.days
        self.written += other.written
        self.amendments += other.amendments
        self.findings += other.findings
        self.after_day += other.after_day


def average_record(plant_id: str, computed: Computed) -> AverageRecord:
    a, s = computed.average, computed.series
    return AverageRecord(
        plant_id, s.profile.id, s.pollutant, s.period, a.start_ms, a.quality, a.value, computed.raw_value,
        a.ci_subtracted, a.n_valid, a.n_flagged, a.n_expected, a.version,
    )


class ComplianceJobs:
    """The jobs over one store; `clock_ms` decides which windows and days have closed; `after_day`
    runs after every day job (the roll-ups the summaries read)."""

    def __init__(
        self, store: Store, profiles: Mapping[str, Profile] | None = None, *, clock_ms: Callable[[], int] = wall_clock_ms,
        after_day: Sequence[DayHook] = (),
    ) -> None:
        self.store = store
        self.profiles = dict(profiles) if profiles is not None else load_bundled_profiles()
        self.clock_ms = clock_ms
        self.after_day = tuple(after_day)
        self._series: dict[str, list[Series]] = {}
        self._loads: dict[str, list[LoadSeries]] = {}

    def series(self, plant: PlantConfig) -> list[Series]:
        """The series the plant's profiles need (an unknown profile id raises `ProfileError`)."""
        if plant.id not in self._series:
            self._series[plant.id] = plan_series(plant, select_profiles(plant.compliance_profiles, self.profiles))
        return self._series[plant.id]

    def run_half_hour(self, plant: PlantConfig, window_end_ms: int) -> JobReport:
        """The windows closing at `window_end_ms`, a local :00 or :30 boundary."""
        if window_start_ms(window_end_ms, "30min", plant.zone) != window_end_ms:
            raise ValueError(f"{window_end_ms} is not on a local half-hour boundary of {plant.timezone}")
        start = window_end_ms - HALF_HOUR_MS
        planned = [(s, closed_window_starts(s, start, window_end_ms, plant.zone)) for s in self.series(plant)]
        report = self._windows(plant, [(s, w) for s, w in planned if w], SCHEDULED)
        self._store_events(plant, start, window_end_ms)
        self._store_loads(plant, start, window_end_ms, report.averages, now_ms=window_end_ms)
        report.findings = self.half_hour_findings(plant, window_end_ms)
        logger.info(
            "compliance half-hour done plant=%s window_end_ms=%d written=%d amendments=%d",
            plant.id, window_end_ms, report.written, len(report.amendments),
        )
        return report

    def run_day(self, plant: PlantConfig, day: date) -> JobReport:
        """Every window of a local day recomputed, then the day's averages and validity, then the
        `after_day` hooks."""
        report = self.recompute(plant, *day_bounds_ms(day, plant.zone), reason=DAY_CLOSE)
        if report.days:
            report.findings = self.day_findings(plant, day, report.days)
        for hook in self.after_day:
            # The day's results and findings are stored and judged by now: a failing hook (the
            # roll-up) must not lose them. Summaries read raw results meanwhile, correctly but
            # slower, and the next night's hook redoes the days it missed.
            try:
                report.after_day.append(hook(self.store, plant, day, self.clock_ms()))
            except StoreError as exc:
                logger.error("compliance after-day hook failed plant=%s day=%s hook=%s: %s",
                             plant.id, day, getattr(hook, "__name__", hook), exc)
        return report

    def half_hour_findings(self, plant: PlantConfig, window_end_ms: int) -> list[Finding]:
        """Column A and hourly limits of the windows closing at `window_end_ms`, the CO rule over the
        trailing 24 h, V4 so far today and the abnormal-operation clock, from the stored averages."""
        profiles = self._emission_profiles(plant)
        if not profiles:
            return []
        day_start = day_bounds_ms(local_day(window_end_ms - 1, plant.zone), plant.zone)[0]
        lookback_h = max([CO_WINDOW_H] + [p.abnormal_operation.max_event_h + 1 for p in profiles if p.abnormal_operation])
        start = min(day_start, window_end_ms - round(lookback_h * 3_600_000))
        # Only what the judgments read: the windows closing now (an hour back covers every period),
        # the half-hours (CO rule, V4, abnormal clock) and CO's 10-minute averages; the hourly and
        # other 10-minute averages were two fifths of a day's stored results.
        recent = read_averages(self.store, plant.id, window_end_ms - period_ms("1h"), window_end_ms)
        closing = [r for r in recent.values() if r.start_ms + period_ms(r.period) == window_end_ms]  # type: ignore[arg-type]
        stored = list(read_averages(self.store, plant.id, start, window_end_ms, period="30min").values())
        stored += read_averages(self.store, plant.id, window_end_ms - round(CO_WINDOW_H * 3_600_000), window_end_ms,
                                pollutant="co", period="10min").values()
        findings: list[Finding] = []
        for profile in profiles:
            mine = [r for r in stored if r.profile == profile.id]
            findings += judge_windows(profile, closing, plant.zone)
            tens = [r for r in mine if (r.pollutant, r.period) == ("co", "10min")]
            halves = [r for r in mine if (r.pollutant, r.period) == ("co", "30min")]
            co = judge_co_rule(profile, plant.id, tens, halves, window_end_ms, plant.zone)
            v4 = judge_v4(profile, plant.id, mine, day_start, window_end_ms, plant.zone) if day_period(profile) == "30min" else None
            findings += [f for f in (co, v4) if f is not None]
            findings += self._abnormal_clock(plant, profile, [r for r in mine if r.period == "30min"], window_end_ms)
        return findings

    def clock_findings(self, plant: PlantConfig, now_ms: int) -> list[Finding]:
        """The abnormal-operation clock at `now_ms`, any minute: the notice and the event cap hold
        from the moment the running event has lasted them, read from the half-hours closed by then
        and the samples before `now_ms`."""
        findings: list[Finding] = []
        for profile in self._emission_profiles(plant):
            if profile.abnormal_operation is None:
                continue
            start = now_ms - round((profile.abnormal_operation.max_event_h + 1) * 3_600_000)
            stored = read_averages(self.store, plant.id, start, now_ms, profile=profile.id, period="30min").values()
            closed = [r for r in stored if r.start_ms + HALF_HOUR_MS <= now_ms]
            findings += self._abnormal_clock(plant, profile, closed, now_ms)
        return findings

    def _abnormal_clock(self, plant: PlantConfig, profile: Profile, half_hours: Sequence[AverageRecord], now_ms: int) -> list[Finding]:
        if profile.abnormal_operation is None:
            return []
        events = read_abnormal_events(self.store, plant, profile, half_hours, now_ms=now_ms)
        return judge_abnormal_clock(profile, plant.id, events, now_ms, plant.zone)

    def day_findings(self, plant: PlantConfig, day: date, days: Sequence[DayRecord]) -> list[Finding]:
        """Daily limits of the judged day and the quarter's projected data availability."""
        profiles = select_profiles(plant.compliance_profiles, self.profiles)
        findings: list[Finding] = []
        for profile in profiles:
            findings += judge_days(profile, days, plant.zone)
            if profile.data_availability is not None:
                year, quarter = quarter_of(day)
                start = day_bounds_ms(date(year, 3 * quarter - 2, 1), plant.zone)[0]
                stored = read_days(self.store, plant.id, plant.zone, start, day_bounds_ms(day, plant.zone)[1], profile=profile.id)
                found = judge_quarter(profile, plant.id, list(stored.values()), day, plant.zone)
                findings += [found] if found is not None else []
        return findings

    def _store_events(
        self, plant: PlantConfig, start_ms: int, end_ms: int, computed: Sequence[AverageRecord] | None = None
    ) -> None:
        """The abnormal-operation events of the range, measured from the samples, kept for the summaries."""
        for profile in self._emission_profiles(plant):
            store_events(self.store, plant, profile, start_ms, end_ms, self.clock_ms(), computed)

    def _store_loads(
        self, plant: PlantConfig, start_ms: int, end_ms: int, computed: Sequence[AverageRecord], now_ms: int | None = None
    ) -> None:
        """The emission loads of the windows just computed and of their days (`compliance.load_store`)."""
        profiles = select_profiles(plant.compliance_profiles, self.profiles)
        store_loads(self.store, plant, profiles, start_ms, end_ms, self.clock_ms() if now_ms is None else now_ms, computed)

    def _chunk_loads(
        self, plant: PlantConfig, inputs: Prefetched, computed: Sequence[AverageRecord], first: date, last: date
    ) -> tuple[list[WindowLoad], list[DayLoad]]:
        """A recomputation's loads of the days [first, last] from its prefetched samples (`compliance.load_store`)."""
        planned = self.loads(plant)
        if not planned:
            return [], []
        lo, hi = day_bounds_ms(first, plant.zone)[0], day_bounds_ms(last, plant.zone)[1]
        windows, days = chunk_loads(plant, planned, inputs.samples_in(lo - _pad_ms(plant), hi + _pad_ms(plant)),
                                    inputs.timeline, computed, lo, hi)
        # what the store already holds is not written again: a rerun writes nothing
        return [w for w in windows if w not in inputs.loads], [d for d in days if d not in inputs.loads]

    def loads(self, plant: PlantConfig) -> list[LoadSeries]:
        """The emission loads the plant's profiles compute."""
        if plant.id not in self._loads:
            self._loads[plant.id] = plan_loads(plant, select_profiles(plant.compliance_profiles, self.profiles))
        return self._loads[plant.id]

    def _emission_profiles(self, plant: PlantConfig) -> list[Profile]:
        return [p for p in select_profiles(plant.compliance_profiles, self.profiles) if p.kind == "emission_limits"]

    def recompute(self, plant: PlantConfig, start_ms: int, end_ms: int, reason: str = LATE_DATA) -> JobReport:
        """Every local day that [start_ms, end_ms) touches, from all of its samples; a changed stored
        result gets an amendment. Windows not yet closed by the clock and days not yet over are left."""
        now = self.clock_ms()
        report = JobReport()
        if end_ms <= start_ms:
            return report
        chunks = day_runs(local_day(start_ms, plant.zone), local_day(min(end_ms, now) - 1, plant.zone))
        # The next chunk's query runs in a thread while this one computes, and its results are written
        # in another while the next computes: InfluxDB answers in about the time a chunk takes to
        # compute (httpx and our SQLite connection may be used from several threads).
        with _collector_paused(), ThreadPoolExecutor(max_workers=2, thread_name_prefix="compliance-io") as pool:
            ahead = [pool.submit(self._prefetch_days, plant, *c) for c in chunks[:1]]
            writing: Future[None] | None = None
            for i, (first, last) in enumerate(chunks):
                inputs = ahead.pop(0).result()
                ahead += [pool.submit(self._prefetch_days, plant, *c) for c in chunks[i + 1 : i + 2]]
                pending = PendingWrites()
                computed_from = len(report.averages)
                day = first
                while day <= last:
                    report.extend(self._day(plant, day, now, reason, inputs, pending))
                    day += timedelta(days=1)
                pending.add_loads(*self._chunk_loads(plant, inputs, report.averages[computed_from:], first, last))
                if writing is not None:
                    writing.result()  # one write at a time, in order; a failed write stops the recomputation
                writing = pool.submit(self._write_points, pending.points())
            if writing is not None:
                writing.result()
        if chunks:
            first_ms, last_ms = day_bounds_ms(chunks[0][0], plant.zone)[0], day_bounds_ms(chunks[-1][1], plant.zone)[1]
            self._store_events(plant, first_ms, last_ms, report.averages)
        logger.info(
            "compliance recompute done plant=%s start_ms=%d end_ms=%d written=%d amendments=%d",
            plant.id, start_ms, end_ms, report.written, len(report.amendments),
        )
        return report

    def _day(
        self, plant: PlantConfig, day: date, now_ms: int, reason: str, inputs: Prefetched | None = None,
        pending: PendingWrites | None = None,
    ) -> JobReport:
        day_start, day_end = day_bounds_ms(day, plant.zone)
        horizon = min(day_end, now_ms)
        planned = [(s, closed_window_starts(s, day_start, horizon, plant.zone)) for s in self.series(plant)]
        report = self._windows(plant, [(s, w) for s, w in planned if w], reason, inputs, pending)
        if day_end > now_ms:
            return report
        computed: list[DayRecord] = []
        by_series: dict[tuple[str, str, str], list[AverageRecord]] = {}
        for a in report.averages:
            by_series.setdefault((a.profile, a.pollutant, a.period), []).append(a)
        for series in self.series(plant):
            if not series.day_basis:
                continue
            averages = by_series.get(series.key, [])
            computed += [_day_record(plant.id, series, d, day_start) for d in compute_days(series, _as_averages(averages, series), plant.zone)]
        stored = inputs.days if inputs is not None else read_days(self.store, plant.id, plant.zone, day_start, day_end)
        to_write, amendments = amend_days(stored, computed, reason, now_ms)
        self._write(amendments, to_write, pending)
        report.extend(JobReport(days=computed, written=len(to_write), amendments=amendments))
        return report

    def _windows(
        self, plant: PlantConfig, planned: Sequence[tuple[Series, list[int]]], reason: str, inputs: Prefetched | None = None,
        pending: PendingWrites | None = None,
    ) -> JobReport:
        if not planned:
            return JobReport()
        start = min(w[0] for _, w in planned)
        end = max(w[-1] + period_ms(s.period) for s, w in planned)
        pad = _pad_ms(plant)
        if inputs is not None and inputs.covers(start - pad, end + pad):
            samples, timeline, stored = inputs.samples_in(start - pad, end + pad), inputs.timeline, inputs.averages
        else:
            samples = read_channels(self.store, plant.id, Channels.of(plant).sensor_ids, start - pad, end + pad)
            timeline = read_timeline(self.store, plant.id, start, end)
            stored = read_averages(self.store, plant.id, start, end)
        corrections = Corrections()
        records = [
            average_record(plant.id, c)
            for s, starts in planned
            for c in compute_series(s, samples, timeline, plant, starts, corrections)
        ]
        to_write, amendments = amend_averages(stored, records, reason, self.clock_ms())
        self._write(amendments, to_write, pending)
        return JobReport(averages=records, written=len(to_write), amendments=amendments)

    def _prefetch_days(self, plant: PlantConfig, first: date, last: date) -> Prefetched:
        return self._prefetch(plant, day_bounds_ms(first, plant.zone)[0], day_bounds_ms(last, plant.zone)[1])

    def _prefetch(self, plant: PlantConfig, start_ms: int, end_ms: int) -> Prefetched:
        """Several days' inputs in a few queries: the samples of every channel, the timeline and stored results."""
        pad = _pad_ms(plant)
        sensor_ids = sorted(set(Channels.of(plant).sensor_ids) | set(load_sensor_ids(self.loads(plant))))
        samples = read_channels(self.store, plant.id, sensor_ids, start_ms - pad, end_ms + pad)
        return Prefetched(
            start_ms - pad, end_ms + pad, samples, read_timeline(self.store, plant.id, start_ms, end_ms),
            read_averages(self.store, plant.id, start_ms, end_ms), read_days(self.store, plant.id, plant.zone, start_ms, end_ms),
            stored_loads(self.store, plant, start_ms, end_ms) if self.loads(plant) else frozenset(),
        )

    def _write(
        self, amendments: Sequence[Amendment], results: Sequence[AverageRecord | DayRecord], pending: PendingWrites | None
    ) -> None:
        if pending is not None:
            pending.add(amendments, results)
        else:
            self._write_points(PendingWrites().add(amendments, results).points())

    def _write_points(self, points: list[Point]) -> None:
        if points:
            self.store.write(points)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a recomputation runs: it allocates millions of samples that
    form no reference cycles, and the collector walking them was over a third of its CPU time. Whoever
    turned it off switches it back on (a concurrent recomputation at worst runs with it on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _pad_ms(plant: PlantConfig) -> int:
    """Samples this far outside a range still pair with its concentrations (O2, H2O)."""
    return max((pair_tolerance_ms(s) for s in Channels.of(plant).concentrations.values()), default=0)


def _as_averages(records: Sequence[AverageRecord], series: Series) -> list[Average]:
    return [
        Average(r.start_ms, r.start_ms + period_ms(series.period), series.period, r.value, r.quality,
                r.n_valid, r.n_flagged, r.n_expected, r.version, r.ci_subtracted)
        for r in records
    ]


def _day_record(plant_id: str, series: Series, day: DailyAverage, day_start_ms: int) -> DayRecord:
    return DayRecord(
        plant_id, series.profile.id, series.pollutant, day.day, day_start_ms, series.period, day.quality,
        day.value, day.n_valid, day.n_discarded, day.version,
    )

