"""`wastewatch alerts`: run the worker; `list`, `show`, `ack`, `comment` and `assign` for operators.

Wired by `launch.cli.build_parser` with `add_arguments(sub)`; every handler takes
`(args, settings)` and returns the exit code, like the other commands.
"""

from __future__ import annotations

import argparse
import getpass
import json
import time
from datetime import UTC, datetime

from alerts import actions
from alerts.outbox import Outbox
from alerts.rules import RuleConfigError
from alerts.schema import open_database
from alerts.settings import AlertSettings
from alerts.store import AlertNotFound, AlertRecord, AlertStateError, AlertStore
from wastewatch.relational import DatabaseError
from wastewatch.settings import BrokerSettings, DecodeSettings, InfluxSettings, Settings, SmtpSettings, describe_settings, load

SETTINGS = (Settings, BrokerSettings, InfluxSettings, DecodeSettings, SmtpSettings, AlertSettings)


def add_arguments(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add `alerts` and its subcommands to the `wastewatch` parser's subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "alerts",
        help="Run the alert worker, or list and acknowledge alerts.",
        description="Without a subcommand: run the alert worker (rules, plant state, notifications) until Ctrl-C.",
        epilog=describe_settings(*SETTINGS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=cmd_run)
    sub = parser.add_subparsers(dest="alerts_command", metavar="{run,list,show,ack,comment,assign}")
    sub.add_parser("run", help="run the alert worker (the default)").set_defaults(func=cmd_run)
    listing = sub.add_parser("list", help="the newest alerts, active first")
    listing.add_argument("--all", action="store_true", help="cleared ones too (default: active only)")
    listing.add_argument("--plant", help="only this plant")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="one alert with its audit trail and notifications")
    show.add_argument("alert_id", type=int)
    show.set_defaults(func=cmd_show)
    ack = sub.add_parser("ack", help="acknowledge an alert")
    ack.add_argument("alert_id", type=int)
    ack.add_argument("--comment", help="why, or what is being done")
    ack.set_defaults(func=cmd_ack)
    note = sub.add_parser("comment", help="add a comment to an alert's trail")
    note.add_argument("alert_id", type=int)
    note.add_argument("text")
    note.set_defaults(func=cmd_comment)
    assign = sub.add_parser("assign", help="assign an alert to someone ('-' unassigns)")
    assign.add_argument("alert_id", type=int)
    assign.add_argument("assignee")
    assign.set_defaults(func=cmd_assign)
    for p in (ack, note, assign):
        p.add_argument("--by", default=_default_user(), help="who does it (default: the login name)")
    return parser


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def _now_ms() -> int:
    return round(time.time() * 1000)


def _when(ms: int | None) -> str:
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def describe(alert: AlertRecord) -> str:
    """One line per alert, for a terminal."""
    who = f" ack={alert.ack_by}" if alert.acknowledged else ""
    assignee = f" assignee={alert.assignee}" if alert.assignee else ""
    return (f"#{alert.id} {alert.status:<13} {alert.severity:<8} {alert.key} since {_when(alert.first_seen_ms)} "
            f"value={alert.value}{who}{assignee}: {alert.message}")


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    # lazy: the worker (paho, rules, notifiers) loads only when `wastewatch alerts run` runs
    from alerts.service import run_alerts

    try:
        return run_alerts(settings, load(AlertSettings, demo=settings.demo))
    except RuleConfigError as exc:
        print(f"wastewatch alerts: {exc}")
        return 2


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    try:
        alerts = AlertStore(db).list_alerts(active_only=not args.all, plant=args.plant, limit=args.limit)
    finally:
        db.close()
    for alert in alerts:
        print(json.dumps({**_record(alert), "status": alert.status}) if args.json else describe(alert))
    if not alerts and not args.json:
        print("no alerts" if args.all else "no active alerts")
    return 0


def _record(alert: AlertRecord) -> dict[str, object]:
    return {name: getattr(alert, name) for name in AlertRecord.__dataclass_fields__}


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    try:
        store, outbox = AlertStore(db), Outbox(db)
        alert = store.get(args.alert_id)
        if alert is None:
            print(f"no alert {args.alert_id}")
            return 1
        print(describe(alert))
        print(f"source: {alert.source}")
        for t in store.transitions(alert.id):
            print(f"  {_when(t.at_ms)} {t.kind:<12} by {t.actor}" + (f": {t.comment}" if t.comment else ""))
        for row in outbox.rows(alert_id=alert.id):
            print(f"  notification {row.kind:<9} {row.audience:<10} {row.channel:<10} {row.status:<11} attempts={row.attempts}")
    finally:
        db.close()
    return 0


def _act(settings: Settings, action: str, args: argparse.Namespace) -> int:
    db = open_database(settings)
    try:
        if action == "ack":
            change = actions.acknowledge(db, args.alert_id, args.by, _now_ms(), args.comment)
        elif action == "comment":
            change = actions.comment(db, args.alert_id, args.by, args.text, _now_ms())
        else:
            assignee = None if args.assignee == "-" else args.assignee
            change = actions.assign(db, args.alert_id, assignee, args.by, _now_ms())
    except (AlertNotFound, AlertStateError, DatabaseError) as exc:
        print(f"wastewatch alerts {action}: {exc}")
        return 1
    finally:
        db.close()
    print(f"{change.kind}: {describe(change.alert)}")
    return 0


def cmd_ack(args: argparse.Namespace, settings: Settings) -> int:
    return _act(settings, "ack", args)


def cmd_comment(args: argparse.Namespace, settings: Settings) -> int:
    return _act(settings, "comment", args)


def cmd_assign(args: argparse.Namespace, settings: Settings) -> int:
    return _act(settings, "assign", args)
