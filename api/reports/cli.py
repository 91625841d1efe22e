"""`wastewatch report`: one plant report to a file (or stdout), or `--schedule` to e-mail the monthly
report on the cron until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from typing import cast

from alerts.schema import open_database
from api.reports.messages import Language
from api.settings import ReportSettings
from api.summaries.periods import PeriodError, parse_period
from api.summaries.rollup import rollup_command
from wastewatch.errors import InvalidRequest
from wastewatch.plant import PlantConfig, load_catalog
from wastewatch.points import Store
from wastewatch.runtime import wait_for_signal
from wastewatch.settings import InfluxSettings, Settings, SmtpSettings, describe_settings, load
from wastewatch.store import open_store

SETTINGS = (Settings, InfluxSettings, SmtpSettings, ReportSettings)


def add_arguments(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add `report` to the `wastewatch` parser's subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help="Write a monthly, quarterly or annual plant report (JSON, CSV, HTML, PDF), or e-mail it on a schedule.",
        description="wastewatch report --plant kotim --period 2026-11|2026-Q4|2026 --format pdf --lang id -o FILE",
        epilog=describe_settings(*SETTINGS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "action", nargs="?", choices=("rollup",),
        help="rollup: rebuild the daily rollups the summaries read (after late data, a restore or a change of limits)",
    )
    parser.add_argument("--since", help="rollup: first local day YYYY-MM-DD")
    parser.add_argument("--until", help="rollup: local day YYYY-MM-DD to stop before (default: today; only ended days are rolled up)")
    parser.add_argument("--plant", help="plant id (default: the only plant of the catalogue)")
    parser.add_argument("--period", help="YYYY-MM, YYYY-Qn or YYYY on the plant's calendar")
    parser.add_argument("--format", dest="fmt", choices=("json", "csv", "html", "pdf", "xlsx"), default="pdf",
                        help="json, csv, html or pdf; with --cems: xlsx or pdf")
    parser.add_argument("--cems", action="store_true",
                        help="the quarterly CEMS report (laporan triwulan, Bahasa Indonesia) of a quarter YYYY-Qn, as XLSX or PDF")
    parser.add_argument("--lang", choices=("id", "en"), default="id")
    parser.add_argument("-o", "--output", help="file to write (default: stdout)")
    parser.add_argument("--schedule", action="store_true", help="e-mail last month's report at WASTEWATCH_REPORTS_CRON until Ctrl-C")
    parser.add_argument("--send-now", action="store_true", help="e-mail last month's report once, now")
    parser.set_defaults(func=cmd_report)
    return parser


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    # lazy: the renderers (matplotlib, fpdf2: tens of MB) load only when a report is made, not with the command line
    from api.reports.mailer import ReportJob, ReportMailError, start_report_scheduler
    from api.reports.render import Format, render_report
    from api.reports.report import build_report

    logging.getLogger("fontTools").setLevel(logging.WARNING)  # fpdf2's font subsetting logs every glyph at INFO
    catalog = load_catalog(settings.plant_config)
    if args.action == "rollup":
        return rollup_command(settings, catalog, args.plant, args.since, args.until)
    reports = load(ReportSettings, demo=settings.demo)
    store = open_store(settings)
    alert_db = open_database(settings)
    try:
        if args.schedule:
            scheduler = start_report_scheduler(settings, reports, store, catalog, alert_db=alert_db)
            try:
                wait_for_signal(threading.Event())
            finally:
                scheduler.shutdown()
            return 0
        plant = catalog.get(args.plant) if args.plant else (next(iter(catalog)) if len(catalog) == 1 else None)
        if plant is None:
            print(f"wastewatch report: name a plant with --plant ({', '.join(catalog.ids)})", file=sys.stderr)
            return 2
        if args.send_now:
            ReportJob(settings, reports, store, alert_db=alert_db).run(plant)
            return 0
        if not args.period:
            print("wastewatch report: --period is required (YYYY-MM, YYYY-Qn or YYYY)", file=sys.stderr)
            return 2
        if args.cems:
            body = _cems_report(store, plant, args.period, args.fmt)
        elif args.fmt == "xlsx":
            print("wastewatch report: xlsx is the quarterly CEMS report's format: add --cems", file=sys.stderr)
            return 2
        else:
            report = build_report(store, plant, args.period, alert_db=alert_db)
            body, _ = render_report(report, cast(Format, args.fmt), cast(Language, args.lang))
        if args.output:
            with open(args.output, "wb") as out:
                out.write(body)
        else:
            sys.stdout.buffer.write(body)
        return 0
    except (PeriodError, ReportMailError, InvalidRequest) as exc:
        print(f"wastewatch report: {exc}", file=sys.stderr)
        return 2
    finally:
        alert_db.close()
        store.close()


def _cems_report(store: Store, plant: PlantConfig, period: str, fmt: str) -> bytes:
    # lazy: openpyxl and fpdf2 load only when a report is made
    from api.reports.cems_quarter import build_cems_quarter
    from api.reports.cems_quarter_render import render_cems_quarter

    if fmt not in ("xlsx", "pdf"):
        raise InvalidRequest(f"the quarterly CEMS report is xlsx or pdf, not {fmt}")
    quarter = build_cems_quarter(store, plant, parse_period(period, plant.zone), now_ms=time.time_ns() // 1_000_000)
    return render_cems_quarter(quarter, "xlsx" if fmt == "xlsx" else "pdf")[0]
