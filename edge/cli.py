"""`wastewatch edge run [FILE]` and `wastewatch edge check FILE`; wired by `launch.cli` with `add_arguments(sub)`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge.settings import EdgeSettings
from wastewatch.settings import BrokerSettings, Settings, SettingsError, describe_settings, load

SETTINGS = (Settings, BrokerSettings, EdgeSettings)


def add_arguments(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add `edge` and its subcommands to the `wastewatch` parser's subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "edge",
        help="The field end: poll the plant's Modbus devices or subscribe to its OPC UA servers, and publish the MQTT contract, store-and-forward.",
        description="The box at the plant: polls the PLC and the CEMS over Modbus TCP/RTU or subscribes over OPC UA, stamps readings with its own "
        "clock, keeps every sample in an on-disk queue and publishes it (QoS 1) once the broker acknowledges.",
        epilog=describe_settings(*SETTINGS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="edge_command", metavar="{run,check}", required=True)
    run = sub.add_parser(
        "run", help="poll and publish until Ctrl-C", epilog=describe_settings(*SETTINGS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("file", nargs="?", type=Path, help="the device file (default WASTEWATCH_EDGE_DEVICE_FILE)")
    run.set_defaults(func=cmd_run)
    check = sub.add_parser(
        "check", help="connect once to every device, print what each mapped value reads now; exit 1 if a device fails",
        epilog=describe_settings(Settings), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("file", type=Path, help="the device file")
    check.set_defaults(func=cmd_check)
    return parser


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    edge = load(EdgeSettings, demo=settings.demo)
    if settings.mqtt.url is None:
        raise SettingsError("bad setting WASTEWATCH_MQTT_URL: required for `wastewatch edge run`")
    # lazy: the pollers, pymodbus and paho load only when `wastewatch edge run` runs
    from edge.service import run_edge

    return run_edge(settings, edge, args.file)


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    # lazy: pymodbus loads only when a check runs
    from edge.check import check_devices
    from edge.modbus import quiet_pymodbus
    from edge.service import load_edge_plant

    plant, spec = load_edge_plant(settings, args.file)
    quiet_pymodbus(settings.log_level)
    failed = check_devices(spec, plant, sys.stdout)
    if failed:
        print(f"{failed} of {len(spec.devices)} devices failed", file=sys.stderr)
    return 1 if failed else 0
