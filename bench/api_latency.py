"""API speed on a year of stored data (issue 5): p95 latency of the tonnage, uptime and compliance
summaries for a full year and of a 7-day readings query down-sampled to 5 minutes (target p95 < 150 ms
each), and requests/s of the summary endpoints under concurrent load.

    python -m bench.api_latency [--runs 3] [--requests 30] [--threads 8] [--load-s 5]

A real InfluxDB 1.6.7 is back-filled with what the summaries read, never raw data for them: the
plant_state timeline of bench/compliance_year.py's daily schedule (with its two-week overhaul), the
year's stored averages (`emission_avg`: every series the plant's profiles plan, 262,800 windows) and
days (`emission_day`), about 180 weighed batches per operating day, and 8 days of 10-second readings
of t_secondary for the readings query; then the daily and monthly roll-ups the summaries read, as
the compliance day job keeps them. `wastewatch api` serves it from a subprocess (one uvicorn
worker) with the summary cache on (--cache-s 60, the default setting) or off (--cache-s 0); the load generator is httpx in threads on the same machine, so both compete for the CPU.
Each figure is the median over --runs runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import numpy as np

from alerts.schema import open_database
from api.keys import KeyStore
from api.roles import Role
from api.summaries.profiles import plant_profiles
from api.summaries.rollup import rollup
from bench.compliance_year import DAY_MIN, MINUTE_MS, STATE_INDEX, Year, state_per_minute, state_points
from tests.servers import InfluxServer, free_port, wait_for_port
from wastewatch.compliance.pipeline import Series, plan_series
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import AverageRecord, DayRecord
from wastewatch.operating_state import OperatingState
from wastewatch.plant import PlantConfig, bundled_plant_path, load_plant
from wastewatch.points import Point
from wastewatch.records import Batch, Reading
from wastewatch.settings import Settings
from wastewatch.store.influx import InfluxStore

BATCH_POINTS = 5_000
PERIOD_MIN = {"10min": 10, "30min": 30, "1h": 60}
EFFECTIVE = (STATE_INDEX[OperatingState.BURNING], STATE_INDEX[OperatingState.BURNOUT])
FACILITIES = ("rsud-murjani", "puskesmas-baamang", "puskesmas-ketapang", "klinik-perkebunan", "rs-swasta-sampit")


def average_points(plant: PlantConfig, series: Series, year: Year, states: np.ndarray, rng: np.random.Generator) -> list[Point]:
    """One stored average per window of the year: valid with a value while burning, no_waste otherwise,
    a monthly maintenance window and a few insufficient-data windows."""
    step = PERIOD_MIN[series.period]
    start_ms = year.bounds_ms(plant)[0]
    minutes = np.arange(0, len(states), step)
    burning = np.isin(states[minutes], EFFECTIVE)
    values = rng.gamma(4.0, 5.0, len(minutes)).round(3)
    odd = rng.random(len(minutes))
    points = []
    for i, minute in enumerate(minutes.tolist()):
        if not burning[i]:
            quality, value = QualityCode.NO_WASTE, None
        elif odd[i] < 0.01:
            quality, value = QualityCode.INSUFFICIENT_DATA, None
        elif (minute // DAY_MIN) % 30 == 10 and 540 <= minute % DAY_MIN < 660:
            quality, value = QualityCode.MAINTENANCE, None
        else:
            quality, value = QualityCode.VALID, float(values[i])
        n_valid = step if value is not None else 0
        points.append(AverageRecord(plant.id, series.profile.id, series.pollutant, series.period, start_ms + minute * MINUTE_MS,
                                    quality, value, value, 0.0, n_valid, 0, step, "bench").to_point())
    return points


def day_points(plant: PlantConfig, series: Series, year: Year, rng: np.random.Generator) -> list[Point]:
    points = []
    for d in range(year.days):
        day = year.first_day + timedelta(days=d)
        start_ms = year.bounds_ms(plant)[0] + d * DAY_MIN * MINUTE_MS
        idle = d in year.overhaul
        quality = QualityCode.NO_WASTE if idle else (QualityCode.INSUFFICIENT_DATA if rng.random() < 0.03 else QualityCode.VALID)
        value = None if quality != QualityCode.VALID else float(rng.gamma(4.0, 5.0))
        points.append(DayRecord(plant.id, series.profile.id, series.pollutant, day, start_ms, series.period, quality, value,
                                0 if idle else 15, int(rng.integers(0, 3)), "bench").to_point())
    return points


def batch_points(plant: PlantConfig, year: Year, states: np.ndarray, rng: np.random.Generator) -> list[Point]:
    """A batch of about 25 kg every 5 minutes while burning (≈ 300 kg/h)."""
    start_ms = year.bounds_ms(plant)[0]
    burning = np.flatnonzero(states == STATE_INDEX[OperatingState.BURNING])
    minutes = burning[burning % 5 == 0]
    masses = rng.normal(25.0, 4.0, len(minutes)).clip(5, 60).round(3)
    return [
        Batch(plant.id, f"b{i}", start_ms + int(m) * MINUTE_MS, float(masses[i]), FACILITIES[i % len(FACILITIES)],
              "A337-1" if i % 3 else "A337-2").to_point()
        for i, m in enumerate(minutes.tolist())
    ]


def reading_points(plant: PlantConfig, end_ms: int, days: int, rng: np.random.Generator) -> list[Point]:
    n = days * 8640
    values = (1050 + rng.normal(0, 15, n)).round(2)
    return [Reading(plant.id, "t_secondary", end_ms - (n - i) * 10_000, float(values[i])).to_point() for i in range(n)]


def back_fill(store: InfluxStore, plant: PlantConfig, year: Year, seed: int) -> None:
    rng = np.random.default_rng(seed)
    states = state_per_minute(year)
    t0 = time.perf_counter()
    counts: dict[str, int] = {}
    series = plan_series(plant, plant_profiles(plant))
    groups: list[tuple[str, list[Point]]] = [("plant_state", state_points(plant, year))]
    groups += [("emission_avg", average_points(plant, s, year, states, rng)) for s in series]
    groups += [("emission_day", day_points(plant, s, year, rng)) for s in series if s.day_basis]
    groups += [("batch", batch_points(plant, year, states, rng)), ("reading", reading_points(plant, year.bounds_ms(plant)[1], 8, rng))]
    for name, points in groups:
        for b in range(0, len(points), BATCH_POINTS):
            store.write(points[b : b + BATCH_POINTS])
        counts[name] = counts.get(name, 0) + len(points)
    print(f"back-fill in {time.perf_counter() - t0:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
    t0 = time.perf_counter()
    start_ms, end_ms = year.bounds_ms(plant)
    report = rollup(store, plant, start_ms, end_ms, now_ms=end_ms + 86_400_000)  # as the nightly day job keeps them
    print(f"daily roll-ups in {time.perf_counter() - t0:.1f} s: {report.days} days, {report.months} months", flush=True)


def start_api(influx_url: str, data_dir: Path, cache_s: float) -> tuple[subprocess.Popen[bytes], str, str]:
    settings = Settings(data_dir=data_dir)  # type: ignore[call-arg]
    db = open_database(settings)
    key = KeyStore(db).issue("bench", Role.ADMIN, "bench", int(time.time() * 1000)).secret_key
    db.close()
    port = free_port()
    env = {**os.environ, "WASTEWATCH_INFLUX_URL": influx_url, "WASTEWATCH_INFLUX_DATABASE": "bench",
           "WASTEWATCH_DATA_DIR": str(data_dir), "WASTEWATCH_API_PORT": str(port), "WASTEWATCH_LOG_LEVEL": "WARNING",
           "WASTEWATCH_API_MAX_POINTS": "100000", "WASTEWATCH_API_SUMMARY_CACHE_S": str(cache_s)}
    proc = subprocess.Popen([sys.executable, "-m", "launch.cli", "api"], env=env)
    wait_for_port(port, timeout_s=30)
    return proc, f"http://127.0.0.1:{port}", key


def latencies_ms(client: httpx.Client, url: str, n: int) -> list[float]:
    client.get(url).raise_for_status()  # warm-up (first query, caches)
    found = []
    for _ in range(n):
        t0 = time.perf_counter()
        client.get(url).raise_for_status()
        found.append((time.perf_counter() - t0) * 1000)
    return found


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def requests_per_s(base: str, key: str, url: str, threads: int, seconds: float) -> float:
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            while time.perf_counter() < stop:
                client.get(url).raise_for_status()
                done[i] += 1

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(done) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per endpoint and run")
    parser.add_argument("--threads", type=int, default=8, help="concurrent clients of the load test")
    parser.add_argument("--load-s", type=float, default=5.0, help="seconds of load per endpoint and run")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--cache-s", type=float, default=60.0, help="WASTEWATCH_API_SUMMARY_CACHE_S of the served API; 0: every request computes")
    args = parser.parse_args()
    plant = load_plant(bundled_plant_path())
    year = Year(date(2025, 1, 1), 365, frozenset(range(190, 204)))
    influx = InfluxServer().start()
    store = InfluxStore(influx.url, "bench", timeout_s=300)
    proc = None
    try:
        store.ensure_database()
        back_fill(store, plant, year, args.seed)
        proc, base, key = start_api(influx.url, Path(tempfile.mkdtemp(prefix="ww-api-bench-")), args.cache_s)
        print(f"summary cache: {args.cache_s:g} s" + (" (off: every request computes its summary)" if not args.cache_s else
              " (warm: the first request of each run computes, the rest reuse it)"), flush=True)
        last_week = "start=2025-12-25T00:00:00%2B07:00&end=2026-01-01T00:00:00%2B07:00"
        endpoints = {
            "tonnage (year, by month)": "/api/v1/plants/kotim/tonnage?period=2025&by=month",
            "uptime (year)": "/api/v1/plants/kotim/uptime?period=2025",
            "compliance (year)": "/api/v1/plants/kotim/compliance?period=2025",
            "readings (7 d, 5 min mean)": f"/api/v1/plants/kotim/sensors/t_secondary/readings?{last_week}&interval=5m&aggregate=mean",
        }
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            for name, url in endpoints.items():
                runs = [latencies_ms(client, url, args.requests) for _ in range(args.runs)]
                print(f"{name:<28} p50 {statistics.median(statistics.median(r) for r in runs):7.1f} ms   "
                      f"p95 {statistics.median(p95(r) for r in runs):7.1f} ms   (median of {args.runs} runs x {args.requests}; target p95 < 150 ms)",
                      flush=True)
        for name, url in list(endpoints.items())[:3]:
            rates = [requests_per_s(base, key, url, args.threads, args.load_s) for _ in range(args.runs)]
            print(f"{name:<28} {statistics.median(rates):7.1f} requests/s with {args.threads} concurrent clients "
                  f"(median of {args.runs} x {args.load_s:.0f} s)", flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
        store.close()
        influx.cleanup()


if __name__ == "__main__":
    main()
