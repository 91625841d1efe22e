"""A year of stored results for one plant in InfluxDB 1.x (batches, plant states, emission_avg and
emission_day as the compliance engine writes them, and the tonnage rollup the day job keeps), then
the timing of each year-long summary.

    python -m bench.summaries_year [--runs 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from api.summaries import compliance_summary, tonnage, uptime, year_period
from api.summaries.periods import Period
from api.summaries.rollup import rollup
from tests.servers import InfluxServer
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import AverageRecord, DayRecord
from wastewatch.plant import PlantConfig, load_catalog
from wastewatch.points import Point, Store
from wastewatch.records import PLANT_STATE, Batch
from wastewatch.store.influx import InfluxStore

SERIES = [("eu-ied-annex-vi", "co", "10min", 10)] + [("eu-ied-annex-vi", p, "30min", 30) for p in ("co", "dust", "hcl", "nox", "so2", "toc")] \
    + [(prof, p, "1h", 60) for prof in ("id-kep03-1995-unconfirmed", "id-data-availability") for p in ("co", "dust", "hcl", "nox", "so2", "toc")]


def write_year(store: Store, plant: PlantConfig, year: Period) -> None:
    """The stored year: 300 batches a day (7.2 t), a daily start-up and shut-down, every average and day."""
    rng = random.Random(1)
    facilities = [f.id for f in plant.facilities]
    points: list[Point] = []
    day = year.first
    while day < year.after:
        start = year.start_ms + (day - year.first).days * 86_400_000
        for h, state in ((6, "preheat"), (7, "ready"), (8, "burning"), (20, "burnout"), (21, "shutdown"), (22, "cold")):
            points.append(Point(PLANT_STATE, {"plant": plant.id}, {"state": state}, start + h * 3_600_000))
        for i in range(300):
            points.append(Batch(plant.id, f"{day}-{i}", start + 8 * 3_600_000 + i * 144_000, rng.randint(20_000, 28_000) / 1000,
                                rng.choice(facilities), rng.choice(["A337-1", "A337-2"])).to_point())
        for profile, pollutant, period, minutes in SERIES:
            for k in range(24 * 60 // minutes):
                t = start + k * minutes * 60_000
                burning = 8 * 60 <= k * minutes < 21 * 60
                q = QualityCode.VALID if burning else QualityCode.NO_WASTE
                points.append(AverageRecord(plant.id, profile, pollutant, period, t, q, rng.uniform(0, 60) if burning else None,
                                            None, 0.0, minutes if burning else 0, 0, minutes, "1").to_point())
            if period != "10min":
                points.append(DayRecord(plant.id, profile, pollutant, day, start, period, QualityCode.VALID, 20.0, 13, 0, "1").to_point())
        day += timedelta(days=1)
        if len(points) > 50_000:
            store.write(points)
            points = []
    store.write(points)
    # what the compliance day job's hook keeps: the days that have ended (here, all of them)
    rollup(store, plant, year.start_ms, year.end_ms, now_ms=year.end_ms)


def time_calls(calls: list[tuple[str, Callable[[], object]]], runs: int) -> None:
    for name, call in calls:
        call()
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            call()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        print(f"{name}: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms over {runs} runs", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole timing this many times")
    args = parser.parse_args()
    plant = next(iter(load_catalog(None)))
    year = year_period(2026, plant.zone)
    server = InfluxServer().start()
    try:
        store = InfluxStore(server.url, "bench")
        store.ensure_database()
        write_year(store, plant, year)
        calls: list[tuple[str, Callable[[], object]]] = [
            ("tonnage", lambda: tonnage(store, plant, year.start_ms, year.end_ms, by="month")),
            ("uptime", lambda: uptime(store, plant, year.start_ms, year.end_ms)),
            ("compliance_summary", lambda: compliance_summary(store, plant, year.start_ms, year.end_ms)),
        ]
        for _ in range(args.rounds):
            time_calls(calls, args.runs)
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
