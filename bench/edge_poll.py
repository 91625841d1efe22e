"""The edge's cost and its back-fill speed, on the real Mosquitto and pymodbus's own TCP servers.

1. Polling: one `wastewatch edge run` polling 10 devices × 20 holding registers (20 uint16 points
   each, one request per device) every second for --seconds (default 60), publishing live to
   Mosquitto; the edge process's CPU time over the window (from /proc, after a warm-up) as % of
   one core.
2. Replay: the queue filled with a simulated 12-hour outage (12 h × 10 devices × 1 Hz = 432,000
   samples of 20 values), then the edge started against a stopped broker, the broker started, and
   the queue's depth watched until it is empty: messages/s and frames/s from the first row drained
   to the last (the devices go on being polled meanwhile, 10 samples/s more).

3. OPC UA (--opcua): one `wastewatch edge run` subscribed to 10 asyncua servers × 20 Double nodes
   (publishing interval 1 s), every node changed by its server every second; the edge's CPU time
   over the window as % of one core (the servers run in the benchmark's process, not the edge's).

Medians of --runs runs (default 3). Numbers depend on the machine; compare runs made back to back.

    python -m bench.edge_poll --runs 3 --seconds 60
    python -m bench.edge_poll --runs 3 --seconds 60 --opcua --skip-poll --skip-replay
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from asyncua import ua

from edge.queue import SampleQueue
from edge.sources import Sample
from tests.edge_modbus import ModbusTcpDevice
from tests.edge_opcua import OpcUaPlant
from tests.servers import MosquittoServer
from wastewatch.plant import bundled_plant_path

DEVICES = 10
REGISTERS = 20
OUTAGE_S = 12 * 3600


def write_plant(work: Path) -> Path:
    """The Kotim plant with 10 bench devices and 200 sensors (a sensor is read from one device only)."""
    raw = yaml.safe_load(bundled_plant_path().read_text())
    raw["devices"] = [f"dev{d:02d}" for d in range(DEVICES)]
    raw["sensors"] = [
        {"id": f"s{d:02d}_{r:02d}", "quantity": "temperature", "unit": "degC", "min": 0, "max": 70_000, "period_s": 1}
        for d in range(DEVICES) for r in range(REGISTERS)
    ]
    raw.pop("sparkplug", None)
    path = work / "plant.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return path


def write_devices(work: Path, ports: list[int]) -> Path:
    devices = [
        {"id": f"dev{d:02d}", "protocol": "modbus_tcp", "host": "127.0.0.1", "port": port, "period_s": 1, "timeout_s": 1, "retries": 1,
         "points": [{"sensor": f"s{d:02d}_{r:02d}", "kind": "holding", "address": r, "type": "uint16", "scale": 0.1} for r in range(REGISTERS)]}
        for d, port in enumerate(ports)
    ]
    path = work / "edge.yaml"
    path.write_text(yaml.safe_dump({"plant": "kotim", "devices": devices}))
    return path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_edge(work: Path, plant: Path, devices: Path, broker: MosquittoServer, queue: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WASTEWATCH_MQTT_URL": broker.url, "WASTEWATCH_PLANT_CONFIG": str(plant),
           "WASTEWATCH_EDGE_QUEUE_PATH": str(queue), "WASTEWATCH_EDGE_ID": "bench", "WASTEWATCH_LOG_LEVEL": "WARNING",
           "WASTEWATCH_EDGE_HEALTH_INTERVAL_S": "1"}
    with open(work / "edge.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "launch.cli", "edge", "run", str(devices)], env=env, stdout=log, stderr=log)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def depth(queue: Path) -> int:
    with sqlite3.connect(queue, timeout=10) as db:
        return int(db.execute("SELECT COUNT(*) FROM samples").fetchone()[0])


def health(broker: MosquittoServer) -> dict[str, object]:
    out = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", "plants/kotim/edge/bench/health", "-C", "1", "-W", "10"],
                         capture_output=True, text=True, timeout=20).stdout
    return dict(json.loads(out)) if out.strip() else {}


def poll_run(seconds: float) -> float:
    work = Path(tempfile.mkdtemp(prefix="ww-bench-edge-"))
    servers = [ModbusTcpDevice().start() for _ in range(DEVICES)]
    for i, server in enumerate(servers):
        server.device.set("holding", 0, [(i * 100 + r) % 65_536 for r in range(REGISTERS)])
    broker = MosquittoServer().start()
    proc = start_edge(work, write_plant(work), write_devices(work, [s.port for s in servers]), broker, work / "queue.sqlite3")
    try:
        time.sleep(5)  # imports, connections, first polls
        before, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(seconds)
        used, elapsed = cpu_seconds(proc.pid) - before, time.monotonic() - t0
        h = health(broker)
        devices = dict(h.get("devices", {}))  # type: ignore[call-overload]
        errors = sum(int(d["errors"]) for d in devices.values())
        print(f"  poll run: {used:.2f} CPU s over {elapsed:.1f} s = {100 * used / elapsed:.2f} % of a core; "
              f"polls {sum(int(d['polls']) for d in devices.values())}, errors {errors}, queue depth {dict(h.get('queue', {})).get('depth')}")  # type: ignore[call-overload]
        return 100 * used / elapsed
    finally:
        stop(proc)
        broker.cleanup()
        for server in servers:
            server.stop()


def write_opcua_devices(work: Path, endpoints: list[str]) -> Path:
    devices = [
        {"id": f"dev{d:02d}", "protocol": "opcua", "endpoint": endpoint, "period_s": 1, "timeout_s": 4, "retries": 1,
         "points": [{"sensor": f"s{d:02d}_{r:02d}", "node_id": f"ns=2;s=Plant.V{r:02d}"} for r in range(REGISTERS)]}
        for d, endpoint in enumerate(endpoints)
    ]
    path = work / "edge.yaml"
    path.write_text(yaml.safe_dump({"plant": "kotim", "devices": devices}))
    return path


def opcua_run(seconds: float) -> float:
    work = Path(tempfile.mkdtemp(prefix="ww-bench-edge-"))
    logging.getLogger("asyncua").setLevel(logging.ERROR)  # the servers' warnings about their own unsecured endpoints
    variables = {f"V{r:02d}": (float(r), ua.VariantType.Double) for r in range(REGISTERS)}
    servers = [OpcUaPlant(variables=variables).start() for _ in range(DEVICES)]
    for server in servers:
        server.animate(1.0)
    broker = MosquittoServer().start()
    proc = start_edge(work, write_plant(work), write_opcua_devices(work, [s.endpoint for s in servers]), broker, work / "queue.sqlite3")
    try:
        time.sleep(8)  # imports, sessions, subscriptions
        before, t0 = cpu_seconds(proc.pid), time.monotonic()
        h0 = health(broker)
        time.sleep(seconds)
        used, elapsed = cpu_seconds(proc.pid) - before, time.monotonic() - t0
        h = health(broker)
        devices = dict(h.get("devices", {}))  # type: ignore[call-overload]
        samples = sum(int(d["samples"]) for d in devices.values()) - sum(int(d["samples"]) for d in dict(h0.get("devices", {})).values())  # type: ignore[call-overload]
        errors = sum(int(d["errors"]) for d in devices.values())
        print(f"  opcua run: {used:.2f} CPU s over {elapsed:.1f} s = {100 * used / elapsed:.2f} % of a core; "
              f"{samples} samples in the window (~{samples / elapsed:.1f}/s), errors {errors}, queue depth {dict(h.get('queue', {})).get('depth')}")  # type: ignore[call-overload]
        return 100 * used / elapsed
    finally:
        stop(proc)
        broker.cleanup()
        for server in servers:
            server.close()


def fill_queue(queue: Path) -> int:
    q = SampleQueue(queue, max_rows=2_000_000)
    start = int(time.time() * 1000) - OUTAGE_S * 1000 - 60_000
    batch: list[Sample] = []
    total = 0
    for second in range(OUTAGE_S):
        for d in range(DEVICES):
            batch.append(Sample(f"dev{d:02d}", start + second * 1000 + d, {f"s{d:02d}_{r:02d}": float((second + r) % 7000) / 10 for r in range(REGISTERS)}))
        if len(batch) >= 20_000:
            total += q.append(batch)
            batch = []
    total += q.append(batch)
    q.close()
    return total


def replay_run() -> tuple[float, float, float]:
    work = Path(tempfile.mkdtemp(prefix="ww-bench-edge-"))
    queue = work / "queue.sqlite3"
    t = time.monotonic()
    filled = fill_queue(queue)
    print(f"  queue filled with {filled:,} samples ({queue.stat().st_size / 1e6:.0f} MB) in {time.monotonic() - t:.0f} s")
    servers = [ModbusTcpDevice().start() for _ in range(DEVICES)]
    broker = MosquittoServer()  # not started: the outage
    proc = start_edge(work, write_plant(work), write_devices(work, [s.port for s in servers]), broker, queue)
    try:
        time.sleep(3)
        broker.start()
        initial = depth(queue)
        while depth(queue) >= initial:
            time.sleep(0.05)
        began = time.monotonic()
        while (left := depth(queue)) > 50:
            time.sleep(0.2)
        elapsed = time.monotonic() - began
        time.sleep(1.5)
        published = dict(health(broker).get("published", {}))  # type: ignore[call-overload]
        frames, messages = int(published["frames"]), int(published["messages"])
        print(f"  replay: {frames:,} frames in {messages:,} messages, {elapsed:.1f} s from the first row drained "
              f"({frames / elapsed:,.0f} frames/s, {messages / elapsed:,.0f} messages/s; {left} left, the live ones)")
        return elapsed, frames / elapsed, messages / elapsed
    finally:
        stop(proc)
        broker.cleanup()
        for server in servers:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--skip-poll", action="store_true")
    parser.add_argument("--opcua", action="store_true", help="also the OPC UA case (10 servers × 20 nodes changing every second)")
    args = parser.parse_args()
    if args.opcua:
        print(f"OPC UA: {DEVICES} servers × {REGISTERS} nodes changing every second, subscribed, for {args.seconds:.0f} s, {args.runs} runs")
        cpu = [opcua_run(args.seconds) for _ in range(args.runs)]
        print(f"edge CPU (OPC UA): median {statistics.median(cpu):.2f} % of a core (runs: {', '.join(f'{c:.2f}' for c in cpu)})")
    if not args.skip_poll:
        print(f"polling {DEVICES} devices × {REGISTERS} registers at 1 Hz for {args.seconds:.0f} s, {args.runs} runs")
        cpu = [poll_run(args.seconds) for _ in range(args.runs)]
        print(f"edge CPU: median {statistics.median(cpu):.2f} % of a core (runs: {', '.join(f'{c:.2f}' for c in cpu)})")
    if not args.skip_replay:
        print(f"replaying a 12-hour outage ({OUTAGE_S * DEVICES:,} samples), {args.runs} runs")
        runs = [replay_run() for _ in range(args.runs)]
        print(f"replay: median {statistics.median(r[1] for r in runs):,.0f} frames/s, {statistics.median(r[2] for r in runs):,.0f} messages/s, "
              f"{statistics.median(r[0] for r in runs):.1f} s to empty (runs: {', '.join(f'{r[0]:.1f} s' for r in runs)})")


if __name__ == "__main__":
    main()
