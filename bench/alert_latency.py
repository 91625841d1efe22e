"""Alert worker speed on the real stack: Mosquitto → `wastewatch alerts run` → webhook, InfluxDB annotations.

1. Latency: one rule (`bench_latency`: t_stack > 300, tolerance 0, critical, so the agency's webhook
   gets it) and readings published one by one (QoS 1, plants/kotim/sensors/t_stack) alternating above
   and below the threshold, so each reading raises or clears the alert and yields one webhook. The
   publish time is kept in a side table keyed by the reading's value (unique per reading); a local
   HTTP receiver checks each signature as the README tells a receiver to and stamps the arrival.
2. Throughput: 200 rules (that one plus 199 threshold / rate-of-change / flatline rules spread
   round-robin over the 15 analog Kotim sensors, about 13 per sensor; one per sensor is true from
   the first reading and stays active, the others never fire) while `mosquitto_pub -l` streams
   single-reading QoS 1 messages on those 15 sensor topics at full rate (files of at most 20,000
   lines: mosquitto_pub 2.0.11 stops early on larger input). Measured from the first publish to
   the worker's committed rule state holding the last reading of every stream (it evaluates,
   commits and acknowledges in arrival order, so then all earlier ones are done too); the worker's
   CPU seconds over the phase and its peak RSS. `--streams 8` puts the 199 rules on 8 sensors
   (25 rules read each reading).

Flood control is set out of the way, as the benchmark raises the same alert hundreds of times a
minute: WASTEWATCH_ALERTS_FLAP_COUNT and _RATE_LIMIT_COUNT 1,000,000, escalation off. Routes are
the defaults (operators=mqtt,log; agency=webhook); alert events go to InfluxDB as annotations.
Medians of --runs runs (default 3), each on a fresh broker, InfluxDB and alert database.

    python -m bench.alert_latency --runs 3 [--alerts 1000] [--interval-ms 20] [--readings 100000]
                                  [--streams 15] [--publishers 4] [--with-ingest] [--plants 1] [--workers 1]
                                  [--db sqlite|postgresql] [--profile out.pstats]

With --with-ingest, `wastewatch ingest` runs on the same feed during the throughput phase.
Partitioned (`--plants 4 --workers 2`): the plant catalogue holds Kotim and copies of it (kotim2, …),
each with the same 200 rules; the readings are spread evenly over every plant's streams and each of
the N workers owns its share of the plants (WASTEWATCH_ALERTS_PLANTS, one alert database). The rate
is all readings over the time until every plant's last reading is committed; CPU is summed over
the workers. Latency is measured on Kotim only. Use `--db postgresql` with several workers: on one
SQLite file each worker's commit waits for the other's write lock (measured: 5,000 readings/s with
two workers, against 12,000-14,500 on PostgreSQL).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from tests.helpers import plant_twin
from tests.postgres import PostgresServer
from tests.servers import InfluxServer, MosquittoServer, free_port
from wastewatch.plant import bundled_plant_path
from wastewatch.relational import Database, connect_url

PLANT = "kotim"
LATENCY_SENSOR = "t_stack"  # no generated rule reads it: latency readings meet one rule
LATENCY_RULE = "bench_latency"
RAISE_BASE, CLEAR_BASE = 400.0, 100.0  # value = base + i / 1000: unique per reading, on each side of 300
# (sensor, base, step): every analog Kotim sensor but the latency one. A stream's values are
# base + step * (i % 97), ts 10 ms apart: the largest jump is 96 steps in 10 ms (the wrap), no two
# consecutive values are equal, and all stay inside the sensor's plausible range
STREAMS = [
    ("t_primary", 850.0, 0.5), ("t_secondary", 1050.0, 0.5), ("draft_primary", -50.0, 0.2), ("o2", 10.0, 0.02),
    ("co", 20.0, 0.1), ("nox", 150.0, 0.5), ("so2", 30.0, 0.2), ("hcl", 5.0, 0.05), ("dust", 3.0, 0.02),
    ("toc", 2.0, 0.02), ("flow", 5000.0, 5.0), ("h2o", 15.0, 0.05), ("opacity", 2.0, 0.02),
    ("scrubber_ph", 7.0, 0.01), ("scrubber_dp", 2.0, 0.02),
]
TS_STEP_MS = 10
CHUNK_LINES = 20_000
RULES_TOTAL = 200
FLOOD_CONTROL_OFF = {
    "WASTEWATCH_ALERTS_FLAP_COUNT": "1000000",
    "WASTEWATCH_ALERTS_RATE_LIMIT_COUNT": "1000000",
    "WASTEWATCH_ALERTS_ESCALATION_AFTER_MIN": "0",
}


# -- the rules -----------------------------------------------------------------------------------------


def _rule(rule_id: str, sensor: str, condition: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": rule_id, "sensors": [sensor], "condition": condition, "severity": extra.pop("severity", "minor"),
        "category": extra.pop("category", "process"), "source": "bench/alert_latency.py (synthetic)",
        "message": {"raised": "{subject} {value} ({detail})", "cleared": "{subject} back at {value}"}, **extra,
    }


def sensor_rules(sensor: str, base: float, step: float) -> list[dict[str, Any]]:
    """Up to 25 rules on one stream, most useful first: thresholds, rate-of-change and flatline limits
    its values (base .. base + 96 steps, |rate| <= 96 steps per 10 ms, never flat) never break, and
    one rule (`_active`, 5th) that is true from the first reading on: raised once, active throughout."""
    top, max_rate = base + 96 * step, 96 * step / (TS_STEP_MS / 1000)
    high = [_rule(f"{sensor}_high_{m}", sensor, {"kind": "threshold", "op": ">" if m % 2 else ">=",
                                                 "value": top + step * (10 + 10 * m), "recovery_value": top + step * (5 + 10 * m)},
                  tolerance_s=10 * m) for m in range(6)]
    low = [_rule(f"{sensor}_low_{m}", sensor, {"kind": "threshold", "op": "<", "value": base - step * (5 + 5 * m)},
                 tolerance_s=30, **({"states": ["burning", "burnout"]} if m % 2 else {})) for m in range(4)]
    jump = [_rule(f"{sensor}_jump_{m}", sensor, {"kind": "rate_of_change", "max_rate_per_s": max_rate * (2 + m)},
                  recovery_tolerance_s=60, category="data_quality") for m in range(7)]
    # sample counts as in production: Kotim's 600 s window over 10-60 s periods is 10-60 samples
    windows: list[dict[str, Any]] = [{"window_samples": 10}, {"window_s": 0.3}, {"window_samples": 30},
                                     {"window_s": 0.6}, {"window_samples": 20}, {"window_samples": 45},
                                     {"window_samples": 60}]
    flat = [_rule(f"{sensor}_flat_{m}", sensor, {"kind": "flatline", "max_spread": 0, **w}, recovery_tolerance_s=60,
                  category="data_quality") for m, w in enumerate(windows)]
    active = _rule(f"{sensor}_active", sensor, {"kind": "threshold", "op": ">", "value": base - 1}, severity="warning")
    ordered = [high[0], jump[0], flat[0], low[0], active]
    for m in range(1, 7):
        ordered += [r[m] for r in (high, jump, flat, low) if m < len(r)]
    return ordered


def write_rules(path: Path, streams: int, plant: str = PLANT, total: int = RULES_TOTAL) -> list[str]:
    """The rule file of `plant` (`total` rules, 200 by default): the latency rule, then the others spread round-robin over the first
    `streams` streams. Returns the state key of one rule per stream that reads every reading (progress)."""
    per_sensor = [sensor_rules(*stream) for stream in STREAMS[:streams]]
    generated = [rules[i] for i in range(max(map(len, per_sensor))) for rules in per_sensor if i < len(rules)]
    rules = [
        _rule(LATENCY_RULE, LATENCY_SENSOR, {"kind": "threshold", "op": ">", "value": 300}, severity="critical",
              tolerance_s=0),
        *generated[: total - 1],
    ]
    if len(rules) < total or total <= streams:
        raise ValueError(f"{streams} streams give {len(rules)} rules, {total} wanted (more than one per stream)")
    path.write_text(yaml.safe_dump({"plant": plant, "rules": rules}, sort_keys=False))
    return [f"{plant}/{sensor}_high_0/{sensor}" for sensor, _, _ in STREAMS[:streams]]


def always_true(streams: int, total: int = RULES_TOTAL) -> int:
    """How many of `write_rules`' rules are true from the first reading: each stream's `_active` rule,
    the 5th of its own, among the first `total` - 1 dealt round-robin."""
    return sum(1 for s in range(streams) if 4 * streams + s < total - 1)


def plant_ids(count: int) -> list[str]:
    """Kotim, then copies of it under other ids (kotim2, kotim3, …)."""
    return [PLANT] + [f"{PLANT}{i}" for i in range(2, count + 1)]


def write_plants(work: Path, plants: list[str], streams: int, rules: int = RULES_TOTAL) -> tuple[Path, Path, list[str]]:
    """A plant folder (Kotim and its copies, as the partition tests make them) and a rule folder (the
    200 rules for each plant); the progress keys of every plant."""
    plant_dir, rule_dir = work / "plants", work / "rules"
    plant_dir.mkdir()
    rule_dir.mkdir()
    kotim = bundled_plant_path().read_text()
    keys = []
    for plant in plants:
        (plant_dir / f"{plant}.yaml").write_text(kotim if plant == PLANT else plant_twin(kotim, plant))
        keys += write_rules(rule_dir / f"{plant}.yaml", streams, plant, rules)
    return plant_dir, rule_dir, keys


def partition(plants: list[str], workers: int) -> list[list[str]]:
    """The plants of each worker, round-robin (Kotim, which gets the latency readings, to the first)."""
    return [plants[w::workers] for w in range(workers)]


# -- the webhook receiver ------------------------------------------------------------------------------


def receiver_verifies(secret: bytes, timestamp: str, key: str, body: bytes, signature: str, max_age_s: int = 300) -> bool:
    """The README's receiver check, standard library only."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age_s:
        return False
    signed = timestamp.encode() + b"." + key.encode() + b"." + body
    expected = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


@dataclass
class WebhookSink:
    """A signed-webhook receiver in a thread; keeps (arrival perf_counter, body) of every verified POST."""

    secret: bytes
    port: int = field(default_factory=free_port)
    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    refused: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> WebhookSink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a production receiver would allow

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                arrived = time.perf_counter()
                ok = receiver_verifies(sink.secret, self.headers.get("X-Wastewatch-Timestamp", ""),
                                       self.headers.get("X-Wastewatch-Idempotency-Key", ""), body,
                                       self.headers.get("X-Wastewatch-Signature", ""))
                with sink._cond:
                    if ok:
                        sink.received.append((arrived, json.loads(body)))
                    else:
                        sink.refused += 1
                    sink._cond.notify_all()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="webhook-sink", daemon=True).start()
        return self

    def wait_for(self, count: int, timeout_s: float) -> bool:
        """Whether `count` verified webhooks have arrived within `timeout_s`."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.received) >= count, timeout_s)

    def reset(self) -> None:
        with self._cond:
            self.received.clear()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# -- processes -----------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Current RSS of a running process in MB, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")) / 1024


def proc_stats(pid: int) -> tuple[float, float]:
    """(peak RSS in MB, CPU seconds) of a running process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    hwm_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return hwm_kb / 1024, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settled_cpu(pid: int, quiet_s: float = 1.0) -> float:
    """CPU seconds of a process once it has gone quiet (used under 1 % of a core for `quiet_s`)."""
    cpu = proc_stats(pid)[1]
    while True:
        time.sleep(quiet_s)
        now = proc_stats(pid)[1]
        if now - cpu < quiet_s / 100:
            return now
        cpu = now


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- phase 1: latency ----------------------------------------------------------------------------------


class Publisher:
    """One paho client publishing QoS 1 readings on a plant's latency sensor topic, with rising ts."""

    def __init__(self, port: int) -> None:
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-alert-latency",
                                   protocol=mqtt.MQTTv311)
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        self._last_ts = 0

    def publish(self, value: float, plant: str = PLANT) -> float:
        """Publish one reading; the perf_counter time just before handing it to paho."""
        self._last_ts = max(int(time.time() * 1000), self._last_ts + 1)
        payload = json.dumps({"ts": self._last_ts, "value": value})
        sent = time.perf_counter()
        self._client.publish(f"plants/{plant}/sensors/{LATENCY_SENSOR}", payload, qos=1)
        return sent

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def value_key(value: float) -> int:
    return round(value * 1000)


def warm_up(pub: Publisher, sink: WebhookSink, workers: list[subprocess.Popen[bytes]], log: Path, plants: list[str]) -> None:
    """Raise and clear each plant's latency alert once: every worker is up, subscribed and delivering."""
    for plant in plants:
        for value, kind in ((RAISE_BASE - 1, "raised"), (CLEAR_BASE - 1, "cleared")):
            deadline = time.monotonic() + 60
            while not any(b.get("kind") == kind and b.get("plant") == plant for _, b in sink.received):
                if any(w.poll() is not None for w in workers) or time.monotonic() > deadline:
                    raise RuntimeError(f"alert worker not delivering (exits {[w.poll() for w in workers]}):\n{tail(log)}")
                pub.publish(value, plant)  # before the worker subscribed this is lost; after, a repeat only updates
                sink.wait_for(len(sink.received) + 1, 0.5)
    time.sleep(0.5)
    sink.reset()


def latency_phase(pub: Publisher, sink: WebhookSink, alerts: int, interval_s: float) -> dict[str, float]:
    sent: dict[int, float] = {}
    start = time.perf_counter()
    for i in range(alerts):
        delay = start + i * interval_s - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        value = (RAISE_BASE if i % 2 == 0 else CLEAR_BASE) + i / 1000
        sent[value_key(value)] = pub.publish(value)
    if not sink.wait_for(alerts, 60):
        raise RuntimeError(f"only {len(sink.received)} of {alerts} webhooks arrived within 60 s of the last publish")
    latencies_ms, by_kind = [], {"raised": 0, "cleared": 0}
    for arrived, body in sink.received:
        key = value_key(float(body["value"]))
        if body.get("rule") == LATENCY_RULE and key in sent:
            latencies_ms.append((arrived - sent.pop(key)) * 1000)
            by_kind[body["kind"]] = by_kind.get(body["kind"], 0) + 1
    if len(latencies_ms) != alerts or sent:
        raise RuntimeError(f"{len(latencies_ms)} webhooks matched {alerts} readings; {len(sent)} unmatched")
    latencies_ms.sort()
    return {
        "p50": statistics.median(latencies_ms),
        "p99": latencies_ms[min(len(latencies_ms) - 1, int(0.99 * len(latencies_ms)))],
        "max": latencies_ms[-1], "raised": by_kind["raised"], "cleared": by_kind["cleared"],
    }


# -- phase 2: throughput -------------------------------------------------------------------------------


def write_streams(
    work: Path, readings: int, publishers: int, streams: int, plants: list[str]
) -> tuple[list[str], dict[str, int]]:
    """Shell commands (one per publisher, each running mosquitto_pub per chunk file, one plant's sensor
    per chunk) and the ts of each (plant, sensor) stream's last reading, keyed "plant/sensor"."""
    per_stream = readings // (streams * len(plants))
    start_ms = int(time.time() * 1000) - 3_600_000
    chunks: list[tuple[str, Path]] = []
    last_ts: dict[str, int] = {}
    for c in range(0, per_stream, CHUNK_LINES):  # chunk by chunk, so every stream is published from the start
        for plant in plants:
            for sensor, base, step in STREAMS[:streams]:
                path = work / f"{plant}-{sensor}-{c}.jsonl"
                with open(path, "w") as f:
                    for i in range(c, min(per_stream, c + CHUNK_LINES)):
                        f.write(json.dumps({"ts": start_ms + i * TS_STEP_MS, "value": round(base + step * (i % 97), 4)}) + "\n")
                chunks.append((f"plants/{plant}/sensors/{sensor}", path))
                last_ts[f"{plant}/{sensor}"] = start_ms + (per_stream - 1) * TS_STEP_MS
    return chunks_to_commands(chunks, publishers), last_ts


def chunks_to_commands(chunks: list[tuple[str, Path]], publishers: int) -> list[str]:
    commands = []
    for p in range(publishers):
        mine = chunks[p::publishers]
        commands.append(" && ".join(
            f"mosquitto_pub -h 127.0.0.1 -p {{port}} -q 1 -M 1000 -l -t {topic} -i bench-alert-pub-{p} < {path}"
            for topic, path in mine
        ))
    return [c for c in commands if c]


def committed_ts(db: Database, keys: list[str]) -> dict[str, int]:
    """The data time of the newest reading each progress rule has committed."""
    marks = ",".join("?" * len(keys))
    out = {}
    for row in db.query(f"SELECT state_key, state FROM rule_states WHERE state_key IN ({marks})", keys):
        key, leaf = row["state_key"], json.loads(row["state"]).get("leaves", {}).get("c", {})
        if leaf.get("time_ms") is not None:
            out[key] = int(leaf["time_ms"])
    return out


def throughput_phase(
    broker: MosquittoServer, workers: list[subprocess.Popen[bytes]], db_url: str, progress_keys: list[str],
    commands: list[str], last_ts: dict[str, int], total: int,
) -> dict[str, float]:
    db = connect_url(db_url)
    # key "plant/rule/subject" -> the ts of its stream's last reading
    want = {key: last_ts[f"{key.split('/')[0]}/{key.split('/')[-1]}"] for key in progress_keys}
    rss_before = max(rss_mb(w.pid) for w in workers)
    cpu_before = sum(proc_stats(w.pid)[1] for w in workers)
    broker_cpu_before = proc_stats(broker.proc.pid)[1] if broker.proc else 0.0
    started = time.perf_counter()
    pubs = [subprocess.Popen(["sh", "-c", cmd.format(port=broker.port)]) for cmd in commands]
    published_s = None
    give_up = time.monotonic() + 600
    try:
        while True:
            if published_s is None and all(p.poll() is not None for p in pubs):
                published_s = time.perf_counter() - started
            done = committed_ts(db, progress_keys)
            if all(done.get(k, -1) >= ts for k, ts in want.items()):
                break
            if any(w.poll() is not None for w in workers) or time.monotonic() > give_up:
                raise RuntimeError(f"workers processed only up to {done} of {want} (exits {[w.poll() for w in workers]})")
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        counted = db.query_one("SELECT COUNT(*) AS n FROM alerts WHERE rule_id != ?", (LATENCY_RULE,))
        raised = int(counted["n"]) if counted else 0
    finally:
        for p in pubs:
            p.wait(timeout=60)
        db.close()
    if any(p.returncode for p in pubs):
        raise RuntimeError(f"mosquitto_pub failed: {[p.returncode for p in pubs]}")
    after = [proc_stats(w.pid) for w in workers]
    broker_cpu = (proc_stats(broker.proc.pid)[1] if broker.proc else 0.0) - broker_cpu_before
    return {
        "rate": total / elapsed, "elapsed_s": elapsed, "published_s": published_s or elapsed,
        "cpu_s": sum(cpu for _, cpu in after) - cpu_before, "rss_mb": max(peak for peak, _ in after),
        "rss_before_mb": rss_before, "broker_cpu_s": broker_cpu, "raised": raised,
    }


# -- one run -------------------------------------------------------------------------------------------


# the worker under yappi (every thread, CPU clock), its stats saved as pstats when it stops
PROFILED_WORKER = """
import sys, yappi
from launch.cli import main
yappi.set_clock_type("cpu")
yappi.start()
try:
    main(["alerts", "run"])
finally:
    yappi.stop()
    yappi.get_func_stats().save(sys.argv[1], type="pstat")
"""


def worker_command(profile: str | None) -> list[str]:
    if profile is None:
        return [sys.executable, "-m", "launch.cli", "alerts", "run"]
    return [sys.executable, "-c", PROFILED_WORKER, profile]


def one_run(args: argparse.Namespace, run: int) -> tuple[dict[str, float], dict[str, float]]:
    broker, influx = MosquittoServer().start(), InfluxServer().start()
    work = Path(tempfile.mkdtemp(prefix="ww-bench-alerts-"))
    secret = secrets.token_hex(16)
    sink = WebhookSink(secret.encode()).start()
    plants = plant_ids(args.plants)
    plant_dir, rule_dir, progress_keys = write_plants(work, plants, args.streams, args.rules)
    postgres = PostgresServer().start() if args.db == "postgresql" else None
    db_url = postgres.create_database("bench_alerts") if postgres is not None else f"sqlite:///{work}/data/alerts.sqlite3"
    env = {
        **os.environ,
        "WASTEWATCH_MQTT_URL": broker.url, "WASTEWATCH_INFLUX_URL": influx.url, "WASTEWATCH_INFLUX_DATABASE": "bench",
        "WASTEWATCH_DATA_DIR": str(work / "data"), "WASTEWATCH_LOG_LEVEL": "WARNING",
        "WASTEWATCH_PLANT_CONFIG": str(plant_dir), "WASTEWATCH_ALERTS_RULES_FILE": str(rule_dir),
        "WASTEWATCH_ALERTS_CLIENT_ID": "bench-alerts", "WASTEWATCH_ALERTS_DB_URL": db_url,
        "WASTEWATCH_ALERTS_WEBHOOK_URL": sink.url, "WASTEWATCH_ALERTS_WEBHOOK_SECRET": secret,
        **FLOOD_CONTROL_OFF,
    }
    log = work / "alerts.log"
    procs: list[subprocess.Popen[bytes]] = []
    workers: list[subprocess.Popen[bytes]] = []
    pub = None
    ok = False
    try:
        for w, owned in enumerate(partition(plants, args.workers)):
            # partitioned: each worker owns its plants outright (one alert database, shared)
            worker_env = {**env, "WASTEWATCH_ALERTS_PLANTS": ",".join(owned)} if args.workers > 1 else env
            with open(log, "ab") as out:
                workers.append(subprocess.Popen(worker_command(args.profile if w == 0 else None), env=worker_env,
                                                stdout=out, stderr=out))
        procs += workers
        pub = Publisher(broker.port)
        warm_up(pub, sink, workers, log, plants)
        lat = latency_phase(pub, sink, args.alerts, args.interval_ms / 1000)
        print(
            f"run {run} latency: {args.alerts} webhooks ({lat['raised']:.0f} raised, {lat['cleared']:.0f} cleared), "
            f"one reading every {args.interval_ms:g} ms: p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, "
            f"max {lat['max']:.1f} ms; signatures verified {args.alerts}/{args.alerts}, refused {sink.refused}",
            flush=True,
        )
        commands, last_ts = write_streams(work, args.readings, args.publishers, args.streams, plants)
        total = len(last_ts) * (args.readings // len(last_ts))
        ingest = None
        if args.with_ingest:
            ingest_env = {**env, "WASTEWATCH_INGEST_CLIENT_ID": "bench-ingest", "WASTEWATCH_DATA_DIR": str(work / "ingest")}
            with open(work / "ingest.log", "ab") as out:
                ingest = subprocess.Popen([sys.executable, "-m", "launch.cli", "ingest"], env=ingest_env,
                                          stdout=out, stderr=out)
            procs.append(ingest)
            time.sleep(2.0)  # let it subscribe; its CPU over the phase is measured beside the worker's
        ingest_before = proc_stats(ingest.pid)[1] if ingest is not None else 0.0
        tp = throughput_phase(broker, workers, db_url, progress_keys, commands, last_ts, total)
        ingest_note = ""
        if ingest is not None:
            tp["ingest_cpu_s"] = settled_cpu(ingest.pid) - ingest_before
            ingest_note = (f", ingest CPU {tp['ingest_cpu_s']:.1f} s = {tp['ingest_cpu_s'] / total * 1e6:.0f} µs per message "
                           f"(worker / ingest {tp['cpu_s'] / tp['ingest_cpu_s']:.2f}×)")
        print(
            f"run {run} throughput: {total} readings on {args.streams} sensors of {len(plants)} plant(s), {args.rules} rules per plant, "
            f"{args.workers} worker(s), {args.publishers} publishers: "
            f"processed in {tp['elapsed_s']:.2f} s = {tp['rate']:,.0f} readings/s (publishers done at "
            f"{tp['published_s']:.2f} s); worker CPU {tp['cpu_s']:.1f} s{' (all workers)' if args.workers > 1 else ''}, "
            f"{tp['cpu_s'] / total * 1e6:.0f} µs per reading, peak RSS {tp['rss_mb']:.1f} MB ({tp['rss_before_mb']:.1f} MB before the phase); "
            f"mosquitto CPU {tp['broker_cpu_s']:.1f} s{ingest_note}; alerts raised {tp['raised']:.0f} "
            f"(expected {always_true(args.streams, args.rules) * len(plants)}, the always-true rules)",
            flush=True,
        )
        ok = True
        return lat, tp
    finally:
        if pub is not None:
            pub.close()
        for proc in procs:
            stop(proc)
        sink.stop()
        broker.cleanup()
        influx.cleanup()
        if postgres is not None:
            postgres.cleanup()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"run {run} failed; the worker's log is {log}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--alerts", type=int, default=1000, help="readings (each raises or clears: one webhook each)")
    parser.add_argument("--interval-ms", type=float, default=20.0, help="between latency readings")
    parser.add_argument("--readings", type=int, default=100_000, help="throughput phase, split over the streams")
    parser.add_argument("--streams", type=int, default=len(STREAMS), choices=range(8, len(STREAMS) + 1), metavar="8..15",
                        help="sensors streamed; the 199 rules are spread over them (8: 25 rules per reading)")
    parser.add_argument("--rules", type=int, default=RULES_TOTAL, help="rules per plant (the latency rule, then one per "
                        "stream first: 16 makes each reading meet one rule)")
    parser.add_argument("--publishers", type=int, default=4, help="mosquitto_pub processes in parallel")
    parser.add_argument("--with-ingest", action="store_true", help="run `wastewatch ingest` on the same feed")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite",
                        help="the alert database: SQLite in the run's directory, or a PostgreSQL server of its own")
    parser.add_argument("--plants", type=int, default=1, help="plants (Kotim and copies, 200 rules each); the readings "
                        "are spread over them")
    parser.add_argument("--workers", type=int, default=1, help="alert worker processes, each owning a share of the plants "
                        "(WASTEWATCH_ALERTS_PLANTS); at most --plants")
    parser.add_argument("--profile", metavar="PSTATS", help="run the worker under yappi (pip install yappi) and save "
                        "its profile here (python -m pstats reads it); the speed measured is then not the worker's")
    args = parser.parse_args()
    if not 1 <= args.workers <= args.plants:
        parser.error("--workers must be between 1 and --plants")
    results = [one_run(args, r + 1) for r in range(args.runs)]
    lats, tps = [r[0] for r in results], [r[1] for r in results]
    print(
        f"median of {args.runs} latency (reading published → webhook verified, {args.alerts} alerts): "
        f"p50 {statistics.median(r['p50'] for r in lats):.1f} ms, p99 {statistics.median(r['p99'] for r in lats):.1f} ms "
        f"(target p99 < 200 ms)"
    )
    streams = args.streams * args.plants
    total = streams * (args.readings // streams)
    cpu_us = statistics.median(r["cpu_s"] for r in tps) / total * 1e6
    print(
        f"median of {args.runs} throughput ({args.rules} rules per plant, {args.plants} plant(s), {args.workers} worker(s), "
        f"{args.db}, "
        f"{total} readings{', ingest running' if args.with_ingest else ''}): "
        f"{statistics.median(r['rate'] for r in tps):,.0f} readings/s (target >= 20,000), "
        f"worker CPU {statistics.median(r['cpu_s'] for r in tps):.1f} s = {cpu_us:.0f} µs per reading, "
        f"peak RSS {statistics.median(r['rss_mb'] for r in tps):.1f} MB per worker"
    )
    if args.with_ingest:
        ingest_us = statistics.median(r["ingest_cpu_s"] for r in tps) / total * 1e6
        ratio = statistics.median(r["cpu_s"] / r["ingest_cpu_s"] for r in tps)
        print(f"median of {args.runs} ingest CPU on the same feed: {ingest_us:.0f} µs per message; "
              f"alert worker / ingest CPU per reading {ratio:.2f}× (target <= 1.2×)")


if __name__ == "__main__":
    main()
