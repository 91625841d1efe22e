"""The `wastewatch` command: one entry point, a subcommand per service."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pydantic_settings import BaseSettings

from alerts.cli import add_arguments as add_alert_arguments
from api.cli import add_arguments as add_api_arguments
from api.reports.cli import add_arguments as add_report_arguments
from api.settings import ApiSettings
from edge.cli import add_arguments as add_edge_arguments
from grafana.cli import add_arguments as add_dashboard_arguments
from ingest.deadletters import DeadLetterStore
from ingest.health import check_running
from ingest.settings import IngestSettings
from launch.compliance import add_arguments as add_compliance_arguments
from launch.devices import add_arguments as add_device_arguments
from launch.ledger import add_arguments as add_ledger_arguments
from launch.manifests import add_arguments as add_manifest_arguments
from simulators.cli import add_arguments as add_simulator_arguments
from simulators.cli import run_from_args
from simulators.schedule import SCHEDULE_NAMES
from sispek.cli import add_arguments as add_sispek_arguments
from wastewatch.errors import ConfigError
from wastewatch.relational import DatabaseError
from wastewatch.runtime import configure_logging
from wastewatch.settings import (
    BrokerSettings,
    DecodeSettings,
    InfluxSettings,
    Settings,
    SettingsError,
    describe_settings,
    load,
    load_settings,
)

INGEST = (Settings, BrokerSettings, InfluxSettings, DecodeSettings, IngestSettings)
DEMO = (Settings, BrokerSettings, InfluxSettings, ApiSettings)
SIMULATE = (Settings, BrokerSettings)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    ingest = load(IngestSettings, demo=settings.demo)
    if args.check:
        healthy, message = check_running(ingest.metrics_port, ingest.max_stall_s)
        print(message, file=sys.stdout if healthy else sys.stderr)
        return 0 if healthy else 1
    # lazy: the ingest worker (paho, the store client) loads only when `wastewatch ingest` runs
    from ingest.service import run_ingest

    return run_ingest(settings, ingest)


def cmd_deadletters(args: argparse.Namespace, settings: Settings) -> int:

    path = settings.data_dir / "deadletters.sqlite3"
    if not path.exists():
        print(f"no dead letters yet ({path} does not exist)")
        return 0
    store = DeadLetterStore(path)
    try:
        counts = store.counts()
        print("dead letters by reason: " + (", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none"))
        dropped = store.dropped()
        if dropped:
            print("dropped (bound, age, disk reserve): " + ", ".join(f"{k}={v}" for k, v in sorted(dropped.items())))
        for letter in store.list(reason=args.reason, limit=args.limit):
            payload = letter.payload[:120].decode("utf-8", errors="replace")
            print(f"#{letter.id} {letter.reason} parts={letter.parts} size={letter.size} {letter.topic} {letter.detail} payload={payload!r}")
    finally:
        store.close()
    return 0


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:

    return run_from_args(args, settings)


DEMO_BACKFILL_DAYS = 7
DEMO_MAX_BACKFILL_DAYS = 366  # a year: the annual report; more is a typo (each day takes seconds to simulate)
# A gateway outage 20 s after the start: `plant_no_data` opens 2 min into the silence (at about 2.5 min)
# and clears when the held-back data arrives (3 min); it raises alerts whatever the plant is doing.
DEMO_FAULT = "network_outage@+20s/150s"


def backfill_days(text: str) -> int:
    """`--backfill N`: whole days, 1 to DEMO_MAX_BACKFILL_DAYS (`7` or `7d`)."""
    number = text.strip().lower().removesuffix("d")
    if not number.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (e.g. 7)")
    days = int(number)
    if not 1 <= days <= DEMO_MAX_BACKFILL_DAYS:
        raise argparse.ArgumentTypeError(f"{days} days: must be 1 to {DEMO_MAX_BACKFILL_DAYS}")
    return days


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    # lazy: the demo loads every service and the API only when `wastewatch demo` runs
    from launch.demo import run_demo

    return run_demo(settings, seed=args.seed, backfill_days=args.backfill, faults=args.fault or [DEMO_FAULT],
                    schedule=args.schedule)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wastewatch",
        description="Monitoring for medical-waste incineration plants: MQTT → InfluxDB, alerts, compliance.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(
        name: str, help_text: str, func: Callable[[argparse.Namespace, Settings], int], settings: tuple[type[BaseSettings], ...],
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=describe_settings(*settings),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(func=func)
        return p

    ingest = add(
        "ingest",
        "Run the ingest worker: subscribe to the plants' MQTT topics, write to InfluxDB (or SQLite), "
        "acknowledge only durable data, dead-letter bad messages.",
        cmd_ingest,
        INGEST,
    )
    ingest.add_argument(
        "--check", action="store_true",
        help="check the running ingest (its metrics port) instead: exit 1 when messages have waited "
        "WASTEWATCH_INGEST_MAX_STALL_S with nothing written (the container healthcheck)",
    )
    demo = add(
        "demo",
        "Run everything on embedded defaults: an MQTT broker (unless WASTEWATCH_MQTT_URL is set), the last days "
        "of plant history, the plant simulator live from now with a fault a few minutes in, the ingest, the alert worker, the compliance jobs, the API (with a demo key) and the SQLite "
        "store (unless WASTEWATCH_INFLUX_URL is set). Ctrl-C stops.",
        cmd_demo,
        DEMO,
    )
    demo.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")
    demo.add_argument(
        "--schedule", choices=SCHEDULE_NAMES, default="continuous",
        help="the plant's operating schedule: continuous (default: 7.2 t/day is 300 kg/h only around the clock, so the plant "
             "burns whenever the demo starts) or daily (pre-heat at 05:00, feed until 21:00, cold overnight)",
    )
    demo.add_argument(
        "--backfill", metavar="DAYS", type=backfill_days, default=DEMO_BACKFILL_DAYS,
        help=f"first write this many days of plant history, so summaries and reports have data at once "
             f"(default {DEMO_BACKFILL_DAYS}, at most {DEMO_MAX_BACKFILL_DAYS}; a restart on the same data adds only the days since)",
    )
    demo.add_argument(
        "--fault", metavar="SPEC", action="append",
        help=f"a fault as `wastewatch simulate --fault` takes it, +<duration> counted from the start (repeatable; "
             f"default {DEMO_FAULT}; e.g. burner_trip@+1m/20m while the plant burns)",
    )
    dl = add("deadletters", "Show the dead-letter record: counts by reason and the newest entries.", cmd_deadletters, (Settings,))
    dl.add_argument("--reason", help="only this reason")
    dl.add_argument("--limit", type=int, default=20, help="how many entries (default 20)")
    add_alert_arguments(sub)
    add_compliance_arguments(sub)
    add_report_arguments(sub)
    add_dashboard_arguments(sub)
    add_device_arguments(sub)
    add_ledger_arguments(sub)
    add_manifest_arguments(sub)
    add_api_arguments(sub)
    add_edge_arguments(sub)
    add_sispek_arguments(sub)
    sim = add(
        "simulate",
        "Run the plant simulator: publish a plausible plant over MQTT in real time, accelerated, or as a back-fill.",
        cmd_simulate,
        SIMULATE,
    )
    add_simulator_arguments(sim)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"wastewatch: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        return int(args.func(args, settings))
    except (ConfigError, DatabaseError) as exc:  # wastewatch.errors: one line, exit status 2
        print(f"wastewatch: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
