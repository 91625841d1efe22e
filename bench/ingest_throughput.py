"""End-to-end ingest throughput on the real stack: Mosquitto → `wastewatch ingest` → InfluxDB.

Publishes single-reading QoS 1 messages with `mosquitto_pub -l` (C clients, one per sensor topic;
each fed files of at most 20,000 lines, because mosquitto_pub 2.0.11 stops early at the end of a
larger input),
and measures from the first publish to the last point visible in InfluxDB; reports the ingest
process's peak RSS (VmHWM) and CPU seconds. Medians of --runs runs (default 3).

    python -m bench.ingest_throughput --messages 200000 --publishers 4 --runs 3 [--workers 2]

With --workers N, N ingest processes share the subscription (`$share/…`, WASTEWATCH_INGEST_SHARED_GROUP).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.servers import InfluxServer, MosquittoServer

SENSORS = ["t_primary", "t_secondary", "co", "nox", "so2", "hcl", "dust", "toc"]  # 800-897 is in range for each


def count_points(url: str, db: str) -> int:
    r = httpx.get(f"{url}/query", params={"db": db, "q": 'SELECT count("value") FROM "reading"'}, timeout=30)
    series = r.json()["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def proc_stats(pid: int) -> tuple[float, float]:
    """(peak RSS in MB, CPU seconds) of a running process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    hwm_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return hwm_kb / 1024, (int(fields[11]) + int(fields[12])) / ticks


CHUNK_LINES = 20_000


def one_run(messages: int, publishers: int, run: int, workers: int) -> dict[str, float]:
    broker, influx = MosquittoServer().start(), InfluxServer().start()
    work = Path(tempfile.mkdtemp(prefix="ww-bench-"))
    db = "bench"
    env = {
        **os.environ,
        "WASTEWATCH_MQTT_URL": broker.url,
        "WASTEWATCH_INFLUX_URL": influx.url,
        "WASTEWATCH_INFLUX_DATABASE": db,
        "WASTEWATCH_DATA_DIR": str(work / "data"),
        "WASTEWATCH_LOG_LEVEL": "WARNING",
    }
    ingests = []
    for w in range(workers):
        worker_env = {**env, "WASTEWATCH_INGEST_CLIENT_ID": f"bench-ingest-{w}", "WASTEWATCH_DATA_DIR": str(work / f"data{w}")}
        if workers > 1:
            worker_env["WASTEWATCH_INGEST_SHARED_GROUP"] = "bench"
        ingests.append(subprocess.Popen([sys.executable, "-m", "launch.cli", "ingest"], env=worker_env))
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the ingest creates the database once it is up
            r = httpx.get(f"{influx.url}/query", params={"q": "SHOW DATABASES"}).json()
            if any(db in v for s in r["results"][0].get("series", []) for v in s.get("values", [])):
                break
            time.sleep(0.1)
        time.sleep(1.0)
        per = messages // publishers
        start_ms = int(time.time() * 1000) - 3_600_000
        streams = []
        for p in range(publishers):
            chunks = []
            for c in range(0, per, CHUNK_LINES):
                path = work / f"pub{p}-{c}.jsonl"
                with open(path, "w") as f:
                    for i in range(c, min(per, c + CHUNK_LINES)):
                        f.write(json.dumps({"ts": start_ms + i * 10, "value": 800.0 + (i % 97)}) + "\n")
                chunks.append(path)
            topic = f"plants/kotim/sensors/{SENSORS[p % len(SENSORS)]}"
            cmd = " && ".join(
                f"mosquitto_pub -h 127.0.0.1 -p {broker.port} -q 1 -M 1000 -l -t {topic} -i bench-pub-{p} < {c}" for c in chunks
            )
            streams.append(cmd)
        total = per * publishers
        started = time.perf_counter()
        pubs = [subprocess.Popen(["sh", "-c", cmd]) for cmd in streams]
        give_up = time.monotonic() + 600
        while (seen := count_points(influx.url, db)) < total:
            if time.monotonic() > give_up:
                raise RuntimeError(f"only {seen} of {total} points arrived within 600 s")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        for p in pubs:
            p.wait(timeout=30)
        stats = [proc_stats(i.pid) for i in ingests]
        rss_mb, cpu_s = max(st[0] for st in stats), sum(st[1] for st in stats)
        broker_cpu = proc_stats(broker.proc.pid)[1] if broker.proc else 0.0
        influx_cpu = proc_stats(influx.proc.pid)[1] if influx.proc else 0.0
        rate = total / elapsed
        print(
            f"run {run}: {total} messages in {elapsed:.2f} s = {rate:,.0f} msg/s with {workers} ingest worker(s); "
            f"peak RSS per worker {rss_mb:.1f} MB, "
            f"CPU s: ingest {cpu_s:.1f}, mosquitto {broker_cpu:.1f}, influxd {influx_cpu:.1f}",
            flush=True,
        )
        return {"rate": rate, "rss_mb": rss_mb, "cpu_s": cpu_s, "elapsed_s": elapsed}
    finally:
        for i in ingests:
            i.terminate()
            i.wait(timeout=30)
        broker.cleanup()
        influx.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="ingest processes sharing the subscription")
    args = parser.parse_args()
    results = [one_run(args.messages, args.publishers, r + 1, args.workers) for r in range(args.runs)]
    print(
        f"median of {args.runs} ({args.workers} worker(s)): {statistics.median(r['rate'] for r in results):,.0f} msg/s, "
        f"peak RSS {statistics.median(r['rss_mb'] for r in results):.1f} MB, "
        f"CPU {statistics.median(r['cpu_s'] for r in results):.1f} s for {args.messages} messages"
    )


if __name__ == "__main__":
    main()
