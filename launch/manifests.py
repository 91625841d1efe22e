"""`wastewatch manifests import|watch|reconcile|statement`: the waste manifests (Festronik exports as
CSV or XLSX) and the mass balance.

`import FILE` parses the file, stores its good rows in the relational database (`manifests`), and
prints what it stored, what was already stored, the duplicates and each refused row with its number
(exit 0 when every row was taken, 1 when some were refused, 2 when the file is no manifest table).
`watch DIR` polls the folder: each file that has stopped growing is imported once and moved to
`DIR/imported/` (its report beside it, `*.report.txt`); a file that is no manifest table goes to
`DIR/rejected/` with its reason; with `--reconcile` it also judges the previous and the current month
after each import and every `WASTEWATCH_MANIFESTS_RECONCILE_EVERY_S` (the running job). `reconcile` judges a month's manifests against the weighed batches
and writes the discrepancies as regulatory alerts into the alert database (the alert worker's sender
delivers them); `statement` prints a hospital's monthly statement (or writes it as PDF).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from alerts.manifest_alerts import active_subjects, apply_manifest_findings
from alerts.regulatory import open_regulatory_alerts
from alerts.settings import AlertSettings
from compliance.jobs import DayHook
from launch.arguments import UsageError, select_plant
from wastewatch.errors import ConfigError
from wastewatch.manifests.parse import ManifestFileError, facility_lookup, parse_manifest_file
from wastewatch.manifests.reading import reconcile_month
from wastewatch.manifests.reconcile import ManifestFinding, PlantMonth, without_manifest_cleared
from wastewatch.manifests.settings import ManifestSettings
from wastewatch.manifests.table import ImportReport, file_imported, import_manifests
from wastewatch.plant import PlantConfig, load_catalog
from wastewatch.points import Store, StoreError
from wastewatch.relational import Database, DatabaseError, connect_database
from wastewatch.settings import InfluxSettings, Settings, describe_settings, load
from wastewatch.store import open_store

logger = logging.getLogger(__name__)

SETTINGS = (Settings, InfluxSettings, ManifestSettings, AlertSettings)
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
MAX_FILE_BYTES = 20 * 1024 * 1024
Handler = Callable[[argparse.Namespace, Settings], int]


def _guarded(handler: Handler) -> Handler:
    def run(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return handler(args, settings)
        except UsageError as exc:
            print(f"wastewatch manifests: {exc}", file=sys.stderr)
            return 2
        except StoreError as exc:
            print(f"wastewatch manifests: the time-series store failed: {exc}", file=sys.stderr)
            return 1

    return run


def _now_ms() -> int:
    return int(time.time() * 1000)


def import_file(db: Database, plant: PlantConfig, path: Path, manifests: ManifestSettings, now_ms: int) -> ImportReport:
    """Parse and store one file; `ManifestFileError` when it is no manifest table."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ManifestFileError(f"{path.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    data = path.read_bytes()
    parsed = parse_manifest_file(data, path.name, facility_lookup((f.id, f.name) for f in plant.facilities),
                                 extra_aliases=manifests.headers)
    return import_manifests(db, plant.id, parsed, name=path.name, sha256=hashlib.sha256(data).hexdigest(), now_ms=now_ms)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    plant = select_plant(load_catalog(settings.plant_config), args.plant)
    manifests = load(ManifestSettings, demo=settings.demo)
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no file {args.file!r}")
    db = connect_database(settings)
    try:
        report = import_file(db, plant, path, manifests, _now_ms())
    except ManifestFileError as exc:
        print(f"wastewatch manifests: {path.name}: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    print("\n".join(report.lines()))
    return 1 if report.problems or report.duplicates else 0


class FolderWatch:
    """One pass over a folder: import each file that has stopped growing, once, and move it away."""

    def __init__(self, db: Database, plant: PlantConfig, folder: Path, manifests: ManifestSettings, *, settle: bool = True) -> None:
        self.db, self.plant, self.folder, self.manifests, self.settle = db, plant, folder, manifests, settle
        self._sizes: dict[Path, tuple[int, float]] = {}
        (folder / "imported").mkdir(parents=True, exist_ok=True)
        (folder / "rejected").mkdir(parents=True, exist_ok=True)

    def _ready(self, path: Path) -> bool:
        stat = path.stat()
        mark = (stat.st_size, stat.st_mtime)
        previous, self._sizes[path] = self._sizes.get(path), mark
        return not self.settle or previous == mark

    def poll(self, now_ms: int) -> list[str]:
        lines: list[str] = []
        for path in sorted(self.folder.iterdir()):
            if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in (".csv", ".xlsx", ".xlsm", ".txt"):
                continue
            if not self._ready(path):
                continue
            self._sizes.pop(path, None)
            try:
                data_hash = hashlib.sha256(path.read_bytes()).hexdigest()
                if file_imported(self.db, self.plant.id, data_hash):
                    lines.append(f"{path.name}: imported before (same content), moved to imported/")
                    self._move(path, "imported")
                    continue
                report = import_file(self.db, self.plant, path, self.manifests, now_ms)
            except ManifestFileError as exc:
                target = self._move(path, "rejected")
                target.with_name(target.name + ".reason.txt").write_text(f"{exc}\n", encoding="utf-8")
                lines.append(f"{path.name}: not imported: {exc}")
                continue
            target = self._move(path, "imported")
            target.with_name(target.name + ".report.txt").write_text("\n".join(report.lines()) + "\n", encoding="utf-8")
            lines += report.lines()
        return lines

    def _move(self, path: Path, where: str) -> Path:
        target = self.folder / where / path.name
        if target.exists():
            stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S%f")
            target = target.with_name(f"{path.stem}.{stamp}{path.suffix}")
        shutil.move(str(path), target)
        return target


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    plant = select_plant(load_catalog(settings.plant_config), args.plant)
    manifests = load(ManifestSettings, demo=settings.demo)
    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"no folder {args.folder!r}")
    db = connect_database(settings)
    last_reconciled = 0.0
    try:
        watch = FolderWatch(db, plant, folder, manifests, settle=not args.once)
        while True:
            now_ms = _now_ms()
            imported = watch.poll(now_ms)
            for line in imported:
                print(line, flush=True)
            if args.reconcile and (imported or time.monotonic() - last_reconciled >= manifests.reconcile_every_s):
                for line in reconcile(settings, plant, _months(args, plant, now_ms), now_ms):
                    print(line, flush=True)
                last_reconciled = time.monotonic()
            if args.once:
                return 0
            time.sleep(manifests.poll_s)
    except KeyboardInterrupt:
        return 0
    finally:
        db.close()


def _months(args: argparse.Namespace, plant: PlantConfig, now_ms: int) -> list[str]:
    if args.month:
        if not MONTH.fullmatch(args.month):
            raise UsageError(f"--month {args.month!r} is not a month: write YYYY-MM, e.g. 2026-11")
        return [args.month]
    local = datetime.fromtimestamp(now_ms / 1000, tz=plant.zone).date().replace(day=1)
    previous = (local.replace(year=local.year - 1, month=12) if local.month == 1 else local.replace(month=local.month - 1))
    return [previous.strftime("%Y-%m"), local.strftime("%Y-%m")]


def reconcile(settings: Settings, plant: PlantConfig, months: list[str], now_ms: int) -> list[str]:
    """Judge the months and write their findings as regulatory alerts; one line per alert change."""
    manifests = load(ManifestSettings, demo=settings.demo)
    catalog = load_catalog(settings.plant_config)
    store = open_store(settings)
    bridge, alerts_db = open_regulatory_alerts(settings, load(AlertSettings, demo=settings.demo), catalog)
    lines: list[str] = []
    try:
        findings: list[ManifestFinding] = []
        for month in months:
            result = reconcile_month(alerts_db, store, plant, month, manifests, now_ms)
            findings += result.findings
            lines.append(_balance_line(result.statement))
        active = active_subjects(bridge, plant.id, "regulatory_manifest_without_manifest")
        findings += without_manifest_cleared(active, findings, plant.id, now_ms)
        for change in apply_manifest_findings(bridge, findings):
            lines.append(f"  alert {change.kind}: {change.alert.rule_id} {change.alert.subject}: {change.alert.message}")
    finally:
        alerts_db.close()
        store.close()
    return lines


def reconcile_after_day(settings: Settings) -> DayHook:
    """An `after_day` hook for `ComplianceJobs` (`wastewatch compliance` runs it): after each judged day the
    manifests of its month and of the month before (late batches still come) are reconciled and their
    findings raised or cleared; a failure is logged, not raised, and the next day tries again."""

    def hook(store: Store, plant: PlantConfig, day: date, now_ms: int) -> list[str]:
        first = day.replace(day=1)
        previous = first.replace(year=first.year - 1, month=12) if first.month == 1 else first.replace(month=first.month - 1)
        try:
            return reconcile(settings, plant, [previous.strftime("%Y-%m"), first.strftime("%Y-%m")], now_ms)
        except (StoreError, DatabaseError, ConfigError) as exc:
            logger.error("manifest reconciliation after the day job failed plant=%s day=%s: %s", plant.id, day, exc)
            return []

    return hook


def _balance_line(s: PlantMonth) -> str:
    return (f"{s.plant} {s.month}: declared {s.declared_kg:g} kg, weighed {s.weighed_kg:g} kg "
            f"(difference {s.difference_kg:+g} kg); bunker stock: not measured")


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    plant = select_plant(load_catalog(settings.plant_config), args.plant)
    now_ms = _now_ms()
    for line in reconcile(settings, plant, _months(args, plant, now_ms), now_ms):
        print(line)
    return 0


def statement_lines(s: PlantMonth, facility: str | None) -> list[str]:
    lines = [_balance_line(s), f"  {s.note}"]
    for f in s.facilities:
        if facility is not None and f.facility != facility:
            continue
        lines.append(f"{f.name} ({f.facility}): {f.manifests} manifests, declared {f.declared_kg:g} kg, received under them "
                     f"{f.received_kg:g} kg ({f.difference_kg:+g} kg); weighed from it in {f.month} {f.weighed_kg:g} kg in "
                     f"{f.batches} batches, {f.without_manifest_kg:g} kg without a manifest; {len(f.open_findings)} open discrepancies")
        lines += [f"  {b.manifest.manifest_no}: declared {b.manifest.declared_kg:g} kg, received {b.received_kg:g} kg, {b.state}"
                  for b in f.balances]
        lines += [f"  open: {x.message}" for x in f.open_findings]
    return lines


def cmd_statement(args: argparse.Namespace, settings: Settings) -> int:
    plant = select_plant(load_catalog(settings.plant_config), args.plant)
    now_ms = _now_ms()
    month = _months(args, plant, now_ms)[-1]
    if args.facility is not None and args.facility not in {f.id for f in plant.facilities}:
        raise UsageError(f"unknown facility {args.facility!r} (known: {', '.join(f.id for f in plant.facilities)})")
    manifests = load(ManifestSettings, demo=settings.demo)
    store, db = open_store(settings), connect_database(settings)
    try:
        result = reconcile_month(db, store, plant, month, manifests, now_ms)
    finally:
        db.close()
        store.close()
    if args.pdf:
        # lazy: the PDF renderer (fpdf2) only for --pdf
        from api.reports.manifest_statement import render_statement_pdf

        Path(args.pdf).write_bytes(render_statement_pdf(result.statement, plant, args.facility, args.lang, manifests.tolerance))
        print(f"wrote {args.pdf}")
        return 0
    print("\n".join(statement_lines(result.statement, args.facility)))
    return 0


def add_arguments(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `manifests` (import, watch, reconcile, statement) to the `wastewatch` parser's subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "manifests", help="Waste manifests (CSV/XLSX from Festronik) and the mass balance: import, watch a folder, reconcile, statement.",
        description=__doc__, epilog=describe_settings(*SETTINGS), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="manifests_command", metavar="{import,watch,reconcile,statement}", required=True)
    imp = sub.add_parser("import", help="import one CSV or XLSX manifest file")
    imp.add_argument("file", help="the .csv or .xlsx file")
    imp.set_defaults(func=_guarded(cmd_import))
    watch = sub.add_parser("watch", help="import each file dropped into a folder, then move it to imported/")
    watch.add_argument("folder", help="the folder to poll")
    watch.add_argument("--once", action="store_true", help="one pass, then exit (files are not waited on to settle)")
    watch.add_argument("--reconcile", action="store_true",
                       help="also reconcile the previous and current month into alerts after each import and every "
                            "WASTEWATCH_MANIFESTS_RECONCILE_EVERY_S")
    watch.add_argument("--month", help="with --reconcile: judge this month, YYYY-MM (default: the previous and the current)")
    watch.set_defaults(func=_guarded(cmd_watch))
    rec = sub.add_parser("reconcile", help="judge a month's manifests against the weighed batches; discrepancies become alerts")
    rec.add_argument("--month", help="YYYY-MM (default: the previous and the current month)")
    rec.set_defaults(func=_guarded(cmd_reconcile))
    st = sub.add_parser("statement", help="a month's statement per hospital: declared, weighed, open discrepancies")
    st.add_argument("--month", help="YYYY-MM (default: the current month)")
    st.add_argument("--facility", help="one facility id (default: all)")
    st.add_argument("--pdf", help="write the statement as PDF to this file")
    st.add_argument("--lang", choices=("id", "en"), default="id", help="the PDF's language (default id)")
    st.set_defaults(func=_guarded(cmd_statement))
    for p in (imp, watch, rec, st):
        p.add_argument("--plant", help="plant id (default: the catalogue's only plant)")
