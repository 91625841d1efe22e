"""The alert engine in process, no broker: the CPU the worker spends per reading on evaluation.

The engine (`alerts.engine.Engine`) gets the rules of `bench.alert_latency` (200 by default: the
latency rule and 199 threshold / rate-of-change / flatline rules round-robin over the 15 analog
Kotim sensors, written by its `write_rules`) and the same feed as its throughput phase: per sensor
values base + step * (i % 97), 10 ms apart, the sensors taken in turn. Every `--commit-every`
readings it hands out its changed states (`dirty_items`, their JSON) and forgets them, as the
worker's commit does (one `Step` per commit, as the worker's); the wall clock advances 1 ms per
20 readings (20,000 readings/s).

Prints µs per reading (median of --runs runs, each on a fresh engine after a warm-up of
--warmup readings): the whole step (decode + observe + commit share), and its parts.

    python -m bench.alert_engine [--readings 60000] [--runs 5] [--rules 200] [--streams 15]
                                 [--commit-every 500] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from alerts.engine import Engine, Step
from alerts.intake import MessageDecoder
from alerts.rules import RuleSet, load_rules
from bench.alert_latency import PLANT, RULES_TOTAL, STREAMS, TS_STEP_MS, write_rules
from wastewatch.decode import DecodeLimits
from wastewatch.plant import PlantCatalog, bundled_plant_path, load_plant
from wastewatch.records import Reading

TICK_INTERVAL_MS = 5000
READINGS_PER_MS = 20


def ruleset(rules: int, streams: int) -> RuleSet:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{PLANT}.yaml"
        write_rules(path, streams, PLANT, rules)
        return load_rules(path)


def messages(count: int, streams: int, start_ms: int) -> list[tuple[str, bytes]]:
    """(topic, payload) of the feed: the streams in turn, each its own ts and values as the bench's."""
    out = []
    for n in range(count):
        sensor, base, step = STREAMS[n % streams]
        i = n // streams
        payload = json.dumps({"ts": start_ms + i * TS_STEP_MS, "value": round(base + step * (i % 97), 4)})
        out.append((f"plants/{PLANT}/sensors/{sensor}", payload.encode()))
    return out


def run_once(rs: RuleSet, decoder: MessageDecoder, feed: list[tuple[str, bytes]], decoded: list[Reading],
             now0_ms: int, warmup: int, commit_every: int) -> dict[str, float]:
    """One fresh engine over the feed; µs per reading of each part, over the readings after the warm-up."""
    engine = Engine([rs], TICK_INTERVAL_MS)
    observe, dirty_items, clear_dirty = engine.observe, engine.dirty_items, engine.clear_dirty

    # as the worker: one Step collects a commit's events and transitions
    step = Step()
    for n in range(warmup):
        observe(decoded[n], now0_ms + n // READINGS_PER_MS, step)
        if n % commit_every == commit_every - 1:
            clear_dirty(dirty_items())
            step = Step()
    measured = len(decoded) - warmup
    cpu = time.process_time
    t0 = cpu()
    for topic, payload in feed[warmup:]:
        decoder.decode(topic, payload, now0_ms)
    t1 = cpu()
    # observe and commit measured apart: the same engine, the commit share timed around its calls
    commit_s = 0.0
    for n in range(warmup, len(decoded)):
        observe(decoded[n], now0_ms + n // READINGS_PER_MS, step)
        if n % commit_every == commit_every - 1:
            c0 = cpu()
            clear_dirty(dirty_items())
            step = Step()
            commit_s += cpu() - c0
    t2 = cpu()
    us = 1e6 / measured
    return {"decode": (t1 - t0) * us, "observe": (t2 - t1 - commit_s) * us, "commit": commit_s * us,
            "total": (t2 - t0) * us}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readings", type=int, default=60_000, help="measured readings per run (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=6_000, help="readings before the measurement (windows filled)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rules", type=int, default=RULES_TOTAL)
    parser.add_argument("--streams", type=int, default=len(STREAMS), choices=range(8, len(STREAMS) + 1), metavar="8..15")
    parser.add_argument("--commit-every", type=int, default=500, help="readings per worker commit (dirty_items)")
    parser.add_argument("--profile", action="store_true", help="also one run under cProfile: its top 20 by own time")
    args = parser.parse_args()

    rs = ruleset(args.rules, args.streams)
    catalog = PlantCatalog([load_plant(bundled_plant_path())])
    decoder = MessageDecoder(catalog, DecodeLimits())
    now0_ms = int(time.time() * 1000)
    total = args.warmup + args.readings
    feed = messages(total, args.streams, now0_ms - 3_600_000)
    decoded = [r for topic, payload in feed for r in decoder.decode(topic, payload, now0_ms) if isinstance(r, Reading)]
    if len(decoded) != total:
        raise RuntimeError(f"{len(decoded)} readings decoded from {total} messages")
    # the (rule, subject)s a reading concerns, on average over the streams
    met = statistics.mean(sum(sensor in w for r in rs.rules for w in r.watched_sensors.values())
                          for sensor, _, _ in STREAMS[: args.streams])

    results = [run_once(rs, decoder, feed, decoded, now0_ms, args.warmup, args.commit_every) for _ in range(args.runs)]
    med = {part: statistics.median(r[part] for r in results) for part in results[0]}
    runs = ", ".join(f"{r['total']:.2f}" for r in results)
    print(
        f"median of {args.runs} runs, {len(rs.rules)} rules on {args.streams} sensors ({met:.1f} rules per reading), "
        f"{args.readings} readings, a commit every {args.commit_every}: {med['total']:.2f} µs per reading "
        f"(decode {med['decode']:.2f}, observe {med['observe']:.2f} = {med['observe'] / met:.2f} per rule met, "
        f"commit share {med['commit']:.2f}); runs {runs}"
    )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run_once(rs, decoder, feed, decoded, now0_ms, args.warmup, args.commit_every)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
