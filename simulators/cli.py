"""`wastewatch simulate`: its arguments, and turning them into one `run_simulator` call."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from datetime import tzinfo

from simulators.publisher import MODES, PublishError, PublishProgress, run_simulator
from simulators.scenarios import FAULT_KINDS, FaultWindow, parse_duration_s, parse_fault_spec, parse_start_ms
from simulators.schedule import SCHEDULE_NAMES, schedule_named
from wastewatch.plant import PlantConfig, PlantConfigError, load_catalog
from wastewatch.runtime import stop_on_signal
from wastewatch.settings import Settings, SettingsError

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=MODES, default="realtime",
                        help="realtime (default), accelerated (--speed x faster) or backfill (as fast as acknowledged)")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second when accelerated (default 60)")
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same plant (default 1)")
    parser.add_argument("--start", default=None,
                        help="simulation start: 'now', --start=-6h (before now), an ISO date-time or a date; default: now "
                        "in real time, otherwise now minus the duration so no timestamp lies in the future")
    parser.add_argument("--duration", default=None,
                        help="how much plant time to publish, e.g. 90m, 6h, 1d; default: until Ctrl-C in real time, 1d otherwise")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC",
                        help="name[@START[/DURATION]][,key=value...], e.g. wet_batch@+2h/30m or "
                        "clock_skew@2026-11-28T10:00:00+07:00/1h,offset_s=90; repeatable; --list-faults shows them")
    parser.add_argument("--list-faults", action="store_true", help="list the fault scenarios and their parameters, then exit")
    parser.add_argument("--schedule", choices=SCHEDULE_NAMES, default="daily",
                        help="daily (pre-heat 05:00, feed until 21:00, cold overnight) or continuous (default daily)")
    parser.add_argument("--telemetry", action="store_true", help="one telemetry frame per instant instead of a topic per sensor")
    parser.add_argument("--plant", default=None, help="plant id when the catalogue holds several (default: the first)")
    parser.add_argument("--client-id", default=None, help="MQTT client id (default wastewatch-sim-<plant>)")


def describe_faults() -> str:
    lines = ["fault scenarios (domain.md §4):"]
    for kind in FAULT_KINDS.values():
        params = ", ".join(f"{k}={'|'.join(v) if isinstance(v, tuple) else v}" for k, v in kind.params.items()) or "-"
        lines.append(f"  {kind.name:<18} default {kind.default_duration_s / 60:g} min; params: {params}\n      {kind.summary}")
    return "\n".join(lines)


def _pick_plant(settings: Settings, plant_id: str | None) -> PlantConfig:
    catalog = load_catalog(settings.plant_config)
    plant: PlantConfig | None = catalog.get(plant_id) if plant_id else next(iter(catalog), None)
    if plant is None:
        raise PlantConfigError(f"no plant {plant_id!r} in the catalogue; known: {', '.join(catalog.ids)}")
    return plant


def resolve_window(start: str | None, duration: str | None, mode: str, zone: tzinfo, now_ms: int) -> tuple[int, float | None]:
    """Start (epoch ms) and duration (s, None = until stopped) from the command line."""
    duration_s = parse_duration_s(duration) if duration else (None if mode == "realtime" else 86_400.0)
    if start is None or start == "now":
        if mode == "realtime" or duration_s is None:
            return now_ms, duration_s
        return now_ms - round(duration_s * 1000), duration_s
    if start.startswith("-"):
        return now_ms - round(parse_duration_s(start[1:]) * 1000), duration_s
    return parse_start_ms(start, sim_start_ms=now_ms, zone=zone), duration_s


def run_from_args(args: argparse.Namespace, settings: Settings) -> int:
    if args.list_faults:
        print(describe_faults())
        return 0
    broker = settings.mqtt.address
    if broker is None:
        raise SettingsError("WASTEWATCH_MQTT_URL is not set: the simulator needs a broker (the demo starts its own)")
    plant = _pick_plant(settings, args.plant)
    try:
        start_ms, duration_s = resolve_window(args.start, args.duration, args.mode, plant.zone, round(time.time() * 1000))
        faults: list[FaultWindow] = [parse_fault_spec(spec, sim_start_ms=start_ms, zone=plant.zone) for spec in args.fault]
    except ValueError as exc:
        print(f"wastewatch simulate: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def progress(p: PublishProgress) -> None:
        logger.debug("simulator progress sim_ms=%s published=%s acknowledged=%s", p.sim_ms, p.published, p.acknowledged)

    try:
        with stop_on_signal(stop):
            summary = run_simulator(
                broker, plant, seed=args.seed, start_ms=start_ms, mode=args.mode, speed=args.speed, duration_s=duration_s,
                faults=faults, schedule=schedule_named(args.schedule), telemetry=args.telemetry,
                protocol=settings.mqtt.protocol, client_id=args.client_id, ca_file=settings.mqtt.ca_file,
                stop_event=stop, on_progress=progress,
            )
    except (PublishError, ValueError) as exc:
        print(f"wastewatch simulate: {exc}", file=sys.stderr)
        return 1
    tally = summary.tally
    print(
        f"published {summary.published} messages ({summary.acknowledged} acknowledged, {summary.rejected} rejected) "
        f"in {summary.wall_s:.1f} s: {tally.distinct_valid_readings} readings, {tally.batches} batches "
        f"({tally.batch_mass_total_kg:.1f} kg), invalid {dict(tally.invalid_by_reason) or 'none'}"
    )
    return 0
