"""`wastewatch devices add`: give a plant's device its own MQTT credentials (Mosquitto password file,
through `mosquitto_passwd`) and an ACL block that lets it publish only under its own plant.

The device's user name is `<plant>.<device>` (ids cannot contain a dot, so names never collide).
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from wastewatch.errors import WastewatchError
from wastewatch.settings import Settings
from wastewatch.sparkplug.topics import ncmd_topic, parse_sparkplug_topic, sparkplug_subscriptions, sparkplug_topic
from wastewatch.topics import is_valid_id

DEPLOY_DIR = Path("deploy") / "mosquitto"
ACL_MARKER = "# --- devices (wastewatch devices add) ---"


class DeviceError(WastewatchError):
    """The device cannot be added; the message says why."""


def device_user(plant: str, device: str) -> str:
    return f"{plant}.{device}"


def acl_block(plant: str, device: str, sparkplug: tuple[str, str] | None = None, *, edge: bool = False) -> str:
    """What the device may do: publish its plant's data and its own status; read nothing. A `wastewatch
    edge` box (`edge`) speaks for the field devices it polls, so it sets any device's status of its plant
    and its own health. A Sparkplug B gateway (`sparkplug` = group, edge node) also publishes as that edge
    node (births, data, deaths, its devices') and reads the commands to it and the host applications' STATE."""
    block = (
        f"\n# {'edge' if edge else 'device'} {device} of plant {plant}\n"
        f"user {device_user(plant, device)}\n"
        f"topic write plants/{plant}/sensors/+\n"
        f"topic write plants/{plant}/telemetry\n"
        f"topic write plants/{plant}/batches\n"
        f"topic write plants/{plant}/status/{'+' if edge else device}\n"
    )
    if edge:
        block += f"topic write plants/{plant}/edge/{device}/health\n"
    if sparkplug is not None:
        group, node = sparkplug
        block += "".join(f"topic write {topic}\n" for topic in sparkplug_subscriptions([(group, node)]))
        block += f"topic read {ncmd_topic(group, node)}\ntopic read spBv1.0/{group}/DCMD/{node}/+\ntopic read spBv1.0/STATE/+\n"
    return block


def add_device(
    plant: str, device: str, password: str, password_file: Path, acl_file: Path, sparkplug: tuple[str, str] | None = None,
    *, edge: bool = False,
) -> str:
    """Set the device's password (creating the file) and append its ACL block once; returns the user."""
    for what, value in (("plant", plant), ("device", device)):
        if not is_valid_id(value):
            raise DeviceError(f"{what} id {value!r} must match [a-z0-9][a-z0-9_-]{{0,63}}")
    if sparkplug is not None and parse_sparkplug_topic(sparkplug_topic("NBIRTH", *sparkplug)) is None:
        raise DeviceError(f"Sparkplug group and edge node {'/'.join(sparkplug)!r}: each a name without /, + or #")
    if not acl_file.exists():
        raise DeviceError(f"{acl_file}: no ACL file (start from deploy/mosquitto/acl)")
    binary = shutil.which("mosquitto_passwd")
    if binary is None:
        raise DeviceError("mosquitto_passwd not found: install Mosquitto's client tools")
    user = device_user(plant, device)
    password_file.parent.mkdir(parents=True, exist_ok=True)
    if not password_file.exists():
        password_file.touch(mode=0o600)
    result = subprocess.run([binary, "-b", str(password_file), user, password], capture_output=True, text=True)
    if result.returncode != 0:
        raise DeviceError(f"mosquitto_passwd failed: {result.stderr.strip() or result.stdout.strip()}")
    acl = acl_file.read_text(encoding="utf-8")
    if f"\nuser {user}\n" not in acl:
        with acl_file.open("a", encoding="utf-8") as out:
            out.write(acl_block(plant, device, sparkplug, edge=edge))
    return user


def add_arguments(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "devices", help="MQTT credentials of the plants' devices (Mosquitto password file and ACL)",
        description="MQTT credentials of the plants' devices (Mosquitto password file and ACL)",
    )
    sub = parser.add_subparsers(dest="devices_command", required=True)
    add = sub.add_parser(
        "add", help="add or reset a device's credentials; prints its password once",
        description="Add (or reset) a device's password and ACL block. Restart the broker afterwards "
        "(docker compose restart mosquitto) so it reads them.",
    )
    add.add_argument("--plant", required=True, help="plant id")
    add.add_argument("--device", required=True, help="device id")
    add.add_argument("--password-file", type=Path, default=DEPLOY_DIR / "passwd", help="default deploy/mosquitto/passwd")
    add.add_argument("--acl-file", type=Path, default=DEPLOY_DIR / "acl", help="default deploy/mosquitto/acl")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin instead of generating one")
    add.add_argument("--sparkplug", metavar="GROUP/EDGE", help="a Sparkplug B gateway: it also publishes as this group's edge node")
    add.add_argument("--edge", action="store_true",
                     help="a `wastewatch edge` box (--device is its WASTEWATCH_EDGE_ID): it sets the status of every device "
                          "of its plant and publishes its health")
    add.set_defaults(func=cmd_add)
    return parser


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    password = sys.stdin.readline().strip() if args.password_stdin else secrets.token_urlsafe(24)
    if len(password) < 12:
        print("wastewatch devices: a password needs at least 12 characters", file=sys.stderr)
        return 2
    sparkplug = None
    if args.sparkplug is not None:
        group, _, edge = args.sparkplug.partition("/")
        sparkplug = (group, edge)
    try:
        user = add_device(args.plant, args.device, password, args.password_file, args.acl_file, sparkplug, edge=args.edge)
    except DeviceError as exc:
        print(f"wastewatch devices: {exc}", file=sys.stderr)
        return 2
    print(f"user: {user}")
    if not args.password_stdin:
        print(f"password: {password}")
    print(f"the device may publish under plants/{args.plant}/ only; restart the broker to apply")
    return 0
