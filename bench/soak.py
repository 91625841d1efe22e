"""Soak run: simulated hours through the whole stack, with faults sprinkled in, watching for growth.

Starts a real Mosquitto and InfluxDB (child processes, temporary directories), then
`wastewatch ingest`, `wastewatch alerts run` and `wastewatch compliance run` as processes, and the
simulator publishing `--hours` of plant time at `--speed` simulated seconds per real second
(24 h at 60× takes 24 minutes). While it runs, faults come round in turn every `--fault-every-s`
real seconds: InfluxDB stopped for a while and restarted, the broker restarted, the ingest
SIGKILLed and restarted, the alert worker SIGKILLed and restarted. Every `--sample-s` seconds it
samples each worker's resident memory and the ingest's spool depth.

At the end it waits for the ingest to drain, then prints the samples, what the simulator published
against what was stored (they must be equal), the dead letters by reason, and for every sampled series whether it grew without bound: a series "grows"
when the median of its last quarter is more than `--growth` (default 20 %) above the median of its
second quarter and it never came back down to that level in the last quarter.

    python -m bench.soak [--hours 24] [--speed 60] [--fault-every-s 120] [--sample-s 15]

Not a test: it takes as long as the simulated time says. A short check: --hours 2 (two minutes).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers import InfluxServer, MosquittoServer
from wastewatch.store.influx import InfluxStore


@dataclass
class Worker:
    """One `wastewatch …` process, restartable, with its output appended to a log."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "launch.cli", *self.argv], env={**os.environ, **self.env}, stdout=out, stderr=out
            )

    def kill_and_restart(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.restarts += 1
        self.start()

    def rss_mb(self) -> float | None:
        if self.proc is None or self.proc.poll() is not None:
            return None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@dataclass
class Samples:
    series: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float | None) -> None:
        if value is not None:
            self.series.setdefault(name, []).append(value)


def spool_batches(data_dir: Path) -> float | None:
    path = data_dir / "spool.sqlite3"
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as conn:
            return float(conn.execute("SELECT count(*) FROM spool").fetchone()[0])
    except sqlite3.Error:
        return None


def dead_letters(data_dir: Path) -> dict[str, int]:
    path = data_dir / "deadletters.sqlite3"
    if not path.exists():
        return {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
        return {str(r): int(n) for r, n in conn.execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason")}


def grows(values: list[float], tolerance: float) -> bool:
    """True when the last quarter sits above the second quarter by more than `tolerance`, throughout."""
    if len(values) < 8:
        return False
    q = len(values) // 4
    reference = statistics.median(values[q : 2 * q])
    last = values[3 * q :]
    return statistics.median(last) > reference * (1 + tolerance) and min(last) > reference


def influx_outage(influx: InfluxServer, seconds: float) -> Callable[[], str]:
    def fault() -> str:
        influx.stop()
        time.sleep(seconds)
        influx.start()
        return f"InfluxDB down {seconds:.0f} s"

    return fault


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours (default 24)")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    parser.add_argument("--fault-every-s", type=float, default=120.0, help="real seconds between faults (default 120)")
    parser.add_argument("--sample-s", type=float, default=15.0, help="real seconds between samples (default 15)")
    parser.add_argument("--growth", type=float, default=0.2, help="growth tolerance (default 0.2 = 20 %%)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wastewatch-soak-"))
    broker, influx = MosquittoServer().start(), InfluxServer().start()
    store = InfluxStore(influx.url, "soak")
    store.ensure_database()
    base_env = {
        "WASTEWATCH_MQTT_URL": broker.url,
        "WASTEWATCH_INFLUX_URL": influx.url,
        "WASTEWATCH_INFLUX_DATABASE": "soak",
        "WASTEWATCH_LOG_LEVEL": "WARNING",
    }
    ingest = Worker("ingest", ["ingest"], {**base_env, "WASTEWATCH_DATA_DIR": str(work / "ingest")}, work / "ingest.log")
    alerts = Worker(
        "alerts",
        ["alerts", "run"],
        {**base_env, "WASTEWATCH_DATA_DIR": str(work / "alerts"), "WASTEWATCH_ALERTS_DB_URL": f"sqlite:///{work / 'alerts.sqlite3'}",
            "WASTEWATCH_ALERTS_CLOCK": "data",  # the simulator runs ahead of the wall clock
        },
        work / "alerts.log",
    )
    compliance = Worker("compliance", ["compliance", "run"], {**base_env, "WASTEWATCH_DATA_DIR": str(work / "compliance")}, work / "compliance.log")
    workers = [ingest, alerts, compliance]
    simulator = Worker(
        "simulator",
        ["simulate", "--mode", "accelerated", "--speed", str(args.speed), "--duration", f"{args.hours * 60:.0f}m"],
        base_env,
        work / "simulator.log",
    )
    faults: list[Callable[[], str]] = [
        influx_outage(influx, 30),
        lambda: (broker.restart(), "broker restarted")[1],
        lambda: (ingest.kill_and_restart(), "ingest SIGKILLed and restarted")[1],
        lambda: (alerts.kill_and_restart(), "alert worker SIGKILLed and restarted")[1],
    ]
    samples = Samples()
    print(f"soak: {args.hours} simulated hours at {args.speed}x, faults every {args.fault_every_s:.0f} s, work dir {work}")
    started = time.monotonic()
    try:
        for worker in workers:
            worker.start()
        time.sleep(3)
        simulator.start()
        next_fault, next_sample = started + args.fault_every_s, started
        fault_cycle = itertools.cycle(faults)
        assert simulator.proc is not None
        while simulator.proc.poll() is None:
            now = time.monotonic()
            if now >= next_sample:
                for worker in workers:
                    samples.add(f"{worker.name} RSS MB", worker.rss_mb())
                samples.add("spool batches", spool_batches(work / "ingest"))
                next_sample = now + args.sample_s
            if now >= next_fault:
                print(f"  {now - started:7.0f} s  fault: {next(fault_cycle)()}", flush=True)
                next_fault = time.monotonic() + args.fault_every_s
            time.sleep(0.5)
        print(f"simulator ended (exit {simulator.proc.returncode}) after {time.monotonic() - started:.0f} s; draining")
        deadline = time.monotonic() + 300
        while (spool_batches(work / "ingest") or 0) > 0 and time.monotonic() < deadline:
            time.sleep(1)
        time.sleep(5)
        stored = store.aggregate("reading", "value", "count")
        batches = store.aggregate("batch", "mass_kg", "count")
        stored_readings = int(stored[0].value) if stored and stored[0].value else 0
        stored_batches = int(batches[0].value) if batches and batches[0].value else 0
        published = re.search(r"(\d+) readings, (\d+) batches", simulator.log.read_text())
        print(f"published readings {published.group(1) if published else '?'}, batches {published.group(2) if published else '?'}; "
              f"stored readings {stored_readings}, batches {stored_batches}")
        lost = published is None or (int(published.group(1)), int(published.group(2))) != (stored_readings, stored_batches)
        print(f"dead letters by reason: {dead_letters(work / 'ingest') or 'none'}")
        print(f"restarts: ingest {ingest.restarts}, alerts {alerts.restarts}")
        print(f"{'series':<24} {'samples':>7} {'first':>8} {'median':>8} {'max':>8} {'last':>8}  verdict")
        verdicts = []
        for name, values in samples.series.items():
            verdict = grows(values, args.growth)
            verdicts.append(verdict)
            print(
                f"{name:<24} {len(values):>7} {values[0]:>8.1f} {statistics.median(values):>8.1f} {max(values):>8.1f} "
                f"{values[-1]:>8.1f}  {'GREW' if verdict else 'bounded'}"
            )
        print("result:", "something grew without bound" if any(verdicts) else "nothing grew without bound",
              "; stored differs from published" if lost else "; stored equals published")
        return 1 if any(verdicts) or lost else 0
    finally:
        simulator.stop()
        codes = {worker.name: worker.stop() for worker in workers}
        print(f"worker exit codes: {codes}")
        store.close()
        broker.cleanup()
        influx.cleanup()


if __name__ == "__main__":
    sys.exit(main())
