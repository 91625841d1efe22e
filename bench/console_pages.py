"""Console page speed on a year of stored data: the plant overview (the page and the live part its
script asks for every 5 s), the alert inbox and an alert's page (with its readings around the alert),
each requested N times by a logged-in operator; p50 and p95 per page, the median of --runs runs
(target p95 < 150 ms).

    python -m bench.console_pages [--runs 3] [--requests 50]

A real InfluxDB 1.6.7 is back-filled by bench/api_latency.py's writer (a year of plant states,
stored averages and days, batches, 8 days of 10-second t_secondary readings), here ending today so
that "now" is in it, plus a day of t_primary readings, the devices' statuses and three burning hours
of valid averages (the page judges every limit, whenever it runs); the alert database
holds --alerts alerts over the last 30 days (the last of each of four rules still active). `wastewatch api` serves
it from a subprocess (one uvicorn worker); the client is httpx on the same machine.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

from alerts.events import AlertCleared, AlertRaised
from alerts.lifecycle import Lifecycle
from alerts.routing import parse_routes
from alerts.schema import open_database
from api.roles import Role
from api.summaries.profiles import plant_profiles
from api.users import UserStore
from bench.api_latency import PERIOD_MIN, back_fill, latencies_ms, p95, start_api
from bench.compliance_year import Year
from tests.servers import InfluxServer
from wastewatch.compliance.pipeline import plan_series
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import AverageRecord
from wastewatch.plant import PlantCatalog, PlantConfig, bundled_plant_path, load_plant
from wastewatch.points import Point
from wastewatch.records import PLANT_STATE, DeviceStatus, Reading
from wastewatch.settings import Settings
from wastewatch.store.influx import InfluxStore

PASSWORD = "bench-console-2026"
MIN_MS = 60_000
RULES = [("t_secondary_low", "t_secondary", "critical", "process"), ("t_primary_low", "t_primary", "critical", "process"),
         ("scrubber_ph_low", "scrubber_ph", "warning", "process"), ("co_high", "co", "major", "regulatory")]


def live_extras(store: InfluxStore, plant: PlantConfig, now_ms: int, rng: random.Random) -> None:
    """What the overview reads beyond the year: a day of t_primary readings, the devices' statuses, and
    the plant burning for the last three hours with every series' valid averages (whatever the time of
    day the bench runs at, the page judges every limit, as by day)."""
    store.write([Reading(plant.id, "t_primary", now_ms - i * 10_000, 850 + rng.gauss(0, 10)).to_point() for i in range(8640)])
    store.write([Point(PLANT_STATE, {"plant": plant.id}, {"state": "burning", "from_state": "ready", "reason": "bench"},
                       now_ms - 3 * 3_600_000)])
    averages = []
    for series in plan_series(plant, plant_profiles(plant)):
        minutes = PERIOD_MIN[series.period]
        last = now_ms - now_ms % (minutes * MIN_MS) - minutes * MIN_MS
        for k in range(3 * 60 // minutes):
            averages.append(AverageRecord(plant.id, series.profile.id, series.pollutant, series.period, last - k * minutes * MIN_MS,
                                          QualityCode.VALID, rng.uniform(0, 60), None, 0.0, minutes, 0, minutes, "1").to_point())
    store.write(averages)
    store.write([DeviceStatus(plant.id, device, now_ms - (k + 1) * 3_600_000, k % 2 == 0).to_point()
                 for k, device in enumerate(plant.devices)])


def alerts_of_a_month(settings: Settings, plant: PlantConfig, now_ms: int, count: int, rng: random.Random) -> int:
    """`count` alerts over the last 30 days, the last of each rule still active; the id of one raised two days ago."""
    db = open_database(settings)
    try:
        UserStore(db).add("bench-operator", Role.OPERATOR, PASSWORD, "bench", now_ms)
        lifecycle = Lifecycle(db, parse_routes("operators=log", ["regulatory"], ["log"]), [], PlantCatalog([plant]))
        with db.transaction():
            for i in range(count):
                rule, subject, severity, category = RULES[i % len(RULES)]
                at_ms = now_ms - 30 * 86_400_000 + i * (30 * 86_400_000 // count) + rng.randint(0, 60_000)
                lifecycle.apply(AlertRaised(plant=plant.id, rule_id=rule, subject=subject, severity=severity,  # type: ignore[arg-type]
                                            category=category, source="bench", at_ms=at_ms, message=f"bench {i}",  # type: ignore[arg-type]
                                            value=900.0, condition_since_ms=at_ms - MIN_MS))
                if i < count - len(RULES):  # the last of each rule stays active
                    lifecycle.apply(AlertCleared(plant=plant.id, rule_id=rule, subject=subject, severity=severity,  # type: ignore[arg-type]
                                                 category=category, source="bench", at_ms=at_ms + 20 * MIN_MS,  # type: ignore[arg-type]
                                                 message="back", value=1015.0, raised_at_ms=at_ms, reason="recovered"))
        rows = db.query("SELECT id FROM alerts WHERE subject = 't_secondary' AND raised_at_ms < ? ORDER BY raised_at_ms DESC LIMIT 1",
                        (now_ms - 2 * 86_400_000,))
        return int(rows[0]["id"])
    finally:
        db.close()


def log_in(client: httpx.Client, base: str) -> None:
    answer = client.post("/console/login", data={"name": "bench-operator", "password": PASSWORD}, headers={"Origin": base})
    if answer.status_code != 303:
        raise SystemExit(f"login failed: {answer.status_code} {answer.text[:200]}")


def what_is_shown(client: httpx.Client, pages: dict[str, str]) -> str:
    """What the timed pages hold (so that a fast answer is not an empty one)."""
    overview, inbox, alert = (client.get(url).text for url in (pages["overview (page)"], pages["inbox"], list(pages.values())[-1]))
    state = re.search(r'id="plant-state"><span>[^<]*</span><strong>([^<]*)<', overview)
    averages = len(re.findall(r'<td class="verdict (?:ok|bad)">', overview))
    chart = re.search(r'data-points="(\d+)"', alert)
    return (f"shown: state {state.group(1) if state else None!r}, {averages} averages judged against their limits, "
            f"{overview.count('data-device=')} devices, {overview.count('/console/alerts/')} open alerts linked; "
            f"inbox {inbox.count('<tr class=')} rows; alert page chart of {chart.group(1) if chart else 0} points")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page and run")
    parser.add_argument("--alerts", type=int, default=600, help="alerts in the alert database (the last 30 days)")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    plant = load_plant(bundled_plant_path())
    today = datetime.now(plant.zone).date()
    year = Year(today - timedelta(days=364), 365, frozenset(range(190, 204)))
    rng = random.Random(args.seed)
    influx = InfluxServer().start()
    store = InfluxStore(influx.url, "bench", timeout_s=300)
    data_dir = Path(tempfile.mkdtemp(prefix="ww-console-bench-"))
    proc = None
    try:
        store.ensure_database()
        back_fill(store, plant, year, args.seed)
        now_ms = int(time.time() * 1000)
        live_extras(store, plant, now_ms, rng)
        alert_id = alerts_of_a_month(Settings(data_dir=data_dir), plant, now_ms, args.alerts, rng)
        proc, base, _ = start_api(influx.url, data_dir, 60.0)
        pages = {
            "overview (page)": f"/console/plants/{plant.id}",
            "overview (live part, every 5 s)": f"/console/plants/{plant.id}/now",
            "plants (home list)": "/console/plants?part=rows",
            "inbox": "/console/alerts",
            "inbox (rows, every 2 s)": "/console/alerts/rows",
            f"alert #{alert_id} (with readings)": f"/console/alerts/{alert_id}",
        }
        with httpx.Client(base_url=base, timeout=60) as client:
            log_in(client, base)
            print(what_is_shown(client, pages), flush=True)
            for name, url in pages.items():
                runs = [latencies_ms(client, url, args.requests) for _ in range(args.runs)]
                print(f"{name:<36} p50 {statistics.median(statistics.median(r) for r in runs):7.1f} ms   "
                      f"p95 {statistics.median(p95(r) for r in runs):7.1f} ms   (median of {args.runs} runs x {args.requests}; "
                      "target p95 < 150 ms)", flush=True)
        print(f"on {date.today()}: {args.alerts} alerts, load {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
        store.close()
        influx.cleanup()


if __name__ == "__main__":
    main()
