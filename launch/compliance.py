"""`wastewatch compliance`: run the compliance jobs on the plants' clocks; `run-day`, `recompute` and
`show` for operators.

Wired by `launch.cli.build_parser` with `add_arguments(sub)`; every handler takes
`(args, settings)` and returns the exit code. Bad input ends with exit 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.regulatory import open_regulatory_alerts
from alerts.settings import AlertSettings
from api.summaries.rollup import RollupReport, rollup_after_day
from compliance.jobs import LATE_DATA, ComplianceJobs, DayHook, JobReport, wall_clock_ms
from compliance.kpi_reader import read_kpis
from compliance.result_store import read_averages, read_days
from compliance.scheduler import ComplianceService
from compliance.settings import ComplianceSettings
from launch.arguments import DATE_PATTERN, UsageError, parse_day, select_plant
from launch.ledger import SealedHook, agency_notice, open_ledger_database, sealing_hook
from launch.manifests import reconcile_after_day
from wastewatch.compliance.amendments import Amendment
from wastewatch.compliance.daily import v4_status
from wastewatch.compliance.kpis import PlantKpis
from wastewatch.compliance.pipeline import Series
from wastewatch.compliance.profiles import ProfileError
from wastewatch.compliance.quality import DISCARDED, QualityCode
from wastewatch.compliance.results import AverageRecord, DayRecord
from wastewatch.compliance.windows import day_bounds_ms
from wastewatch.manifests.settings import ManifestSettings
from wastewatch.plant import load_catalog
from wastewatch.points import Store, StoreError
from wastewatch.relational import Database
from wastewatch.runtime import wait_for_signal
from wastewatch.settings import InfluxSettings, Settings, describe_settings, load
from wastewatch.store import open_store

SETTINGS = (Settings, InfluxSettings, ComplianceSettings, AlertSettings, ManifestSettings)  # the alert settings: where findings are routed; the manifests: reconciled after each day job
Handler = Callable[[argparse.Namespace, Settings], int]


def add_arguments(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add `compliance` and its subcommands to the `wastewatch` parser's subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "compliance",
        help="Run the compliance jobs (validated averages, days, amendments), or run and show one plant day.",
        description=(
            "Without a subcommand: run the half-hour jobs, the abnormal-operation clock every minute and the day job"
            " (which also keeps the summaries' roll-ups) on each plant's local clock until Ctrl-C."
        ),
        epilog=describe_settings(*SETTINGS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=cmd_run)
    sub = parser.add_subparsers(dest="compliance_command", metavar="{run,run-day,recompute,show}")
    sub.add_parser("run", help="run the scheduled jobs (the default)").set_defaults(func=cmd_run)
    run_day = sub.add_parser("run-day", help="recompute every window of a local day, judge the day, keep the roll-ups")
    run_day.add_argument("--date", required=True, help="the plant's local calendar day, YYYY-MM-DD")
    run_day.set_defaults(func=_guarded(cmd_run_day))
    recompute = sub.add_parser("recompute", help="recompute the local days a time range touches (late data), with amendments")
    recompute.add_argument("--from", dest="start", required=True, help="RFC 3339 time with offset, or a local date (its midnight)")
    recompute.add_argument("--to", dest="end", required=True, help="RFC 3339 time with offset, or a local date (through its end)")
    recompute.add_argument("--reason", default=LATE_DATA, help=f"recorded with each amendment (default {LATE_DATA!r})")
    recompute.set_defaults(func=_guarded(cmd_recompute))
    show = sub.add_parser("show", help="a day's stored results per profile and pollutant, and the plant KPIs")
    show.add_argument("--date", required=True, help="the plant's local calendar day, YYYY-MM-DD")
    show.set_defaults(func=_guarded(cmd_show))
    for p in (run_day, recompute, show):
        p.add_argument("--plant", help="plant id (default: the only plant of the catalogue)")
    return parser


def _guarded(handler: Handler) -> Handler:
    """Bad input and profile errors: exit 2; a store failure: exit 1; one line on stderr either way."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return handler(args, settings)
        except (UsageError, ProfileError) as exc:
            print(f"wastewatch compliance: {exc}", file=sys.stderr)
            return 2
        except StoreError as exc:
            print(f"wastewatch compliance: the time-series store failed: {exc}", file=sys.stderr)
            return 1

    return run


def parse_instant_ms(text: str, zone: ZoneInfo, option: str, *, end_of_day: bool) -> int:
    """An RFC 3339 time with an offset, or a local date: its midnight, or the next one with `end_of_day`."""
    if DATE_PATTERN.fullmatch(text):
        return day_bounds_ms(parse_day(text, option), zone)[1 if end_of_day else 0]
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is neither an RFC 3339 time (2026-11-28T14:00:00+07:00) nor a date") from None
    if when.tzinfo is None:
        raise UsageError(f"{option} {text!r} has no UTC offset: add one (+07:00, Z) or give a plain local date")
    return int(when.timestamp() * 1000)


def open_jobs(
    store: Store, ledger: Database | None = None, *, clock_ms: Callable[[], int] = wall_clock_ms, on_sealed: SealedHook | None = None,
    more: Sequence[DayHook] = (),
) -> ComplianceJobs:
    """The jobs as `wastewatch compliance` runs them: each day job then keeps the summaries' roll-ups and,
    with `ledger`, seals the judged day into the tamper-evident ledger (`launch.ledger`) and hands it to
    `on_sealed` (the agency's notification); then the `more` hooks (the manifests' reconciliation)."""
    hooks: list[DayHook] = [rollup_after_day]
    if ledger is not None:
        hooks.append(sealing_hook(ledger, on_sealed))
    hooks += more
    return ComplianceJobs(store, clock_ms=clock_ms, after_day=hooks)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:

    catalog = load_catalog(settings.plant_config)
    store = open_store(settings)
    # Findings become regulatory alerts in the alert database; the alert worker's sender delivers them.
    compliance = load(ComplianceSettings, demo=settings.demo)
    regulatory, alerts_db = open_regulatory_alerts(settings, load(AlertSettings, demo=settings.demo), catalog)
    ledger = open_ledger_database(settings)  # its own connection: the jobs' threads seal while findings are written
    try:
        service = ComplianceService(
            open_jobs(store, ledger, on_sealed=agency_notice(regulatory.lifecycle), more=[reconcile_after_day(settings)]), catalog, settle_s=compliance.settle_s, day_at_min=compliance.day_at_min,
            on_findings=regulatory.apply,
        )
        service.start()
    except ProfileError as exc:
        store.close()
        alerts_db.close()
        ledger.close()
        print(f"wastewatch compliance: {exc}", file=sys.stderr)
        return 2
    try:
        wait_for_signal(threading.Event())
    finally:
        service.stop()
        store.close()
        alerts_db.close()
        ledger.close()
    return 0


def cmd_run_day(args: argparse.Namespace, settings: Settings) -> int:
    day = parse_day(args.date)
    plant = select_plant(load_catalog(settings.plant_config), args.plant)
    store = open_store(settings)
    ledger = open_ledger_database(settings)
    try:
        jobs = open_jobs(store, ledger)
        start_ms, end_ms = day_bounds_ms(day, plant.zone)
        now_ms = jobs.clock_ms()
        if start_ms >= now_ms:
            raise UsageError(f"--date {day} has not begun yet in {plant.timezone}")
        report = jobs.run_day(plant, day)
        print(f"{plant.id} {day}: {_summary(report)}")
        if end_ms > now_ms:
            print(f"the day is not over in {plant.timezone}: its closed windows are stored, the day is judged after midnight")
        _print_days(jobs.series(plant), {d.key: d for d in report.days}, report.averages, None)
        _print_amendments(report.amendments, plant.zone)
        for kept in report.after_day:
            if isinstance(kept, RollupReport):
                print(f"roll-ups kept: {kept.days} days and {kept.months} months")
            elif isinstance(kept, list) and kept:
                print(f"sealed into the ledger: {', '.join(str(sealed.day) for sealed in kept)}")
    finally:
        store.close()
        ledger.close()
    return 0


def cmd_recompute(args: argparse.Namespace, settings: Settings) -> int:
    plant = select_plant(load_catalog(settings.plant_config), args.plant)
    start_ms = parse_instant_ms(args.start, plant.zone, "--from", end_of_day=False)
    end_ms = parse_instant_ms(args.end, plant.zone, "--to", end_of_day=True)
    if end_ms <= start_ms:
        raise UsageError(f"--to {args.end!r} is not after --from {args.start!r}")
    store = open_store(settings)
    try:
        report = ComplianceJobs(store).recompute(plant, start_ms, end_ms, reason=args.reason)
        print(f"{plant.id} {_local(start_ms, plant.zone)} to {_local(end_ms, plant.zone)}: {_summary(report)}")
        _print_amendments(report.amendments, plant.zone)
    finally:
        store.close()
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    day = parse_day(args.date)
    plant = select_plant(load_catalog(settings.plant_config), args.plant)
    store = open_store(settings)
    try:
        series = ComplianceJobs(store).series(plant)
        start_ms, end_ms = day_bounds_ms(day, plant.zone)
        days = read_days(store, plant.id, plant.zone, start_ms, end_ms)
        averages = list(read_averages(store, plant.id, start_ms, end_ms).values())
        kpis = read_kpis(store, plant, start_ms, end_ms)
    finally:
        store.close()
    print(f"{plant.id} ({plant.name}) {day}, local time {plant.timezone}")
    print("daily averages:")
    _print_days(series, days, averages, kpis)
    if not days:
        print(f"  (no day results stored yet: wastewatch compliance run-day --date {day})")
    print("short averages (valid / stored):")
    for line in _window_lines(averages):
        print(line)
    print(_kpi_line(kpis))
    return 0


def _summary(report: JobReport) -> str:
    return (f"{len(report.averages)} averages and {len(report.days)} days computed, {report.written} written, "
            f"{len(report.amendments)} amended")


def _print_days(
    series: Iterable[Series], days: dict[tuple[str, str, int], DayRecord], averages: Iterable[AverageRecord],
    kpis: PlantKpis | None,
) -> None:
    """One line per profile and pollutant that has a daily average, judged yet or not."""
    by_series: dict[tuple[str, str, str], list[AverageRecord]] = {}
    for avg in averages:
        by_series.setdefault((avg.profile, avg.pollutant, avg.period), []).append(avg)
    for s in series:
        if not s.day_basis:
            continue
        record = next((d for d in days.values() if (d.profile, d.pollutant) == (s.profile.id, s.pollutant)), None)
        windows = "half-hours" if s.period == "30min" else "hours"
        availability = kpis.data_availability.get("/".join(s.key)) if kpis is not None else None
        extra = "" if availability is None else f", data availability {availability:.0%}"
        label = f"  {s.profile.id:<26} {s.pollutant:<6}"
        if record is None:
            stored = by_series.get(s.key, [])
            n_valid = sum(1 for a in stored if a.quality == QualityCode.VALID)
            n_discarded = sum(1 for a in stored if a.quality in DISCARDED)
            print(f"{label} not judged; {windows} so far: {n_valid} valid, {n_discarded} discarded{extra}")
            continue
        v4 = f", V4 {v4_status(record.n_discarded)}" if record.basis == "30min" else ""
        print(
            f"{label} {_value(record.value, s.sensor.unit):>14} {record.quality.value:<17} "
            f"valid={'yes' if record.valid else 'no'}; {windows}: {record.n_valid} valid, "
            f"{record.n_discarded} discarded{v4}{extra}"
        )


def _window_lines(averages: Iterable[AverageRecord]) -> list[str]:
    """Per profile and period, how many stored windows of each pollutant are valid."""
    counts: dict[tuple[str, str], dict[str, list[int]]] = {}
    for avg in averages:
        tally = counts.setdefault((avg.profile, avg.period), {}).setdefault(avg.pollutant, [0, 0])
        tally[0] += avg.quality == QualityCode.VALID
        tally[1] += 1
    return [
        f"  {profile:<26} {period:<6} " + ", ".join(f"{p} {v}/{n}" for p, (v, n) in sorted(pollutants.items()))
        for (profile, period), pollutants in sorted(counts.items())
    ] or ["  none stored"]


def _print_amendments(amendments: Iterable[Amendment], zone: ZoneInfo) -> None:
    for a in amendments:
        print(
            f"  amended {a.profile}/{a.pollutant}/{a.period} {_local(a.start_ms, zone)}: "
            f"{a.old_quality.value} {_value(a.old_value, '')} -> {a.new_quality.value} {_value(a.new_value, '')} ({a.reason})"
        )


def _kpi_line(kpis: PlantKpis) -> str:
    availability = "-" if kpis.availability is None else f"{kpis.availability:.0%}"
    throughput = "" if kpis.throughput_kg_h is None else f", throughput {kpis.throughput_kg_h:.1f} kg/h"
    return (f"KPIs: tonnage {kpis.tonnes:.3f} t, operating hours {kpis.operating_h:.2f} h, "
            f"plant availability {availability}{throughput}")


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:.{digits}f} {unit}".rstrip()


def _local(time_ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(time_ms / 1000, tz=zone).strftime("%Y-%m-%d %H:%M")
