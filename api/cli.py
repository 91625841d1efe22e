"""`wastewatch api` serves the API with uvicorn; `wastewatch keys issue|revoke|list` manages API keys;
`wastewatch users add|passwd|disable|list` the console's users.

Wired by `launch.cli.build_parser` with `add_arguments(sub)`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable

from alerts.schema import open_database
from api.keys import KeyConflict, KeyNotFound, KeyStore
from api.roles import ROLE_ORDER, Role
from api.settings import ApiSettings
from api.users import UserConflict, UserNotFound, UserStore
from wastewatch.plant import load_catalog
from wastewatch.settings import BrokerSettings, InfluxSettings, Settings, describe_settings, load

SETTINGS = (Settings, InfluxSettings, BrokerSettings, ApiSettings)


def add_arguments(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `api` and `keys` to the `wastewatch` parser's subcommands."""
    api = subparsers.add_parser(
        "api", help="Serve the HTTP API (OpenAPI docs at /docs).", description="Serve the HTTP API with uvicorn until Ctrl-C.",
        epilog=describe_settings(*SETTINGS), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    api.set_defaults(func=cmd_api)
    keys = subparsers.add_parser(
        "keys", help="Issue, revoke and list API keys.", description="API keys live in the alert database, as SHA-256 hashes.",
        epilog=describe_settings(Settings), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = keys.add_subparsers(dest="keys_command", metavar="{issue,revoke,list}", required=True)
    issue = sub.add_parser("issue", help="issue a key and print it once")
    issue.add_argument("--name", required=True, help="who holds it; the audit trail names this")
    issue.add_argument("--role", required=True, choices=[r.value for r in ROLE_ORDER])
    issue.add_argument("--plant", action="append", metavar="ID", dest="plants",
                       help="scope the key to this plant (repeat for several); left out: every plant")
    issue.set_defaults(func=cmd_issue)
    revoke = sub.add_parser("revoke", help="revoke a key by name or key id")
    revoke.add_argument("key", help="the key's name or its 8-digit key id")
    revoke.set_defaults(func=cmd_revoke)
    listing = sub.add_parser("list", help="the keys (never their secrets)")
    listing.add_argument("--all", action="store_true", help="revoked ones too")
    listing.set_defaults(func=cmd_list)
    users = subparsers.add_parser(
        "users", help="Add, change and list the console's users.",
        description="People who log in to the console (apart from API keys), in the alert database; passwords as Argon2id hashes.",
        epilog=describe_settings(Settings), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    user_sub = users.add_subparsers(dest="users_command", metavar="{add,passwd,disable,list}", required=True)
    add = user_sub.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("name", help="the login name; the audit trail names this")
    add.add_argument("--role", required=True, choices=[r.value for r in ROLE_ORDER])
    add.add_argument("--plant", action="append", metavar="ID", dest="plants",
                     help="scope the user to this plant (repeat for several); left out: every plant")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input (scripts)")
    add.set_defaults(func=cmd_user_add)
    passwd = user_sub.add_parser("passwd", help="set a user's password (the user's sessions end)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input (scripts)")
    passwd.set_defaults(func=cmd_user_passwd)
    disable = user_sub.add_parser("disable", help="stop a user from logging in (the user's sessions end)")
    disable.add_argument("name")
    disable.set_defaults(func=cmd_user_disable)
    user_list = user_sub.add_parser("list", help="the users (never their passwords)")
    user_list.set_defaults(func=cmd_user_list)


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    # lazy: FastAPI, uvicorn and every route load only when `wastewatch api` runs
    import uvicorn

    from api.app import create_app

    api = load(ApiSettings, demo=settings.demo)
    app = create_app(settings, api)
    # uvicorn's access log holds method, path and query only: keys travel in a header, never in the URL
    uvicorn.run(app, host=api.host, port=api.port, log_level=settings.log_level.lower())
    return 0


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _now_ms() -> int:
    return round(time.time() * 1000)


def _scope(plants: tuple[str, ...] | None) -> str:
    return "plants=" + (",".join(plants) if plants is not None else "*")


def cmd_issue(args: argparse.Namespace, settings: Settings) -> int:
    if unknown := _unknown_plants(settings, args.plants):
        print(f"wastewatch keys issue: no plant {', '.join(map(repr, unknown))}; known: {', '.join(load_catalog(settings.plant_config).ids)}")
        return 1
    db = open_database(settings)
    try:
        issued = KeyStore(db).issue(args.name, Role(args.role), _actor(), _now_ms(), plants=args.plants)
    except (KeyConflict, ValueError) as exc:
        print(f"wastewatch keys issue: {exc}")
        return 1
    finally:
        db.close()
    print(f"issued key_id={issued.key.key_id} name={issued.key.name} role={issued.key.role.value} {_scope(issued.key.plants)}")
    print("the key (shown once, store it now):")
    print(issued.secret_key)
    return 0


def cmd_revoke(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    try:
        key = KeyStore(db).revoke(args.key, _actor(), _now_ms())
    except KeyNotFound as exc:
        print(f"wastewatch keys revoke: {exc}")
        return 1
    finally:
        db.close()
    print(f"revoked key_id={key.key_id} name={key.name}")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    try:
        keys = KeyStore(db).list_keys(include_revoked=args.all)
    finally:
        db.close()
    for k in keys:
        state = "revoked" if k.revoked_at_ms is not None else "live"
        print(f"{k.key_id} {k.name:<24} {k.role.value:<9} {state:<7} {_scope(k.plants)}")
    if not keys:
        print("no keys")
    return 0


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _unknown_plants(settings: Settings, plants: list[str] | None) -> list[str]:
    catalog = load_catalog(settings.plant_config)
    return [p for p in plants or [] if catalog.get(p) is None]


def _on_users(settings: Settings, command: str, action: Callable[[UserStore], str]) -> int:
    """Run one `wastewatch users` action on the alert database; its line, or the refusal, printed."""
    db = open_database(settings)
    try:
        line = action(UserStore(db))
    except (UserConflict, UserNotFound, ValueError) as exc:
        print(f"wastewatch users {command}: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(line)
    return 0


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    if unknown := _unknown_plants(settings, args.plants):
        print(f"wastewatch users add: no plant {', '.join(map(repr, unknown))}; known: {', '.join(load_catalog(settings.plant_config).ids)}",
              file=sys.stderr)
        return 1

    def add(users: UserStore) -> str:
        user = users.add(args.name, Role(args.role), _password(args), _actor(), _now_ms(), plants=args.plants)
        return f"added user {user.name} role={user.role.value} {_scope(user.plants)}"

    return _on_users(settings, "add", add)


def cmd_user_passwd(args: argparse.Namespace, settings: Settings) -> int:
    def passwd(users: UserStore) -> str:
        users.set_password(args.name, _password(args), _actor(), _now_ms())
        return f"password set for {args.name}; the user's sessions ended"

    return _on_users(settings, "passwd", passwd)


def cmd_user_disable(args: argparse.Namespace, settings: Settings) -> int:
    return _on_users(settings, "disable",
                     lambda users: f"disabled user {users.disable(args.name, _actor(), _now_ms()).name}; the user's sessions ended")


def cmd_user_list(args: argparse.Namespace, settings: Settings) -> int:
    def listing(users: UserStore) -> str:
        rows = [f"{u.name:<24} {u.role.value:<9} {'active' if u.active else 'disabled':<8} {_scope(u.plants)}" for u in users.list_users()]
        return "\n".join(rows) or "no users"

    return _on_users(settings, "list", listing)
