"""Compliance engine speed on a year of data (issue 4, "Speed"): a real InfluxDB back-filled with a
simulated year of 1-minute values for every CEMS channel of the Kotim plant and its plant_state
timeline, then (b) one incremental half-hour job and (a) the full recomputation of the year.

    python -m bench.compliance_year --runs 3 [--days 365] [--recompute-days 31] [--profile 25]

The samples are generated here, vectorised with numpy (deterministic for --seed), not by the plant
simulator: stepping the simulator through 525,600 minutes is far too slow for a benchmark. Each
channel follows a daily schedule in Asia/Jakarta (cold, preheat 05:00, burning 06:00–21:00, burnout
to 22:00, cold), with noise, CO spikes, a two-week overhaul, monthly 2-hour calibrations (status
maintenance) and a few single-channel malfunctions; values are clipped to the sensors' ranges in
kotim.yaml. The plant_state points are written as the alert worker writes them (`plant_state`, tag
plant, fields state/from_state/reason).

(b) runs `ComplianceJobs.run_half_hour` on --runs distinct :00 boundaries, each on a fresh window,
as the scheduler would; then again once the recomputation has stored the results, which is what the
job's regulatory findings read in operation (the trailing day of averages). (a) runs
`ComplianceJobs.recompute` over the first --recompute-days days (default: all of them), with the
stored results dropped before each run so every run computes and writes from scratch; with fewer
days than the back-fill the year figure is an extrapolation and is printed as one. Targets: (a) under
60 s for a year, (b) under 1 s.

The machine is shared, so each run also prints the load average and the CPU seconds of this process
and of InfluxDB. With --profile N one more recompute runs under cProfile and its N most expensive
functions are printed (the main thread's: the reads ahead and writes behind run in two I/O threads
that cProfile does not follow).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from compliance.jobs import ComplianceJobs
from tests.servers import InfluxServer
from wastewatch.compliance.amendments import EMISSION_AMENDMENT
from wastewatch.compliance.results import EMISSION_AVG, EMISSION_DAY
from wastewatch.compliance.windows import day_bounds_ms
from wastewatch.operating_state import OperatingState
from wastewatch.plant import PlantConfig, bundled_plant_path, load_plant
from wastewatch.points import Point
from wastewatch.records import PLANT_STATE, READING
from wastewatch.store.influx import InfluxStore

MINUTE_MS = 60_000
DAY_MIN = 1440
BATCH_POINTS = 5_000
SCHEDULE: tuple[tuple[int, OperatingState], ...] = (
    (5 * 60, OperatingState.PREHEAT),
    (6 * 60, OperatingState.BURNING),
    (21 * 60, OperatingState.BURNOUT),
    (22 * 60, OperatingState.COLD),
)
"""Local minute of the day at which each state begins; the day starts cold."""

# Level (mean, noise sd) per state: cold, preheat, burning, burnout. Concentrations are dry mg/Nm3 as measured.
LEVELS: dict[str, tuple[tuple[float, float], ...]] = {
    "o2": ((20.9, 0.05), (17.0, 0.6), (11.0, 0.9), (15.5, 0.8)),
    "co": ((0.5, 0.3), (35.0, 8.0), (14.0, 5.0), (40.0, 10.0)),
    "nox": ((1.0, 0.5), (60.0, 10.0), (180.0, 25.0), (90.0, 15.0)),
    "so2": ((0.5, 0.3), (8.0, 3.0), (30.0, 9.0), (12.0, 4.0)),
    "hcl": ((0.2, 0.1), (2.0, 0.8), (6.0, 2.0), (3.0, 1.0)),
    "dust": ((0.2, 0.1), (1.5, 0.5), (3.0, 1.0), (2.0, 0.6)),
    "toc": ((0.3, 0.2), (4.0, 1.5), (3.0, 1.0), (5.0, 1.5)),
    "flow": ((150.0, 40.0), (3000.0, 200.0), (5800.0, 250.0), (3500.0, 200.0)),
    "h2o": ((2.0, 0.3), (8.0, 1.0), (15.0, 1.5), (10.0, 1.2)),
    "opacity": ((0.5, 0.3), (3.0, 1.0), (4.0, 1.5), (3.5, 1.2)),
}
STATE_INDEX = {OperatingState.COLD: 0, OperatingState.PREHEAT: 1, OperatingState.BURNING: 2, OperatingState.BURNOUT: 3}


@dataclass(frozen=True)
class Year:
    """The simulated range: its local start, days, and which days the plant stands cold (overhaul)."""

    first_day: date
    days: int
    overhaul: frozenset[int]

    def bounds_ms(self, plant: PlantConfig, days: int | None = None) -> tuple[int, int]:
        start = day_bounds_ms(self.first_day, plant.zone)[0]
        end = day_bounds_ms(self.first_day + timedelta(days=(days or self.days) - 1), plant.zone)[1]
        return start, end


def state_per_minute(year: Year) -> np.ndarray:
    """The state index (see STATE_INDEX) of every minute of the range."""
    day = np.zeros(DAY_MIN, dtype=np.int8)
    for minute, state in SCHEDULE:
        day[minute:] = STATE_INDEX[state]
    states = np.tile(day, year.days)
    for d in year.overhaul:
        states[d * DAY_MIN : (d + 1) * DAY_MIN] = 0
    return states


def channel_values(sensor_id: str, states: np.ndarray, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """Plausible 1-minute values: the state's level ramped over ~15 min, plus correlated noise and spikes."""
    levels = LEVELS[sensor_id]
    mean = np.array([m for m, _ in levels])[states]
    sd = np.array([s for _, s in levels])[states]
    kernel = np.ones(15) / 15  # start-up and burn-out are ramps, not steps
    ramped = np.convolve(np.pad(mean, (7, 7), mode="edge"), kernel, mode="valid")
    noise = np.convolve(rng.standard_normal(len(states) + 4), np.ones(5) / np.sqrt(5), mode="valid")
    values = ramped + sd * noise
    if sensor_id == "co":  # charging spikes: a few minutes at 80–400 mg/Nm3, about twice a burning day
        burning = np.flatnonzero(states == STATE_INDEX[OperatingState.BURNING])
        starts = rng.choice(burning, size=max(1, len(burning) // 450), replace=False)
        for s, length, height in zip(starts, rng.integers(2, 8, len(starts)), rng.uniform(80, 400, len(starts))):
            values[s : s + length] += height
    return np.clip(values, lo, hi)


def channel_statuses(sensor_id: str, n: int, year: Year, rng: np.random.Generator) -> np.ndarray:
    """Status per minute: monthly 2-hour calibrations (every channel) and a few malfunctions (one channel each)."""
    status = np.zeros(n, dtype=np.int8)  # 0 valid, 1 maintenance, 2 malfunction
    for d in range(10, year.days, 30):
        at = d * DAY_MIN + 9 * 60  # 09:00–11:00 local, mid-burning
        status[at : at + 120] = 1
    faults = {"dust": [(45, 8 * 60, 300)], "nox": [(150, 13 * 60, 200)], "o2": [(250, 7 * 60, 45)], "co": [(320, 16 * 60, 90)]}
    for d, minute, length in faults.get(sensor_id, []):
        if d < year.days:
            at = d * DAY_MIN + minute
            status[at : at + length] = 2
    return status


def reading_points(plant: PlantConfig, year: Year, seed: int) -> Iterator[list[Point]]:
    """Every CEMS channel's readings, in batches of BATCH_POINTS, one channel after another."""
    rng = np.random.default_rng(seed)
    states = state_per_minute(year)
    start_ms = year.bounds_ms(plant)[0]
    times = (start_ms + np.arange(len(states), dtype=np.int64) * MINUTE_MS).tolist()
    status_names = ("valid", "maintenance", "malfunction")
    for sensor in (s for s in plant.sensors if s.cems):
        values = channel_values(sensor.id, states, sensor.min, sensor.max, rng).round(3).tolist()
        statuses = channel_statuses(sensor.id, len(states), year, rng).tolist()
        tags = [{"plant": plant.id, "sensor": sensor.id, "status": name} for name in status_names]
        for b in range(0, len(times), BATCH_POINTS):
            yield [
                Point(READING, tags[statuses[i]], {"value": values[i]}, times[i])
                for i in range(b, min(b + BATCH_POINTS, len(times)))
            ]


def state_points(plant: PlantConfig, year: Year) -> list[Point]:
    """The plant_state transitions of the schedule, as the alert worker records them."""
    points: list[Point] = []
    previous = OperatingState.SHUTDOWN
    start_ms = year.bounds_ms(plant)[0]
    changes = [(0, OperatingState.COLD)]
    for d in range(year.days):
        if d not in year.overhaul:
            changes += [(d * DAY_MIN + minute, state) for minute, state in SCHEDULE]
    for minute, state in changes:
        if state is previous:
            continue
        fields = {"state": state.value, "from_state": previous.value, "reason": "bench daily schedule"}
        points.append(Point(PLANT_STATE, {"plant": plant.id}, fields, start_ms + minute * MINUTE_MS))
        previous = state
    return points


def back_fill(store: InfluxStore, plant: PlantConfig, year: Year, seed: int) -> None:
    generated_s = written_s = 0.0
    total = 0
    batches = reading_points(plant, year, seed)
    while True:
        t0 = time.perf_counter()
        batch = next(batches, None)
        generated_s += time.perf_counter() - t0
        if batch is None:
            break
        t0 = time.perf_counter()
        store.write(batch)
        written_s += time.perf_counter() - t0
        total += len(batch)
    states = state_points(plant, year)
    store.write(states)
    channels = sum(1 for s in plant.sensors if s.cems)
    print(
        f"back-fill: {total:,} readings ({channels} CEMS channels x {year.days} days x 1440 min) + {len(states)} plant_state points; "
        f"write {written_s:.1f} s = {total / written_s:,.0f} points/s (InfluxStore.write, batches of {BATCH_POINTS}: "
        f"encode + gzip + POST); generation {generated_s:.1f} s",
        flush=True,
    )


def drop_results(store: InfluxStore) -> None:
    for measurement in (EMISSION_AVG, EMISSION_DAY, EMISSION_AMENDMENT):
        store.query(f'DROP MEASUREMENT "{measurement}"', method="POST")


def bench_half_hours(jobs: ComplianceJobs, plant: PlantConfig, year: Year, runs: int, label: str) -> list[float]:
    timings = []
    for r in range(runs):
        day = year.first_day + timedelta(days=(r + 1) * year.days // (runs + 1))
        if (day - year.first_day).days in year.overhaul:
            day += timedelta(days=len(year.overhaul))
        end_ms = int(datetime(day.year, day.month, day.day, 12, 0, tzinfo=plant.zone).timestamp() * 1000)
        t0 = time.perf_counter()
        report = jobs.run_half_hour(plant, end_ms)
        elapsed = time.perf_counter() - t0
        timings.append(elapsed)
        print(
            f"half-hour run {r + 1} ({label}): window ending {day} 12:00 {plant.timezone} in {elapsed * 1000:.0f} ms; "
            f"{len(report.averages)} averages, {report.written} written",
            flush=True,
        )
    return timings


def bench_recompute(
    jobs: ComplianceJobs, store: InfluxStore, plant: PlantConfig, year: Year, days: int, runs: int, influxd_pid: int | None
) -> list[float]:
    start_ms, end_ms = year.bounds_ms(plant, days)
    timings = []
    for r in range(runs):
        drop_results(store)
        t0, cpu0, server0 = time.perf_counter(), time.process_time(), cpu_seconds(influxd_pid)
        report = jobs.recompute(plant, start_ms, end_ms)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        server = cpu_seconds(influxd_pid) - server0
        timings.append(elapsed)
        print(
            f"recompute run {r + 1}: {days} days in {elapsed:.1f} s ({elapsed / days * 1000:.0f} ms/day), "
            f"CPU {cpu:.1f} s here + {server:.1f} s InfluxDB; "
            f"{len(report.averages):,} averages, {len(report.days):,} days, {report.written:,} written; {load()}",
            flush=True,
        )
    return timings


def profile_recompute(jobs: ComplianceJobs, store: InfluxStore, plant: PlantConfig, year: Year, days: int, top: int) -> None:
    """One more recomputation under cProfile: the `top` functions by own time, then by cumulative time."""
    start_ms, end_ms = year.bounds_ms(plant, days)
    drop_results(store)
    profiler = cProfile.Profile()
    profiler.runcall(jobs.recompute, plant, start_ms, end_ms)
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 where it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=365, help="days back-filled, from --first-day")
    parser.add_argument("--first-day", type=date.fromisoformat, default=date(2023, 1, 1))
    parser.add_argument("--recompute-days", type=int, default=None, help="days recomputed in (a); fewer than --days extrapolates")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile one more recompute; print the top N functions")
    args = parser.parse_args()
    plant = load_plant(bundled_plant_path())
    overhaul = frozenset(range(190, 204)) if args.days > 204 else frozenset()
    year = Year(args.first_day, args.days, overhaul)
    recompute_days = min(args.recompute_days or args.days, args.days)
    influx = InfluxServer().start()
    store = InfluxStore(influx.url, "bench", timeout_s=300)
    try:
        store.ensure_database()
        back_fill(store, plant, year, args.seed)
        end_ms = year.bounds_ms(plant)[1]
        jobs = ComplianceJobs(store, clock_ms=lambda: end_ms + 3_600_000)
        half = bench_half_hours(jobs, plant, year, args.runs, "nothing stored yet")
        pid = influx.proc.pid if influx.proc is not None else None
        whole = bench_recompute(jobs, store, plant, year, recompute_days, args.runs, pid)
        # as in operation: the findings read the trailing day of stored averages
        stored = bench_half_hours(jobs, plant, year, args.runs, "the recomputed results stored")
        if args.profile:
            profile_recompute(jobs, store, plant, year, recompute_days, args.profile)
        print(
            f"median of {args.runs}: half-hour job {statistics.median(half) * 1000:.0f} ms with nothing stored, "
            f"{statistics.median(stored) * 1000:.0f} ms with the results stored (target < 1000 ms)"
        )
        median_s = statistics.median(whole)
        if recompute_days == args.days:
            print(f"median of {args.runs}: recompute of {args.days} days {median_s:.1f} s (target < 60 s)")
        else:
            print(
                f"median of {args.runs}: recompute of {recompute_days} days {median_s:.1f} s; "
                f"EXTRAPOLATED (linear, not measured) to {args.days} days: {median_s * args.days / recompute_days:.0f} s (target < 60 s)"
            )
    finally:
        store.close()
        influx.cleanup()


if __name__ == "__main__":
    main()
