"""`wastewatch ledger seal|roots` and `wastewatch verify`: the tamper-evident records (`wastewatch.ledger`).

Sealing reads a plant's local day from both stores (its averages, days and the amendments made that
day from the time-series store; its alert transitions and the site's API audit rows from the
relational database), builds the day's leaves and Merkle root and appends the day to `ledger_days`
after the chain's last one. A day is final once its compliance day job has run: `ledger seal` seals
through the last such day (`--through` up to it), from the day after the last sealed one or, for a
plant's first seal, from `--from` or its oldest record; `sealing_hook` seals from the day job itself.

`verify` recomputes every sealed day's leaves of the period from the stores, checks the chain from
the first sealed day, and prints OK with the day count and the last chain hash, or the first record
that no longer matches (changed, missing, added), exit 1.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta

from alerts.lifecycle import Lifecycle
from alerts.schema import create_schema
from api.keys import key_statements
from compliance.jobs import DayHook, wall_clock_ms
from compliance.ledger_records import amendment_records, result_records, target_hashes
from compliance.settings import ComplianceSettings
from launch.arguments import UsageError, parse_day, select_plant
from wastewatch.compliance.pipeline import plan_series
from wastewatch.compliance.profiles import load_bundled_profiles, select_profiles
from wastewatch.compliance.results import EMISSION_AVG, EMISSION_DAY
from wastewatch.compliance.windows import day_bounds_ms, local_day
from wastewatch.ledger.check import RowDays, SealedDay, Verdict, add_statements, expected_hashes, seal, verify
from wastewatch.ledger.hashing import GENESIS
from wastewatch.ledger.leaves import Record
from wastewatch.ledger.table import append_day, create_ledger_table, last_sealed, sealed_days
from wastewatch.ledger.trails import Span, alert_transitions, audit_rows, max_ids
from wastewatch.plant import PlantConfig, load_catalog
from wastewatch.points import Store, StoreError
from wastewatch.relational import Database, DatabaseError, connect_database
from wastewatch.settings import InfluxSettings, Settings, describe_settings, load
from wastewatch.store import open_store

logger = logging.getLogger(__name__)

SETTINGS = (Settings, InfluxSettings, ComplianceSettings)
AFTER_DAY_JOB_MIN = 45
"""A day is final this long after the day job's start (`WASTEWATCH_COMPLIANCE_DAY_AT_MIN` past local midnight)."""
READ_DAYS = 7
"""Days read at once: a week of 10-minute averages is 1,008 rows per series, under InfluxDB's 10,000."""
PERIOD = re.compile(r"(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])))?")
Handler = Callable[[argparse.Namespace, Settings], int]


# -- reading a plant's records ---------------------------------------------------------------------


def open_ledger_database(settings: Settings) -> Database:
    """The relational database with the tables the ledger reads and writes (each created by its owner's DDL)."""
    db = connect_database(settings)
    prepare_database(db)
    return db


def prepare_database(db: Database) -> None:
    create_schema(db)
    db.script(key_statements(db.dialect.id_column))
    create_ledger_table(db)


def _runs(first: date, last: date) -> Iterator[tuple[date, date]]:
    while first <= last:
        yield first, min(last, first + timedelta(days=READ_DAYS - 1))
        first += timedelta(days=READ_DAYS)


def day_records(
    store: Store, db: Database, plant: PlantConfig, first: date, last: date, amendments: Sequence[Record],
    span: Span, row_days: RowDays,
) -> dict[date, list[Record]]:
    """Every record of the local days [first, last] as stored now, per day: the results by their time,
    `amendments` (the plant's) by the day they were made, the trail rows of `span` by `row_days`."""
    out: dict[date, list[Record]] = {}
    day = first
    while day <= last:
        out[day] = []
        day += timedelta(days=1)
    for lo_day, hi_day in _runs(first, last):
        lo, hi = day_bounds_ms(lo_day, plant.zone)[0], day_bounds_ms(hi_day, plant.zone)[1]
        for record in result_records(store, plant.id, plant.zone, lo, hi):
            out[record.day].append(record)
    for amendment in amendments:
        if amendment.day in out:
            out[amendment.day].append(amendment)
    for row in alert_transitions(db, plant.id, plant.zone, span) + audit_rows(db, plant.zone, span):
        placed = row_days.day_of(row)
        if placed is not None and placed in out:
            out[placed].append(replace(row, day=placed))
    return out


def oldest_day(store: Store, db: Database, plant: PlantConfig) -> date | None:
    """The local day of the plant's oldest record, None when it has none."""
    times = [p.time_ms for m in (EMISSION_AVG, EMISSION_DAY) for p in store.select(m, where={"plant": plant.id}, limit=1)]
    for row in (
        db.query_one("SELECT MIN(t.at_ms) AS t FROM alert_transitions t JOIN alerts a ON a.id = t.alert_id WHERE a.plant = ?", (plant.id,)),
        db.query_one("SELECT MIN(at_ms) AS t FROM api_audit"),
    ):
        if row is not None and row["t"] is not None:
            times.append(int(row["t"]))
    return local_day(min(times), plant.zone) if times else None


# -- sealing and verifying -------------------------------------------------------------------------


def final_day(plant: PlantConfig, now_ms: int, day_at_min: int) -> date:
    """The last local day whose day job has run by `now_ms` (and had AFTER_DAY_JOB_MIN to finish)."""
    return local_day(now_ms - (day_at_min + AFTER_DAY_JOB_MIN) * 60_000, plant.zone) - timedelta(days=1)


def seal_through(
    store: Store, db: Database, plant: PlantConfig, through: date, now_ms: int, first: date | None = None,
) -> list[SealedDay]:
    """Seal the plant's days after its last sealed one (or from `first`, else its oldest record) through
    `through`; the days sealed, in order (none when all are). Sealing stops before a day that has
    averages but not the daily results its profiles call for: its day job has not run, and the days it
    writes would read as added to a sealed day."""
    judged = any(s.day_basis for s in plan_series(plant, select_profiles(plant.compliance_profiles, load_bundled_profiles())))
    last = last_sealed(db, plant.id)
    if last is not None:
        start = last.day + timedelta(days=1)
    else:
        start = first or oldest_day(store, db, plant) or through
    if start > through:
        return []
    before = sealed_days(db, plant.id)
    expected = expected_hashes(before)
    previous = last.chain if last is not None else GENESIS
    marks = max_ids(db)  # first: a row written while this runs waits for the next seal
    made = [a for a in amendment_records(store, plant.id, plant.zone, day_bounds_ms(through, plant.zone)[1]) if start <= a.day <= through]
    days = [start + timedelta(days=i) for i in range((through - start).days + 1)]
    row_days = RowDays([(d.day, d.watermarks) for d in before] + [(d, marks) for d in days])
    prior = dict(last.watermarks) if last is not None else {}
    out: list[SealedDay] = []
    for lo_day, hi_day in _runs(start, through):
        span = Span(day_bounds_ms(lo_day, plant.zone)[0], day_bounds_ms(hi_day, plant.zone)[1], prior, marks)
        records = day_records(store, db, plant, lo_day, hi_day, made, span, row_days)
        for day in sorted(records):
            if judged and _unjudged(records[day]):
                logger.warning("ledger seal stopped plant=%s day=%s: averages without daily results (day job not run)", plant.id, day)
                return _sealed(out, plant, through)
            todays = [r for r in records[day] if r.target]
            targets = target_hashes(store, plant.id, plant.zone, todays)
            sealed = seal(plant.id, day, records[day], previous, expected, targets, now_ms, marks)
            append_day(db, sealed)  # UNIQUE (plant, day) and (plant, previous_chain): a concurrent sealer fails here
            add_statements(expected, [sealed])
            previous = sealed.chain
            out.append(sealed)
        prior = marks  # the run's rows above the old watermark went into its first days
    return _sealed(out, plant, through)


def _unjudged(records: Sequence[Record]) -> bool:
    kinds = {r.kind for r in records}
    return EMISSION_AVG in kinds and EMISSION_DAY not in kinds


def _sealed(out: list[SealedDay], plant: PlantConfig, through: date) -> list[SealedDay]:
    logger.info("ledger sealed plant=%s days=%d through=%s", plant.id, len(out), through)
    return out


def verify_plant(store: Store, db: Database, plant: PlantConfig, first: date | None = None, last: date | None = None) -> Verdict:
    """Verify the plant's chain and the records of its sealed days in [first, last] (all without bounds)."""
    days = sealed_days(db, plant.id)
    checked = [d.day for d in days if (first is None or d.day >= first) and (last is None or d.day <= last)]
    if not checked:
        return verify(days, [], {}, [])
    amendments = amendment_records(store, plant.id, plant.zone)
    earlier = [d for d in days if d.day < checked[0]]
    upto = next(d for d in reversed(days) if d.day == checked[-1]).watermarks
    span = Span(day_bounds_ms(checked[0], plant.zone)[0], day_bounds_ms(checked[-1], plant.zone)[1],
                earlier[-1].watermarks if earlier else {}, upto)
    row_days = RowDays([(d.day, d.watermarks) for d in days])
    current = day_records(store, db, plant, checked[0], checked[-1], amendments, span, row_days)
    unsealed = [a for a in amendments if a.day > days[-1].day]
    return verify(days, checked, current, unsealed)


SealedHook = Callable[[SealedDay], None]


def sealing_hook(db: Database, on_sealed: SealedHook | None = None) -> DayHook:
    """An `after_day` hook for `ComplianceJobs`: the judged day is final, so seal through it (sealed at
    the jobs' clock), then hand each sealed day to `on_sealed` (the agency's notification). A store or
    database failure is logged, not raised: the day's results are kept and the next seal catches up."""

    def seal_after_day(store: Store, plant: PlantConfig, day: date, now_ms: int) -> list[SealedDay]:
        try:
            sealed = seal_through(store, db, plant, day, now_ms)
            if on_sealed is not None:
                for one in sealed:
                    on_sealed(one)
            return sealed
        except (StoreError, DatabaseError) as exc:
            logger.error("ledger seal after the day job failed plant=%s day=%s: %s", plant.id, day, exc)
            return []

    return seal_after_day


def agency_notice(lifecycle: Lifecycle) -> SealedHook:
    """`on_sealed` that sends each sealed day's root and chain hash to the agency through the alert outbox."""

    def notify(day: SealedDay) -> None:
        lifecycle.notify_sealed_day(day.plant, day.day.isoformat(), day.root, day.chain, len(day.leaves), day.sealed_at_ms)

    return notify


# -- the commands -----------------------------------------------------------------------------------


def parse_period(text: str) -> tuple[date, date]:
    """`2026-11`, `2026-Q4`, `2026`, `2026-11-28` or `2026-11-01..2026-11-15` as [first, last] days."""
    if ".." in text:
        start, _, end = text.partition("..")
        first, last = parse_day(start, "--period"), parse_day(end, "--period")
        if last < first:
            raise UsageError(f"--period {text!r} ends before it starts")
        return first, last
    if len(text) == 10:
        day = parse_day(text, "--period")
        return day, day
    match = PERIOD.fullmatch(text)
    if match is None:
        raise UsageError(f"--period {text!r}: write 2026-11, 2026-Q4, 2026, 2026-11-28 or 2026-11-01..2026-11-15")
    year = int(match["year"])
    if match["month"]:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise UsageError(f"--period {text!r}: no month {month}")
        first, months = date(year, month, 1), 1
    elif match["quarter"]:
        first, months = date(year, 3 * int(match["quarter"]) - 2, 1), 3
    else:
        first, months = date(year, 1, 1), 12
    after = first.month - 1 + months
    return first, date(year + after // 12, after % 12 + 1, 1) - timedelta(days=1)


def _days(count: int) -> str:
    return "day" if count == 1 else "days"


def _plants(settings: Settings, plant_id: str | None) -> list[PlantConfig]:
    catalog = load_catalog(settings.plant_config)
    return [select_plant(catalog, plant_id)] if plant_id is not None else list(catalog)


def _guarded(handler: Handler) -> Handler:
    """A store failure: exit 1 with one line (bad input and database errors: exit 2 by `launch.cli.main`)."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        try:
            return handler(args, settings)
        except StoreError as exc:
            print(f"wastewatch: the time-series store failed: {exc}", file=sys.stderr)
            return 1

    return run


def cmd_seal(args: argparse.Namespace, settings: Settings) -> int:
    plants = _plants(settings, args.plant)
    day_at_min = load(ComplianceSettings, demo=settings.demo).day_at_min
    first = parse_day(args.first, "--from") if args.first else None
    store, db = open_store(settings), open_ledger_database(settings)
    stopped = False
    try:
        now = wall_clock_ms()
        for plant in plants:
            final = final_day(plant, now, day_at_min)
            through = parse_day(args.through, "--through") if args.through else final
            if through > final:
                raise UsageError(f"--through {through} is not final yet in {plant.timezone}: the last day its day job has run is {final}")
            sealed = seal_through(store, db, plant, through, now, first)
            if sealed:
                print(f"{plant.id}: sealed {len(sealed)} {_days(len(sealed))} {sealed[0].day} to {sealed[-1].day}, "
                      f"{sum(len(d.leaves) for d in sealed)} records; chain {sealed[-1].chain}")
            reached = last_sealed(db, plant.id)
            if reached is None or reached.day < through:
                stop = reached.day + timedelta(days=1) if reached is not None else first or oldest_day(store, db, plant) or through
                print(f"{plant.id}: stopped before {stop}: it has averages but no daily results, its day job has not run "
                      f"(wastewatch compliance run-day --plant {plant.id} --date {stop}, then seal again)")
                stopped = True
            elif not sealed:
                print(f"{plant.id}: nothing to seal through {through}")
    finally:
        store.close()
        db.close()
    return 1 if stopped else 0


def cmd_roots(args: argparse.Namespace, settings: Settings) -> int:
    plants = _plants(settings, args.plant)
    first, last = parse_period(args.period) if args.period else (None, None)
    db = open_ledger_database(settings)
    try:
        for plant in plants:
            for day in sealed_days(db, plant.id, first, last):
                print(f"{plant.id} {day.day} root {day.root} chain {day.chain} ({len(day.leaves)} records)")
    finally:
        db.close()
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    plants = _plants(settings, args.plant)
    first, last = parse_period(args.period) if args.period else (None, None)
    store, db = open_store(settings), open_ledger_database(settings)
    failed = False
    try:
        for plant in plants:
            verdict = verify_plant(store, db, plant, first, last)
            if verdict.mismatch is not None:
                print(f"{plant.id}: FAILED, {verdict.mismatch.describe(plant.id)}")
                failed = True
            elif verdict.days == 0:
                print(f"{plant.id}: no sealed day{' in ' + args.period if args.period else ''} (wastewatch ledger seal)")
                failed = True
            else:
                amended = f"; {verdict.amended + verdict.pending} results amended ({verdict.pending} not yet sealed)" if (
                    verdict.amended or verdict.pending) else ""
                print(f"{plant.id}: OK, {verdict.days} sealed {_days(verdict.days)} checked{amended}; "
                      f"last chain hash {verdict.last_chain} ({verdict.last_day})")
    finally:
        store.close()
        db.close()
    return 1 if failed else 0


def add_arguments(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `ledger` (seal, roots) and `verify` to the `wastewatch` parser's subcommands."""
    epilog = describe_settings(*SETTINGS)
    ledger: argparse.ArgumentParser = subparsers.add_parser(
        "ledger", help="Seal plant days into the tamper-evident ledger, or print their roots.",
        description="The tamper-evident records: each plant's local days sealed as Merkle roots in a hash chain (ledger_days).",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ledger.add_subparsers(dest="ledger_command", metavar="{seal,roots}", required=True)
    seal_cmd = sub.add_parser("seal", help="seal the days after the last sealed one through the last final day (or --through)")
    seal_cmd.add_argument("--through", help="the last local day to seal, YYYY-MM-DD (default: the last day whose day job has run)")
    seal_cmd.add_argument("--from", dest="first", help="a plant's first seal starts here (default: its oldest record)")
    seal_cmd.set_defaults(func=_guarded(cmd_seal))
    roots = sub.add_parser("roots", help="each sealed day's Merkle root and chain hash")
    roots.add_argument("--period", help="2026-11, 2026-Q4, 2026, a day or DAY..DAY (default: all)")
    roots.set_defaults(func=cmd_roots)
    check: argparse.ArgumentParser = subparsers.add_parser(
        "verify", help="Check the sealed days against the stores: OK with the last chain hash, or the first record that changed (exit 1).",
        description="Recompute every sealed day's leaves from the stores and check the chain; amendments made through the "
                    "compliance recomputation verify as amended.",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("--period", help="2026-11, 2026-Q4, 2026, a day or DAY..DAY (default: every sealed day)")
    check.set_defaults(func=_guarded(cmd_verify))
    for p in (seal_cmd, roots, check):
        p.add_argument("--plant", help="plant id (default: every plant of the catalogue)")

