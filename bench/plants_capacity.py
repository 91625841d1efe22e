"""How many Kotim-size plants one ingest, one alert worker, one InfluxDB and one compliance worker carry.

A catalogue folder of N copies of the Kotim plant (kotim01…kotimNN, same sensors; one YAML per plant,
as WASTEWATCH_PLANT_CONFIG takes a folder for several plants) and one alert rule file per plant (the
bundled Kotim rules), a real Mosquitto and InfluxDB 1.6.7, and `wastewatch ingest` and `wastewatch
alerts run` (WASTEWATCH_ALERTS_CLOCK=data, notifications to the log only) as processes. Publisher
processes (a minimal MQTT 3.1.1 QoS 1 client on a raw socket, so publishing costs little of the two
shared cores) send every plant's traffic: each sensor at its catalogue period and one weighed batch
every 15 min, plausible burning-state values, the data clock running `--speed` times faster than
real time and ending 10 min before now. N plants at speed S are N x S plant-equivalents
(1 message/s each).

Sampled every second: CPU (utime + stime from /proc/PID/stat) and RSS of every process, InfluxDB's
directory size, the ingest's written points (its Prometheus metrics) against the broker's
acknowledged publishes (ingest lag), and the data time of the alert worker's newest committed rule
state of the slowest plant (alert lag; it includes up to 10 s / speed, the period of the fastest
sensors). CPU % is over the steady window (after --warmup-s); each worker's idle CPU is measured for
--idle-s before publishing. After publishing: the time both drain, and the stored count checked
against the published one exactly. The load average before each run is printed with it: the two
cores are shared, and the lags (not the CPU seconds) depend on what else runs.

    python -m bench.plants_capacity --plants 100 --speeds 1,10,50 --runs 3 --duration-s 60
    python -m bench.plants_capacity --compliance-only --compliance-plants 3
    python -m bench.plants_capacity --shared-offline-check

--disk-plants P (default 10) writes --disk-days days of P plants' full traffic straight into a fresh
InfluxDB and measures its directory once the cache has been snapshotted (MB per plant per day).
--compliance-plants K (default 3) back-fills two local days of 1-minute CEMS values and the operating
schedule for K plants (bench/compliance_year.py's generator) into a fresh InfluxDB and times one
half-hour job (4 boundaries) and one day job per plant. --shared-offline-check shows what Mosquitto
does with a shared subscription whose persistent member is offline.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.servers import InfluxServer, MosquittoServer, free_port
from wastewatch.plant import PlantConfig, bundled_plant_path, load_catalog

ROOT = Path(__file__).resolve().parent.parent
KOTIM_RULES = ROOT / "alerts" / "rulesets" / "kotim.yaml"
BATCH_PERIOD_S = 900.0  # one weighed batch every 15 min (15-18 kg at 70 kg/h)
DATA_END_BEFORE_NOW_MS = 600_000
TICK_S = 0.05
# Burning-state level (mean, sd) per Kotim sensor; values are clipped to the plant file's ranges.
LEVELS: dict[str, tuple[float, float]] = {
    "t_primary": (850, 15), "t_secondary": (1060, 15), "t_stack": (70, 3), "draft_primary": (-50, 5),
    "burner_primary": (0, 0), "burner_secondary": (1, 0), "id_fan": (1, 0), "feed_door": (0, 0),
    "scrubber_ph": (7.0, 0.1), "scrubber_dp": (2.0, 0.1), "o2": (11.0, 0.9), "co": (14, 5), "nox": (180, 25),
    "so2": (30, 9), "hcl": (6, 2), "dust": (3, 1), "toc": (3, 1), "flow": (5800, 250), "h2o": (15, 1.5),
    "opacity": (4, 1.5),
}


# -- the catalogue ---------------------------------------------------------------------------------


def plant_ids(n: int) -> list[str]:
    width = max(2, len(str(n)))
    return [f"kotim{i:0{width}d}" for i in range(1, n + 1)]


def write_catalogue(folder: Path, n: int) -> tuple[Path, Path]:
    """`folder/plants/<id>.yaml` and `folder/rules/<id>.yaml` for n copies of Kotim; returns both folders."""
    plant = yaml.safe_load(bundled_plant_path().read_text())
    rules = yaml.safe_load(KOTIM_RULES.read_text())
    plants_dir, rules_dir = folder / "plants", folder / "rules"
    plants_dir.mkdir(parents=True, exist_ok=True)
    rules_dir.mkdir(parents=True, exist_ok=True)
    for pid in plant_ids(n):
        twin = {key: value for key, value in plant.items() if key != "sparkplug"}  # one gateway belongs to one plant
        (plants_dir / f"{pid}.yaml").write_text(yaml.safe_dump({**twin, "id": pid, "name": f"{plant['name']} ({pid})"}))
        (rules_dir / f"{pid}.yaml").write_text(yaml.safe_dump({**rules, "plant": pid}, sort_keys=False))
    return plants_dir, rules_dir


# -- a minimal MQTT 3.1.1 QoS 1 publisher ------------------------------------------------------------


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def connect_packet(client_id: str) -> bytes:
    body = _utf8("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 0) + _utf8(client_id)  # clean session, no keep-alive
    return b"\x10" + _remaining_length(len(body)) + body


def publish_packet(topic: bytes, packet_id: int, payload: bytes) -> bytes:
    """PUBLISH, QoS 1; `topic` already length-prefixed."""
    body = topic + struct.pack("!H", packet_id) + payload
    return b"\x32" + _remaining_length(len(body)) + body


class RawPublisher:
    """QoS 1 publishes on one socket; PUBACKs (4 bytes each) are counted by a reader thread."""

    def __init__(self, port: int, client_id: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(connect_packet(client_id))
        connack = self.sock.recv(4)
        if len(connack) != 4 or connack[0] != 0x20 or connack[3] != 0:
            raise RuntimeError(f"CONNACK refused: {connack!r}")
        self.sent = 0
        self._acked_bytes = 0
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def acked(self) -> int:
        return self._acked_bytes // 4

    def _read(self) -> None:
        while chunk := self.sock.recv(65536):
            self._acked_bytes += len(chunk)

    def publish(self, messages: list[tuple[bytes, bytes]]) -> None:
        out = []
        for topic, payload in messages:
            self._next_id = self._next_id % 65535 + 1
            out.append(publish_packet(topic, self._next_id, payload))
        while self.sent - self.acked > 50_000:  # packet ids must not wrap onto unacknowledged ones
            time.sleep(0.01)
        self.sock.sendall(b"".join(out))
        self.sent += len(messages)


@dataclass(order=True)
class _Due:
    ts_ms: int
    stream: int = field(compare=False)


def plant_streams(plants: list[PlantConfig]) -> list[tuple[bytes, str, float, PlantConfig]]:
    """(length-prefixed topic, sensor id or "batch", period s, plant) of every stream."""
    streams = []
    for plant in plants:
        for s in plant.sensors:
            streams.append((_utf8(f"plants/{plant.id}/sensors/{s.id}"), s.id, s.period_s, plant))
        streams.append((_utf8(f"plants/{plant.id}/batches"), "batch", BATCH_PERIOD_S, plant))
    return streams


def payload(sensor: str, plant: PlantConfig, ts_ms: int, rng: random.Random, seq: int) -> bytes:
    if sensor == "batch":
        source = plant.facilities[seq % len(plant.facilities)].id
        return json.dumps({"ts": ts_ms, "batch_id": f"{plant.id}-{ts_ms}", "mass_kg": round(rng.uniform(15, 18), 2),
                           "source": source, "waste_code": "A337-1"}).encode()
    spec = plant.sensor(sensor)
    assert spec is not None
    mean, sd = LEVELS[sensor]
    value = min(spec.max, max(spec.min, rng.gauss(mean, sd) if sd else mean))
    return b'{"ts":%d,"value":%s}' % (ts_ms, repr(round(value, 3)).encode())


def run_publisher(args: argparse.Namespace) -> None:
    """A publisher process: its plants' streams, paced on the data clock, status written to --status."""
    catalog = load_catalog(Path(args.catalogue))
    plants = [p for p in catalog if p.id in set(args.plant_ids.split(","))]
    rng = random.Random(args.seed)
    streams = plant_streams(plants)
    heap = [_Due(args.t0_ms + int(rng.uniform(0, period) * 1000), i) for i, (_, _, period, _) in enumerate(streams)]
    heapq.heapify(heap)
    pub = RawPublisher(args.port, args.client_id)
    status = Path(args.status)
    started = time.monotonic()
    end_ms = args.t0_ms + int(args.duration_s * args.speed * 1000)
    seq, last_status = 0, 0.0
    while True:
        elapsed = time.monotonic() - started
        data_now = min(end_ms, args.t0_ms + int(elapsed * args.speed * 1000))
        batch = []
        while heap and heap[0].ts_ms <= data_now:
            due = heapq.heappop(heap)
            topic, sensor, period, plant = streams[due.stream]
            batch.append((topic, payload(sensor, plant, due.ts_ms, rng, seq)))
            seq += 1
            heapq.heappush(heap, _Due(due.ts_ms + int(period * 1000), due.stream))
        if batch:
            pub.publish(batch)
        if elapsed - last_status >= 0.2 or data_now >= end_ms:
            _write_status(status, pub.sent, pub.acked, data_now, done=False)  # lag is sampled to ±0.2 s
            last_status = elapsed
        if data_now >= end_ms:
            break
        time.sleep(max(0.0, TICK_S - (time.monotonic() - started - elapsed)))
    deadline = time.monotonic() + 120
    while pub.acked < pub.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    _write_status(status, pub.sent, pub.acked, end_ms, done=True)


def _write_status(path: Path, sent: int, acked: int, data_ms: int, *, done: bool) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"sent": sent, "acked": acked, "data_ms": data_ms, "done": done}))
    tmp.replace(path)


# -- sampling ----------------------------------------------------------------------------------------


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def dir_bytes(path: Path) -> int:
    """Bytes allocated on disk (InfluxDB's series files are sparse: 4 MB apparent, a few KB used)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


def metric(url: str, name: str) -> float:
    try:
        text = httpx.get(url, timeout=2).text
    except httpx.HTTPError:
        return float("nan")
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def alert_progress_ms(db_path: Path, plants: list[str]) -> int | None:
    """The data time of the slowest plant's newest committed rule state (None before every plant has one)."""
    if not db_path.exists():
        return None
    newest: dict[str, int] = {}
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            for plant, state in db.execute("SELECT plant, state FROM rule_states"):
                t = _max_time(json.loads(state))
                if t is not None and t > newest.get(plant, -1):
                    newest[plant] = t
    except sqlite3.Error:
        return None
    if any(p not in newest for p in plants):
        return None
    return min(newest.values())


def _max_time(node: Any) -> int | None:
    best = None
    if isinstance(node, dict):
        for key, value in node.items():
            t = value if key == "time_ms" and isinstance(value, int) else _max_time(value)
            if t is not None and (best is None or t > best):
                best = t
    elif isinstance(node, list):
        for value in node:
            t = _max_time(value)
            if t is not None and (best is None or t > best):
                best = t
    return best


def published(statuses: list[Path]) -> tuple[int, int, int, bool]:
    """(sent, acked, slowest data time, all done) over the publishers' status files."""
    sent = acked = 0
    data_ms, done = [], True
    for path in statuses:
        try:
            st = json.loads(path.read_text())
        except (OSError, ValueError):
            return sent, acked, 0, False
        sent, acked = sent + st["sent"], acked + st["acked"]
        data_ms.append(st["data_ms"])
        done = done and st["done"]
    return sent, acked, min(data_ms, default=0), done


def stored_count(url: str, db: str) -> int:
    total = 0
    for q in ('SELECT count("value") FROM "reading"', 'SELECT count("mass_kg") FROM "batch"'):
        r = httpx.get(f"{url}/query", params={"db": db, "q": q}, timeout=120).json()
        series = r["results"][0].get("series")
        total += int(series[0]["values"][0][1]) if series else 0
    return total


# -- one load run ------------------------------------------------------------------------------------


def one_run(args: argparse.Namespace, speed: float, run: int) -> dict[str, Any]:
    n = args.plants
    work = Path(tempfile.mkdtemp(prefix="ww-bench-plants-"))
    plants_dir, rules_dir = write_catalogue(work, n)
    ids = plant_ids(n)
    load = os.getloadavg()
    broker, influx = MosquittoServer().start(), InfluxServer().start()
    metrics_port = free_port()
    env = {
        **os.environ, "WASTEWATCH_MQTT_URL": broker.url, "WASTEWATCH_INFLUX_URL": influx.url,
        "WASTEWATCH_INFLUX_DATABASE": "bench", "WASTEWATCH_LOG_LEVEL": "WARNING",
        "WASTEWATCH_PLANT_CONFIG": str(plants_dir),
    }
    ingest_env = {**env, "WASTEWATCH_DATA_DIR": str(work / "ingest"), "WASTEWATCH_METRICS_PORT": str(metrics_port),
                  "WASTEWATCH_INGEST_CLIENT_ID": "bench-ingest"}
    alerts_env = {**env, "WASTEWATCH_DATA_DIR": str(work / "alerts"), "WASTEWATCH_ALERTS_RULES_FILE": str(rules_dir),
                  "WASTEWATCH_ALERTS_CLOCK": "data", "WASTEWATCH_ALERTS_CLIENT_ID": "bench-alerts",
                  "WASTEWATCH_ALERTS_ROUTES": "operators=log;agency=log;escalation=log"}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    pubs: list[subprocess.Popen[bytes]] = []
    ok = False
    try:
        with open(work / "ingest.log", "ab") as out:
            procs["ingest"] = subprocess.Popen([sys.executable, "-m", "launch.cli", "ingest"], env=ingest_env,
                                               stdout=out, stderr=out)
        with open(work / "alerts.log", "ab") as out:
            procs["alerts"] = subprocess.Popen([sys.executable, "-m", "launch.cli", "alerts", "run"], env=alerts_env,
                                               stdout=out, stderr=out)
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        wait(lambda: metric(metrics_url, "wastewatch_ingest_reconnects_total") >= 1, 60, "ingest up", procs, work)
        time.sleep(3.0)  # the alert worker's sessions subscribe
        idle = idle_cpu_pct(args.idle_s, {"ingest": procs["ingest"].pid, "alerts": procs["alerts"].pid})
        t0_ms = int(time.time() * 1000) - DATA_END_BEFORE_NOW_MS - int(args.duration_s * speed * 1000)
        statuses = [work / f"pub{i}.json" for i in range(args.publishers)]
        for i, status in enumerate(statuses):
            mine = ids[i :: args.publishers]
            pubs.append(subprocess.Popen([
                sys.executable, __file__, "--publisher", "--catalogue", str(plants_dir), "--plant-ids", ",".join(mine),
                "--port", str(broker.port), "--client-id", f"bench-pub-{i}", "--speed", str(speed),
                "--duration-s", str(args.duration_s), "--t0-ms", str(t0_ms), "--status", str(status), "--seed", str(i),
            ]))
        roles = {"ingest": procs["ingest"].pid, "alerts": procs["alerts"].pid, "mosquitto": broker.proc.pid,  # type: ignore[union-attr]
                 "influxd": influx.proc.pid}  # type: ignore[union-attr]
        samples = sample_until_published(args, roles, pubs, statuses, metrics_url, work / "alerts" / "alerts.sqlite3",
                                         ids, influx.directory, speed)
        result = summarise(args, samples, speed, load)
        result.update({f"{role}_idle_cpu_pct": pct for role, pct in idle.items()})
        result.update(drain(args, statuses, metrics_url, work / "alerts" / "alerts.sqlite3", ids, t0_ms, speed, procs, work))
        time.sleep(args.settle_s)  # InfluxDB snapshots its cache to TSM after 10 s cold
        result["influx_bytes_end"] = dir_bytes(influx.directory) - samples[0]["influx_bytes"]
        result["stored"] = stored_count(influx.url, "bench")
        report_run(run, n, speed, result)
        ok = True
        return result
    finally:
        for p in pubs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        broker.cleanup()
        influx.cleanup()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"run failed; logs in {work}", file=sys.stderr)


def idle_cpu_pct(seconds: float, pids: dict[str, int]) -> dict[str, float]:
    """CPU % of each process with no traffic: its fixed cost (timers, sessions, keep-alives)."""
    before = {role: cpu_s(pid) for role, pid in pids.items()}
    time.sleep(seconds)
    return {role: 100 * (cpu_s(pid) - before[role]) / seconds for role, pid in pids.items()}


def wait(pred: Any, timeout_s: float, what: str, procs: dict[str, subprocess.Popen[bytes]], work: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {work}/{name}.log")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s} s; logs in {work}")
        time.sleep(0.2)


def sample_until_published(
    args: argparse.Namespace, roles: dict[str, int], pubs: list[subprocess.Popen[bytes]], statuses: list[Path],
    metrics_url: str, alerts_db: Path, ids: list[str], influx_dir: Path, speed: float,
) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    started = time.monotonic()
    while True:
        now = time.monotonic()
        _sent, acked, data_ms, _ = published(statuses)
        progress = alert_progress_ms(alerts_db, ids)
        samples.append({
            "t": now - started, "acked": acked,
            "written": metric(metrics_url, "wastewatch_ingest_points_written_total"),
            "alert_lag_s": (data_ms - progress) / 1000 / speed if progress is not None and data_ms else None,
            "influx_bytes": dir_bytes(influx_dir),
            "pub_cpu": sum(cpu_s(p.pid) for p in pubs if p.poll() is None),
            **{f"{role}_cpu": cpu_s(pid) for role, pid in roles.items()},
            **{f"{role}_rss": rss_mb(pid) for role, pid in roles.items()},
        })
        if now - started >= args.duration_s or all(p.poll() is not None for p in pubs):
            return samples
        time.sleep(max(0.0, args.sample_s - (time.monotonic() - now)))


ROLES = ("ingest", "alerts", "mosquitto", "influxd")


def summarise(args: argparse.Namespace, samples: list[dict[str, Any]], speed: float, load: tuple[float, ...]) -> dict[str, Any]:
    steady = [s for s in samples if s["t"] >= args.warmup_s]
    first, last = steady[0], steady[-1]
    span = last["t"] - first["t"]
    out: dict[str, Any] = {"plant_equivalents": args.plants * speed, "load": load, "window_s": span}
    for role in ROLES:
        out[f"{role}_cpu_pct"] = 100 * (last[f"{role}_cpu"] - first[f"{role}_cpu"]) / span
        out[f"{role}_rss_mb"] = max(s[f"{role}_rss"] for s in samples)
    out["msg_per_s"] = (last["acked"] - first["acked"]) / span
    lags = [s["acked"] - s["written"] for s in steady]
    out["ingest_lag_max"] = max(lags)
    half = len(lags) // 2
    out["ingest_lag_growth"] = statistics.mean(lags[half:]) - statistics.mean(lags[:half]) if half else 0.0
    alert_lags = [s["alert_lag_s"] for s in steady if s["alert_lag_s"] is not None]
    out["alert_lag_max_s"] = max(alert_lags) if alert_lags else float("nan")
    out["alert_lag_last_s"] = alert_lags[-1] if alert_lags else float("nan")
    out["influx_bytes_window"] = last["influx_bytes"] - samples[0]["influx_bytes"]
    return out


def drain(
    args: argparse.Namespace, statuses: list[Path], metrics_url: str, alerts_db: Path, ids: list[str], t0_ms: int,
    speed: float, procs: dict[str, subprocess.Popen[bytes]], work: Path,
) -> dict[str, Any]:
    """Seconds from the end of publishing until the ingest wrote every acknowledged message and the
    alert worker committed the last 10 s-sensor reading of every plant."""
    wait(lambda: published(statuses)[3], 180, "publishers done", procs, work)
    done_at = time.monotonic()
    sent, acked, _, _ = published(statuses)
    end_ms = t0_ms + int(args.duration_s * speed * 1000)
    ingest_s = alerts_s = None
    deadline = done_at + 600
    while (ingest_s is None or alerts_s is None) and time.monotonic() < deadline:
        if ingest_s is None and metric(metrics_url, "wastewatch_ingest_points_written_total") >= acked:
            ingest_s = time.monotonic() - done_at
        progress = alert_progress_ms(alerts_db, ids)
        if alerts_s is None and progress is not None and progress >= end_ms - 10_000:
            alerts_s = time.monotonic() - done_at
        time.sleep(0.2)
    return {"sent": sent, "acked": acked, "ingest_drain_s": ingest_s, "alerts_drain_s": alerts_s}


def report_run(run: int, n: int, speed: float, r: dict[str, Any]) -> None:
    print(
        f"run {run}: {n} plants x speed {speed:g} = {r['plant_equivalents']:,.0f} plant-eq, {r['msg_per_s']:,.0f} msg/s "
        f"over {r['window_s']:.0f} s (load avg before {r['load'][0]:.2f} {r['load'][1]:.2f} {r['load'][2]:.2f}); "
        f"CPU % ingest {r['ingest_cpu_pct']:.1f}, alerts {r['alerts_cpu_pct']:.1f}, mosquitto {r['mosquitto_cpu_pct']:.1f}, "
        f"influxd {r['influxd_cpu_pct']:.1f} (idle before publishing: ingest {r.get('ingest_idle_cpu_pct', float('nan')):.1f}, "
        f"alerts {r.get('alerts_idle_cpu_pct', float('nan')):.1f}); RSS MB ingest {r['ingest_rss_mb']:.0f}, alerts {r['alerts_rss_mb']:.0f}, "
        f"mosquitto {r['mosquitto_rss_mb']:.0f}, influxd {r['influxd_rss_mb']:.0f}; ingest lag max {r['ingest_lag_max']:,.0f} msg "
        f"(growth {r['ingest_lag_growth']:+,.0f}), drained {fmt(r['ingest_drain_s'])} s after publishing; alert lag max "
        f"{r['alert_lag_max_s']:.1f} s, drained {fmt(r['alerts_drain_s'])} s; stored {r['stored']:,} of {r['acked']:,} acked "
        f"({'exact' if r['stored'] == r['acked'] else 'MISMATCH'}); InfluxDB dir +{r['influx_bytes_end'] / 1e6:.1f} MB",
        flush=True,
    )


def fmt(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


# -- compliance per plant ------------------------------------------------------------------------------


def compliance_timings(plants_count: int, half_hours: int = 4) -> dict[str, float]:
    """Median seconds of one half-hour job and one day job per plant, over two stored days each."""
    sys.path.insert(0, str(ROOT))
    from bench.compliance_year import Year, back_fill
    from compliance.jobs import ComplianceJobs
    from wastewatch.store.influx import InfluxStore

    work = Path(tempfile.mkdtemp(prefix="ww-bench-compliance-"))
    plants_dir, _ = write_catalogue(work, plants_count)
    plants = list(load_catalog(plants_dir))
    year = Year(date(2025, 3, 3), 2, frozenset())
    influx = InfluxServer().start()
    store = InfluxStore(influx.url, "bench", timeout_s=300)
    halves, days = [], []
    try:
        store.ensure_database()
        for i, plant in enumerate(plants):
            back_fill(store, plant, year, seed=i)
        jobs = ComplianceJobs(store, clock_ms=lambda: year.bounds_ms(plants[0])[1] + 3_600_000)
        day = year.first_day + timedelta(days=1)
        for plant in plants:
            for h in range(half_hours):
                end = datetime(day.year, day.month, day.day, 10 + 2 * h, 30 * (h % 2), tzinfo=plant.zone)
                t = time.perf_counter()
                jobs.run_half_hour(plant, int(end.timestamp() * 1000))
                halves.append(time.perf_counter() - t)
            t = time.perf_counter()
            jobs.run_day(plant, day)
            days.append(time.perf_counter() - t)
            print(f"compliance {plant.id}: half-hour jobs {', '.join(f'{x * 1000:.0f}' for x in halves[-half_hours:])} ms; "
                  f"day job {days[-1]:.2f} s", flush=True)
    finally:
        store.close()
        influx.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    half_s, day_s = statistics.median(halves), statistics.median(days)
    per_half_hour_s = half_s + day_s / 48  # the day job once a day, spread over the 48 half-hours
    print(
        f"compliance, median over {plants_count} plants: half-hour job {half_s * 1000:.0f} ms, day job {day_s:.2f} s; "
        f"{per_half_hour_s * 1000:.0f} ms of one worker per plant per half-hour: one worker busy 50 % of each half-hour "
        f"carries ~{900 / per_half_hour_s:,.0f} plants; all half-hour jobs done within 5 min of :00/:30 for "
        f"~{300 / half_s:,.0f} plants",
        flush=True,
    )
    return {"half_s": half_s, "day_s": day_s}


# -- disk per plant-day ----------------------------------------------------------------------------------


def disk_per_plant_day(plants_count: int, days: int, settle_s: float) -> float:
    """MB InfluxDB 1.6.7 allocates per plant per day: `days` of every sensor at its period and the
    batches of `plants_count` plants written through InfluxStore, measured after --settle-s."""
    from wastewatch.points import Point
    from wastewatch.records import BATCH, READING
    from wastewatch.store.influx import InfluxStore

    work = Path(tempfile.mkdtemp(prefix="ww-bench-disk-"))
    plants = list(load_catalog(write_catalogue(work, plants_count)[0]))
    influx = InfluxServer().start()
    store = InfluxStore(influx.url, "bench", timeout_s=300)
    rng = random.Random(7)
    try:
        store.ensure_database()
        empty = dir_bytes(influx.directory)
        start_ms = (int(time.time() * 1000) - (days + 1) * 86_400_000) // 86_400_000 * 86_400_000
        points: list[Point] = []
        total = 0
        for plant, (_, sensor, period, _) in ((p, s) for p in plants for s in plant_streams([p])):
            for k in range(int(days * 86_400 / period)):
                ts = start_ms + int(k * period * 1000)
                body = json.loads(payload(sensor, plant, ts, rng, k))
                if sensor == "batch":
                    points.append(Point(BATCH, {"plant": plant.id, "source": body["source"], "waste_code": body["waste_code"]},
                                        {"mass_kg": body["mass_kg"], "batch_id": body["batch_id"]}, ts))
                else:
                    points.append(Point(READING, {"plant": plant.id, "sensor": sensor, "status": "valid"},
                                        {"value": float(body["value"])}, ts))
                if len(points) >= 5000:
                    store.write(points)
                    total, points = total + len(points), []
        store.write(points)
        total += len(points)
        time.sleep(settle_s)
        used = dir_bytes(influx.directory) - empty
    finally:
        store.close()
        influx.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    per_day = used / 1e6 / plants_count / days
    print(f"disk: {total:,} points ({plants_count} plants x {days} days) take {used / 1e6:.1f} MB after {settle_s:g} s: "
          f"{per_day:.2f} MB per plant per day ({used / total:.1f} bytes per point)", flush=True)
    return per_day


# -- shared subscription with an offline member --------------------------------------------------------


def shared_offline_check(messages: int = 100) -> None:
    """Two persistent members of `$share/g/…`; B goes offline; what do A and B get, and when?"""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    broker = MosquittoServer().start()
    got: dict[str, list[int]] = {"a": [], "b": []}

    def member(name: str) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"member-{name}", clean_session=False,
                        protocol=mqtt.MQTTv311)
        c.on_message = lambda cl, ud, m: got[name].append(int(m.payload))
        c.connect("127.0.0.1", broker.port)
        c.subscribe("$share/g/t/#", qos=1)
        c.loop_start()
        return c

    try:
        a, b = member("a"), member("b")
        time.sleep(1.0)
        b.disconnect()
        b.loop_stop()
        time.sleep(0.5)
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pub", protocol=mqtt.MQTTv311)
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        for i in range(messages):
            pub.publish("t/x", str(i), qos=1).wait_for_publish(5)
        time.sleep(2.0)
        a_got = len(got["a"])
        print(f"shared-offline: {messages} published while member B was offline: A received {a_got}, "
              f"{messages - a_got} held for B", flush=True)
        member("b")
        time.sleep(2.0)
        print(f"shared-offline: after B reconnected (same client id, persistent session) it received {len(got['b'])}; "
              f"A {len(got['a'])}; lost {messages - len(set(got['a']) | set(got['b']))}", flush=True)
        pub.loop_stop()
        a.loop_stop()
    finally:
        broker.cleanup()


# -- main ------------------------------------------------------------------------------------------------


def table(results: dict[float, list[dict[str, Any]]], n: int) -> None:
    print(f"\nmedians per speed ({n} plants; runs per row in brackets)")
    print("| plant-eq | msg/s | CPU % ingest (idle) | CPU % alerts (idle) | CPU % mosquitto | CPU % influxd | RSS MB ingest/alerts/influxd "
          "| ingest lag max (msg) | alert lag max (s) | drain ingest/alerts (s) | InfluxDB MB/plant/day | load avg (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for speed, rs in results.items():
        def med(key: str) -> float:
            vals = [r[key] for r in rs if r.get(key) is not None]
            return statistics.median(vals) if vals else float("nan")
        # the run's data time is speed x duration per plant
        per_day = statistics.median(r["influx_bytes_end"] / 1e6 / n * 86_400 / (speed * r["duration_s"]) for r in rs)
        loads = ", ".join(f"{r['load'][0]:.1f}" for r in rs)
        print(
            f"| {n * speed:,.0f} ({len(rs)}) | {med('msg_per_s'):,.0f} | {med('ingest_cpu_pct'):.1f} ({med('ingest_idle_cpu_pct'):.1f}) "
            f"| {med('alerts_cpu_pct'):.1f} ({med('alerts_idle_cpu_pct'):.1f}) "
            f"| {med('mosquitto_cpu_pct'):.1f} | {med('influxd_cpu_pct'):.1f} | {med('ingest_rss_mb'):.0f}/{med('alerts_rss_mb'):.0f}/"
            f"{med('influxd_rss_mb'):.0f} | {med('ingest_lag_max'):,.0f} | {med('alert_lag_max_s'):.1f} | "
            f"{med('ingest_drain_s'):.1f}/{med('alerts_drain_s'):.1f} | {per_day:.2f} | "
            f"{loads} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plants", type=int, default=100, help="real plants in the catalogue (sessions, series)")
    parser.add_argument("--speeds", default="1,10,50", help="speed factors; plant-equivalents = plants x speed")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration-s", type=float, default=60.0, help="real publishing time per run")
    parser.add_argument("--warmup-s", type=float, default=10.0, help="left out of the CPU and lag figures")
    parser.add_argument("--sample-s", type=float, default=1.0)
    parser.add_argument("--idle-s", type=float, default=10.0, help="CPU of the idle workers measured before publishing")
    parser.add_argument("--settle-s", type=float, default=15.0, help="wait before the InfluxDB directory is measured")
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--compliance-plants", type=int, default=3, help="0: skip the compliance timing")
    parser.add_argument("--compliance-only", action="store_true", help="only the compliance and disk measurements")
    parser.add_argument("--disk-plants", type=int, default=10, help="0: skip the disk-per-plant-day measurement")
    parser.add_argument("--disk-days", type=int, default=2)
    parser.add_argument("--shared-offline-check", action="store_true")
    # a publisher process (started by the benchmark itself)
    parser.add_argument("--publisher", action="store_true", help=argparse.SUPPRESS)
    for name in ("--catalogue", "--plant-ids", "--client-id", "--status"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--speed", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--t0-ms", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        run_publisher(args)
        return
    if args.shared_offline_check:
        shared_offline_check()
        return
    if not args.compliance_only:
        results: dict[float, list[dict[str, Any]]] = {}
        for speed in (float(s) for s in args.speeds.split(",")):
            results[speed] = []
            for r in range(args.runs):
                res = one_run(args, speed, r + 1)
                res["duration_s"] = args.duration_s
                results[speed].append(res)
        table(results, args.plants)
    if args.disk_plants:
        disk_per_plant_day(args.disk_plants, args.disk_days, max(args.settle_s, 30.0))
    if args.compliance_plants:
        compliance_timings(args.compliance_plants)


if __name__ == "__main__":
    main()
