"""`wastewatch dashboards build [--check]`: render the Grafana dashboards into the repository."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grafana.build import OUTPUT_DIR, build, drift
from wastewatch.settings import Settings


def add_arguments(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "dashboards", help="Grafana dashboards as code: build the JSON from grafana/*.dashboard.py",
        description="Grafana dashboards as code: build the JSON from grafana/*.dashboard.py",
    )
    sub = parser.add_subparsers(dest="dashboards_command", required=True)
    b = sub.add_parser("build", help="write grafana/dashboards/*.json (deterministic, sorted keys)")
    b.add_argument("--out", type=Path, default=OUTPUT_DIR, help=f"output folder (default {OUTPUT_DIR})")
    b.add_argument("--check", action="store_true", help="write nothing; exit 1 when the files differ from a fresh build")
    b.set_defaults(func=cmd_build)
    return parser


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    if args.check:
        problems = drift(args.out)
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    for path in build(args.out):
        print(f"wrote {path}")
    return 0
