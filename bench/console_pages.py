"""Console page speed on a year of stored data: the plant overview (the page and the live part its
script asks for every 5 s), the alert inbox and an alert's page (with its readings around the alert),
the evaluators' summary pages (the index, a plant's month, quarter and year), the public page and the
admin pages, each requested N times by a logged-in user; p50 and p95 per page, the median of --runs
runs (target p95 < 150 ms). Then the new alert -> open inbox latency in headless Chromium.

    python -m bench.console_pages [--runs 3] [--requests 50] [--inbox-alerts 20]

A real InfluxDB 1.6.7 is back-filled by bench/api_latency.py's writer (a year of plant states,
stored averages and days, batches, 8 days of 10-second t_secondary readings), here ending today so
that "now" is in it, plus a day of t_primary readings, the devices' statuses and three burning hours
of valid averages (the page judges every limit, whenever it runs); the alert database
holds --alerts alerts over the last 30 days (the last of each of four rules still active). `wastewatch api` serves
it from a subprocess (one uvicorn worker); the client is httpx on the same machine.

Two API processes serve the same data: one as deployed (summary cache WASTEWATCH_API_SUMMARY_CACHE_S=60
and public page cache WASTEWATCH_API_PUBLIC_CACHE_S=60, the defaults: the warm-up request computes, the
timed ones reuse it), and one with both caches off (0), where every timed request of a summary or the
public page computes it from InfluxDB: the cold figures.

The inbox latency: Chromium (tests/console_browser.py's flags) logged in as the operator keeps the inbox
open; a MutationObserver installed with execute_script records performance.timeOrigin + performance.now()
when a row of an alert id first appears. --inbox-alerts times, after a random pause of 0.3 to 2.7 s, a new
alert is committed into the alert database through the alert lifecycle (`Lifecycle.apply(AlertRaised)`,
as the alert worker does) and time.time() taken when the commit returned; the figure is row appeared -
commit (same machine, same clock), median, p95 and max.
"""

from __future__ import annotations

import argparse
import os
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
from tests.console_browser import log_in as browser_log_in
from tests.console_browser import new_driver
from tests.servers import InfluxServer
from wastewatch.compliance.pipeline import plan_series
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import AverageRecord
from wastewatch.plant import PlantCatalog, PlantConfig, bundled_plant_path, load_plant
from wastewatch.points import Point
from wastewatch.records import PLANT_STATE, DeviceStatus, Reading
from wastewatch.relational import Database
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
        UserStore(db).add("bench-admin", Role.ADMIN, PASSWORD, "bench", now_ms)
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


def log_in(client: httpx.Client, base: str, name: str = "bench-operator") -> None:
    answer = client.post("/console/login", data={"name": name, "password": PASSWORD}, headers={"Origin": base})
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


def summary_pages(plant: PlantConfig, today: date) -> dict[str, str]:
    """This month, quarter and year (their days from today on are not rolled up yet: counted from the stored
    averages, a query per series and count) and last month (wholly rolled up), the index, the public page."""
    month, quarter = f"{today.year:04d}-{today.month:02d}", f"{today.year:04d}-Q{(today.month - 1) // 3 + 1}"
    last = f"{today.year - 1:04d}-12" if today.month == 1 else f"{today.year:04d}-{today.month - 1:02d}"
    return {
        "summary index (this month)": "/console/summary",
        f"summary {last} (last mo.)": f"/console/summary/{plant.id}?period={last}",
        f"summary {month}": f"/console/summary/{plant.id}?period={month}",
        f"summary {quarter}": f"/console/summary/{plant.id}?period={quarter}",
        f"summary {today.year}": f"/console/summary/{plant.id}?period={today.year}",
        "public page": f"/public/plants/{plant.id}",
    }


def time_pages(client: httpx.Client, pages: dict[str, str], runs: int, requests: int, suffix: str = "") -> None:
    for name, url in pages.items():
        found = [latencies_ms(client, url, requests) for _ in range(runs)]
        print(f"{name + suffix:<42} p50 {statistics.median(statistics.median(r) for r in found):7.1f} ms   "
              f"p95 {statistics.median(p95(r) for r in found):7.1f} ms   (median of {runs} runs x {requests}; "
              "target p95 < 150 ms)", flush=True)


OBSERVER = """
window.__seen = {};
var body = document.getElementById('inbox-rows');
function scan() {
  var t = performance.timeOrigin + performance.now();
  body.querySelectorAll('td.id a').forEach(function (a) {
    var m = /\\/console\\/alerts\\/(\\d+)/.exec(a.getAttribute('href'));
    if (m && !(m[1] in window.__seen)) { window.__seen[m[1]] = t; }
  });
}
scan();
new MutationObserver(scan).observe(body, {childList: true, subtree: true});
return Object.keys(window.__seen).length;
"""


def inbox_latency(settings: Settings, plant: PlantConfig, base: str, count: int, rng: random.Random) -> list[float]:
    """Row appeared in the open inbox - the alert's commit, in ms, for `count` new alerts committed at random moments."""
    driver = new_driver()
    db: Database = open_database(settings)
    try:
        browser_log_in(driver, base, "bench-operator", PASSWORD)
        driver.get(f"{base}/console/alerts")
        shown = driver.execute_script(OBSERVER)
        print(f"inbox open in Chromium, {shown} rows, observer installed", flush=True)
        lifecycle = Lifecycle(db, parse_routes("operators=log", ["regulatory"], ["log"]), [], PlantCatalog([plant]))
        found = []
        for i in range(count):
            time.sleep(rng.uniform(0.3, 2.7))
            at_ms = int(time.time() * 1000)
            with db.transaction():
                lifecycle.apply(AlertRaised(plant=plant.id, rule_id="t_secondary_low", subject=f"bench_new_{i}", severity="critical",
                                            category="process", source="bench", at_ms=at_ms, message=f"new {i}", value=900.0,
                                            condition_since_ms=at_ms - MIN_MS))
            committed_s = time.time()
            alert_id = str(db.query("SELECT id FROM alerts WHERE subject = ?", (f"bench_new_{i}",))[0]["id"])
            deadline = time.monotonic() + 15
            seen = None
            while seen is None and time.monotonic() < deadline:
                seen = driver.execute_script("return window.__seen[arguments[0]] || null;", alert_id)
                if seen is None:
                    time.sleep(0.02)
            if seen is None:
                raise SystemExit(f"alert #{alert_id} did not appear in the open inbox within 15 s")
            found.append(float(seen) - committed_s * 1000)
        return found
    finally:
        db.close()
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page and run")
    parser.add_argument("--alerts", type=int, default=600, help="alerts in the alert database (the last 30 days)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--inbox-alerts", type=int, default=20, help="new alerts timed from commit to the open inbox; 0: skip")
    args = parser.parse_args()
    plant = load_plant(bundled_plant_path())
    today = datetime.now(plant.zone).date()
    year = Year(today - timedelta(days=364), 365, frozenset(range(190, 204)))
    rng = random.Random(args.seed)
    influx = InfluxServer().start()
    store = InfluxStore(influx.url, "bench", timeout_s=300)
    data_dir = Path(tempfile.mkdtemp(prefix="ww-console-bench-"))
    proc = cold = None
    try:
        store.ensure_database()
        back_fill(store, plant, year, args.seed)
        now_ms = int(time.time() * 1000)
        live_extras(store, plant, now_ms, rng)
        alert_id = alerts_of_a_month(Settings(data_dir=data_dir), plant, now_ms, args.alerts, rng)
        os.environ["WASTEWATCH_API_PUBLIC_PLANTS"] = plant.id
        os.environ["WASTEWATCH_API_PUBLIC_CACHE_S"] = "60"
        proc, base, _ = start_api(influx.url, data_dir, 60.0)
        os.environ["WASTEWATCH_API_PUBLIC_CACHE_S"] = "0"
        cold_dir = Path(tempfile.mkdtemp(prefix="ww-console-bench-cold-"))  # its own alert database (start_api issues a key)
        users = open_database(Settings(data_dir=cold_dir))
        UserStore(users).add("bench-operator", Role.OPERATOR, PASSWORD, "bench", now_ms)
        users.close()
        cold, cold_base, _ = start_api(influx.url, cold_dir, 0.0)
        pages = {
            "overview (page)": f"/console/plants/{plant.id}",
            "overview (live part, every 5 s)": f"/console/plants/{plant.id}/now",
            "plants (home list)": "/console/plants?part=rows",
            "inbox": "/console/alerts",
            "inbox (rows, when changed)": "/console/alerts/rows",
            "inbox (poll unchanged, every 1 s)": "/console/alerts/rows?since=",
            f"alert #{alert_id} (with readings)": f"/console/alerts/{alert_id}",
        }
        summaries = summary_pages(plant, today)
        admin = {"admin: users": "/console/admin/users", "admin: keys": "/console/admin/keys"}
        with httpx.Client(base_url=base, timeout=60) as client, httpx.Client(base_url=base, timeout=60) as admin_client:
            log_in(client, base)
            log_in(admin_client, base, "bench-admin")
            version = client.get("/console/alerts/rows").headers.get("X-Inbox-Version", "")
            pages["inbox (poll unchanged, every 1 s)"] += version  # the change token the page holds: an empty 204
            print(what_is_shown(client, pages), flush=True)
            time_pages(client, pages, args.runs, args.requests)
            time_pages(client, summaries, args.runs, args.requests, " (cached)")
            time_pages(admin_client, admin, args.runs, args.requests)
        with httpx.Client(base_url=cold_base, timeout=60) as client:
            log_in(client, cold_base)
            time_pages(client, summaries, args.runs, args.requests, " (caches off)")
        print(f"on {date.today()}: {args.alerts} alerts, load {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
        if args.inbox_alerts:
            lags = inbox_latency(Settings(data_dir=data_dir), plant, base, args.inbox_alerts, rng)
            print(f"new alert -> open inbox: median {statistics.median(lags):.0f} ms, p95 {p95(lags):.0f} ms, max {max(lags):.0f} ms, "
                  f"min {min(lags):.0f} ms ({len(lags)} alerts; target 2,000 ms)", flush=True)
            print(f"load {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    finally:
        for served in (proc, cold):
            if served is not None:
                served.terminate()
                served.wait(timeout=15)
        store.close()
        influx.cleanup()


if __name__ == "__main__":
    main()
