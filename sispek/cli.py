"""`wastewatch sispek run|status`: the SISPEK upload (unofficial until confirmed with KLHK).

Wired by `launch.cli.build_parser` with `add_arguments(sub)`; every handler takes `(args, settings)`
and returns the exit code. The service's modules load only when `run` runs.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from sispek.settings import UNOFFICIAL, SispekSettings
from wastewatch.relational import connect_database
from wastewatch.settings import InfluxSettings, Settings, describe_settings, load

SETTINGS = (Settings, InfluxSettings, SispekSettings)


def add_arguments(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add `sispek` and its subcommands to the `wastewatch` parser's subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sispek",
        help=f"Upload 5-minute stack values to KLHK's SISPEK every hour, or show the upload's state ({UNOFFICIAL}).",
        description=(
            f"SISPEK upload, {UNOFFICIAL}: the endpoints, field names and time format are assumptions until KLHK confirms them."
            " Without a subcommand: run the uploader (5-minute averages of valid readings per stack, sent every hour through"
            " a durable outbox: once per plant, stack and slot, retried with capped back-off for the retry window) until Ctrl-C."
        ),
        epilog=describe_settings(*SETTINGS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=cmd_run)
    sub = parser.add_subparsers(dest="sispek_command", metavar="{run,status}")
    sub.add_parser("run", help=f"run the uploader (the default; {UNOFFICIAL})").set_defaults(func=cmd_run)
    status = sub.add_parser("status", help="what is pending, sent and failed, and the server's last receipt")
    status.add_argument("--failed", type=int, default=10, metavar="N", help="list the N newest failed records (default 10)")
    status.set_defaults(func=cmd_status)
    return parser


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    # lazy: the uploader (httpx, the store client) loads only when `wastewatch sispek run` runs
    from sispek.service import run_sispek

    return run_sispek(settings, load(SispekSettings))


def _at(ms: int | None) -> str:
    return "-" if ms is None else datetime.fromtimestamp(int(ms) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    # lazy: the outbox's tables only for this subcommand
    from sispek.outbox import FAILED, SispekOutbox
    from sispek.schema import create_schema

    db = connect_database(settings)
    try:
        create_schema(db)
        outbox = SispekOutbox(db)
        counts = outbox.counts()
        print(f"SISPEK upload ({UNOFFICIAL}): pending={counts.get('pending', 0)} sent={counts.get('sent', 0)} "
              f"failed={counts.get('failed', 0)}")
        oldest = outbox.oldest_pending()
        if oldest:
            print(f"oldest pending: stack {oldest['id_cerobong']} slot {_at(oldest['slot_ms'])} attempts={oldest['attempts']}"
                  f" last error: {oldest['last_error'] or '-'}")
        receipt = outbox.last_receipt()
        if receipt:
            print(f"last receipt: {_at(receipt['at_ms'])} stack {receipt['id_cerobong']} slot {_at(receipt['slot_ms'])}: {receipt['receipt']}")
        else:
            print("last receipt: none yet")
        failed = outbox.rows(FAILED)[-args.failed:] if args.failed > 0 else []
        for row in failed:
            print(f"failed: stack {row.id_cerobong} slot {_at(row.slot_ms)} attempts={row.attempts}: {row.last_error}")
    finally:
        db.close()
    return 0
