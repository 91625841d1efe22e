"""The daily rollups the summaries read: rollup plus raw edges equals the raw sum to the gram across
local month ends, on InfluxDB and SQLite; late batches are taken in by rolling up again; the compliance
counts and data availability are the same from the rollup as from the stored results; the CLI rebuild;
the compliance day job, scheduled or run by hand, keeps them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from api.summaries import Tonnage, compliance_summary, month_period, parse_period, tonnage, uptime
from api.summaries.cells import raw_cells
from api.summaries.rollup import COUNT_DAY, COUNT_MONTH, ROLLUP_DAY, ROLLUP_MONTH, TONNAGE_DAY, rollup, rollup_recent_days
from compliance.scheduler import ComplianceService
from launch.compliance import open_jobs
from tests.test_cli import run_cli
from tests.test_summaries import JKT, engine_day, ms, write_engine_day, write_month
from wastewatch.compliance.profiles import Profile, load_bundled_profiles
from wastewatch.compliance.quality import QualityCode as Q
from wastewatch.compliance.results import AverageRecord
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Point, Store
from wastewatch.records import Batch
from wastewatch.store.sqlite import SqliteStore

SOURCES = ("rsud-murjani", "puskesmas-baamang", "klinik-perkebunan")


@pytest.fixture
def kotim(catalog: PlantCatalog) -> PlantConfig:
    plant = catalog.get("kotim")
    assert plant is not None
    return plant


def batches_around_month_ends() -> list[Batch]:
    """Three batches a day 29 Oct - 3 Dec (local), some at 00:00 and 23:59 (the other UTC day), some without a code."""
    found: list[Batch] = []
    for n, day in enumerate(date.fromordinal(d) for d in range(date(2026, 10, 29).toordinal(), date(2026, 12, 4).toordinal())):
        for i, (h, mi) in enumerate(((0, 0), (9, 17), (23, 59))):
            grams = 10_000 + 137 * n + 1_001 * i
            code = None if (n + i) % 4 == 0 else f"A337-{1 + (n + i) % 2}"
            found.append(Batch("kotim", f"{day}-{i}", ms(day.year, day.month, day.day, h, mi), grams / 1000, SOURCES[(n + i) % 3], code))
    return found


def expected_grams(batches: list[Batch], start_ms: int, end_ms: int) -> int:
    return sum(round(b.mass_kg * 1000) for b in batches if start_ms <= b.time_ms < end_ms)


RANGES = [
    ("2026-11", None),
    ("2026-Q4", None),
    ("edges", (ms(2026, 10, 30, 15, 30), ms(2026, 12, 2, 10))),  # partial first day, partial today
    ("one day", (ms(2026, 11, 15), ms(2026, 11, 16))),
    ("inside a day", (ms(2026, 11, 15, 9), ms(2026, 11, 15, 23, 59, ))),
]


def bounds(label: str, explicit: tuple[int, int] | None) -> tuple[int, int]:
    if explicit is not None:
        return explicit
    period = parse_period(label, JKT)
    return period.start_ms, period.end_ms


def test_rollup_and_raw_edges_equal_the_raw_sum_to_the_gram_across_month_ends(store: Store, kotim: PlantConfig) -> None:
    batches = batches_around_month_ends()
    store.write([b.to_point() for b in batches])
    now = ms(2026, 12, 2, 11)  # 2 December is today: not rolled up, served raw
    before = {label: tonnage(store, kotim, *bounds(label, r), by="day") for label, r in RANGES}

    report = rollup(store, kotim, ms(2026, 10, 1), ms(2026, 12, 31), now_ms=now)
    assert report.days == 62  # 1 Oct - 1 Dec; 2 Dec has not ended
    assert report.months == 2  # October and November are whole and over; December is not
    assert report.grams == expected_grams(batches, ms(2026, 10, 1), ms(2026, 12, 2))

    for label, r in RANGES:
        start, end = bounds(label, r)
        after = tonnage(store, kotim, start, end, by="day")
        assert after == before[label], label
        assert after.mass_g == expected_grams(batches, start, end), label
        assert after.batches == sum(1 for b in batches if start <= b.time_ms < end), label
    nov = month_period(2026, 11, JKT)
    assert tonnage(store, kotim, nov.start_ms, nov.end_ms, by="month").buckets[0].mass_g == expected_grams(batches, nov.start_ms, nov.end_ms)
    q4 = parse_period("2026-Q4", JKT)
    by_month = {b.key: b.mass_g for b in tonnage(store, kotim, q4.start_ms, q4.end_ms, by="month").buckets}
    assert by_month["2026-10"] == expected_grams(batches, ms(2026, 10, 1), ms(2026, 11, 1))
    assert by_month["2026-12"] == expected_grams(batches, ms(2026, 12, 1), ms(2027, 1, 1))  # 1 Dec rolled up, 2-3 Dec raw

    stored = store.select(TONNAGE_DAY, where={"plant": "kotim"}, start_ms=ms(2026, 11, 1), end_ms=ms(2026, 12, 1))
    assert all(isinstance(p.fields["grams"], int) and isinstance(p.fields["batches"], int) for p in stored)
    assert {p.time_ms for p in stored} <= {ms(2026, 11, d) for d in range(1, 31)}  # at local midnight
    assert {p.tags.get("waste_code") for p in stored} == {"A337-1", "A337-2", "-"}


def test_late_batches_are_taken_in_by_rolling_the_day_up_again(store: Store, kotim: PlantConfig) -> None:
    batches = batches_around_month_ends()
    store.write([b.to_point() for b in batches])
    rollup(store, kotim, ms(2026, 10, 1), ms(2026, 12, 2), now_ms=ms(2026, 12, 2, 0, 15))
    nov = month_period(2026, 11, JKT)

    late = Batch("kotim", "late", ms(2026, 11, 28, 23, 30), 12.345, "rsud-murjani", "A337-2")  # back-filled on 2 December
    store.write([late.to_point()])
    stale = tonnage(store, kotim, nov.start_ms, nov.end_ms)
    assert stale.mass_g == expected_grams(batches, nov.start_ms, nov.end_ms)  # the rollup does not know it yet

    report = rollup_recent_days(store, kotim, now_ms=ms(2026, 12, 3, 0, 15))  # the day job's hook on 3 December
    assert report.days == 7
    fresh = tonnage(store, kotim, nov.start_ms, nov.end_ms)
    assert fresh.mass_g == expected_grams(batches + [late], nov.start_ms, nov.end_ms) == stale.mass_g + 12_345
    assert fresh == _without_rollup(store, kotim, nov.start_ms, nov.end_ms)

    count_before = len(store.select(TONNAGE_DAY, where={"plant": "kotim"}))
    rollup(store, kotim, ms(2026, 10, 1), ms(2026, 12, 3), now_ms=ms(2026, 12, 3, 0, 15))  # again: the same points
    assert len(store.select(TONNAGE_DAY, where={"plant": "kotim"})) == count_before
    assert tonnage(store, kotim, nov.start_ms, nov.end_ms) == fresh


def test_a_stored_cell_without_batches_any_more_is_overwritten_with_zeros(store: Store, kotim: PlantConfig) -> None:
    store.write([Batch("kotim", "b", ms(2026, 11, 5, 10), 1.234, "rsud-murjani", "A337-1").to_point()])
    ghost = Point(TONNAGE_DAY, {"plant": "kotim", "source": "gone", "waste_code": "A337-1"}, {"grams": 999, "batches": 1}, ms(2026, 11, 5))
    store.write([ghost])
    rollup(store, kotim, ms(2026, 11, 1), ms(2026, 12, 1), now_ms=ms(2026, 12, 1, 1))
    result = tonnage(store, kotim, ms(2026, 11, 1), ms(2026, 12, 1))
    assert (result.mass_g, [s.key for s in result.by_facility]) == (1234, ["rsud-murjani"])


def test_days_across_a_dst_change_roll_up_on_the_local_calendar(store: Store, kotim: PlantConfig) -> None:
    berlin = kotim.model_copy(update={"timezone": "Europe/Berlin"})  # CEST -> CET on 25 October 2026
    assert berlin.zone.key == "Europe/Berlin"

    def local(d: int, h: int, mi: int = 0) -> int:
        return int(datetime(2026, 10, d, h, mi, tzinfo=berlin.zone).timestamp() * 1000)

    batches = [Batch("kotim", f"{d}-{h}", local(d, h, mi), 1 + d / 1000, "rsud-murjani", "A337-1")
               for d in range(20, 31) for h, mi in ((0, 0), (12, 0), (23, 59))]
    store.write([b.to_point() for b in batches])
    before = tonnage(store, berlin, local(20, 0), local(31, 0))
    rollup(store, berlin, local(20, 0), local(31, 0), now_ms=local(31, 12))
    after = tonnage(store, berlin, local(20, 0), local(31, 0))
    assert after == before
    assert {b.key: b.batches for b in after.buckets} == {f"2026-10-{d}": 3 for d in range(20, 31)}
    assert after.mass_g == sum(round(b.mass_kg * 1000) for b in batches)


def _without_rollup(store: Store, plant: PlantConfig, start_ms: int, end_ms: int) -> Tonnage:
    """What the raw batches alone say: the cells summed straight from `batch`."""
    cells = raw_cells(store, plant, start_ms, end_ms)
    result = tonnage(store, plant, start_ms, end_ms)
    assert sum(g for g, _ in cells.values()) == result.mass_g and sum(n for _, n in cells.values()) == result.batches
    return result


# --- compliance counts and data availability ----------------------------------------------------------

def test_compliance_summary_is_the_same_from_the_rollup(store: Store, kotim: PlantConfig) -> None:
    engine_day(store, kotim)  # 10 November: averages, days and an exceedance, by the engine
    nov = month_period(2026, 11, JKT)
    ranges = [(nov.start_ms, nov.end_ms), (ms(2026, 11, 9, 12), ms(2026, 11, 11, 6)), (ms(2026, 11, 10, 9), ms(2026, 11, 10, 10))]
    before = [compliance_summary(store, kotim, *r) for r in ranges]
    assert before[0].pollutants == before[1].pollutants  # counted by the store (30 days) and here (under 2 days)
    assert before[0].exceedances >= 1

    report = rollup(store, kotim, nov.start_ms, nov.end_ms, now_ms=ms(2026, 12, 1, 0, 15))
    assert report.months == 1
    assert len(store.select(ROLLUP_MONTH, where={"plant": "kotim"})) == 1 and store.select(COUNT_MONTH, where={"plant": "kotim"})
    assert [compliance_summary(store, kotim, *r) for r in ranges] == before
    q4 = parse_period("2026-Q4", JKT)  # November from its month, October and December from the stored results
    assert compliance_summary(store, kotim, q4.start_ms, q4.end_ms).pollutants == before[0].pollutants


def test_changed_limits_are_not_served_from_a_rollup_counted_against_others(store: Store, kotim: PlantConfig) -> None:
    engine_day(store, kotim)
    nov = month_period(2026, 11, JKT)
    rollup(store, kotim, nov.start_ms, nov.end_ms, now_ms=ms(2026, 12, 1, 0, 15))
    profiles = load_bundled_profiles()
    eu = profiles["eu-ied-annex-vi"]
    stricter = [lim.model_copy(update={"value": 1.0}) if lim.pollutant == "co" else lim for lim in eu.limits]
    changed: dict[str, Profile] = {**profiles, eu.id: eu.model_copy(update={"limits": stricter})}
    result = compliance_summary(store, kotim, nov.start_ms, nov.end_ms, profiles=changed)
    co = next(p for p in result.pollutants if (p.profile, p.pollutant) == (eu.id, "co"))
    a100 = next(x for x in co.limits if x.rule == "A100")
    assert a100.limit_value == 1.0 and a100.exceedances == a100.valid_averages > 0  # every CO half-hour is over 1


def test_uptime_is_the_same_from_the_rollup(store: Store, kotim: PlantConfig) -> None:
    write_month(store)
    nov = month_period(2026, 11, JKT)
    ranges = [(nov.start_ms, nov.end_ms), (ms(2026, 11, 3, 12), ms(2026, 11, 28, 12)), (ms(2026, 10, 1), ms(2027, 1, 1))]
    before = [uptime(store, kotim, *r) for r in ranges]
    rollup(store, kotim, ms(2026, 10, 1), ms(2026, 12, 1), now_ms=ms(2026, 12, 15))
    after = [uptime(store, kotim, *r) for r in ranges]
    assert after == before
    co = next(p for p in after[0].data_availability if p.pollutant == "co")
    assert (co.valid_hours, co.discarded_hours, co.eu_discarded_half_hours) == (450, 60, 75)


# --- the rebuild command ---------------------------------------------------------------------------

def test_report_rollup_rebuilds_a_range(tmp_path: Path, kotim: PlantConfig) -> None:
    store = SqliteStore(tmp_path / "timeseries.sqlite3")
    batches = batches_around_month_ends()
    store.write([b.to_point() for b in batches])
    store.close()
    env = {"WASTEWATCH_DATA_DIR": str(tmp_path)}
    result = run_cli("report", "rollup", "--plant", "kotim", "--since", "2026-10-01", "--until", "2026-11-01", env=env)
    assert result.returncode == 0, result.stderr
    assert "kotim: 31 days and 1 months rolled up" in result.stdout
    store = SqliteStore(tmp_path / "timeseries.sqlite3")
    try:
        assert len(store.select(ROLLUP_DAY, where={"plant": "kotim"})) == 31
        oct_ = month_period(2026, 10, JKT)
        expected = expected_grams(batches, oct_.start_ms, oct_.end_ms)
        assert expected > 0 and tonnage(store, kotim, oct_.start_ms, oct_.end_ms).mass_g == expected
    finally:
        store.close()
    bad = run_cli("report", "rollup", "--since", "yesterday", env=env)
    assert bad.returncode == 2 and "rollup" in bad.stderr


def test_the_scheduled_day_job_keeps_the_rollups_the_summaries_are_served_from(store: Store, kotim: PlantConfig) -> None:
    write_engine_day(store)  # 10 November: CEMS readings, no results yet
    store.write([Batch("kotim", "b", ms(2026, 11, 10, 9), 25.5, "rsud-murjani", "A337-1").to_point()])
    now = [ms(2026, 11, 11, 0, 15)]
    service = ComplianceService(open_jobs(store, clock_ms=lambda: now[0]), [kotim])  # as `wastewatch compliance` builds it

    service.day(kotim)  # what the scheduler fires at 00:15 on 11 November: judges the 10th, then rolls up
    assert [p.time_ms for p in store.select(ROLLUP_DAY, where={"plant": "kotim"})] == [ms(2026, 11, d) for d in range(4, 11)]
    assert [p.time_ms for p in store.select(COUNT_DAY, where={"plant": "kotim"})] == [ms(2026, 11, d) for d in range(4, 11)]
    day = (ms(2026, 11, 10), ms(2026, 11, 11))
    served = (tonnage(store, kotim, *day), compliance_summary(store, kotim, *day))
    assert served[0].mass_g == 25_500 and served[1].exceedances >= 1

    # Served from the roll-ups: results and batches stored after the job are not in the summaries
    # until the next night's job rolls the day up again.
    late = Batch("kotim", "late", ms(2026, 11, 10, 11), 1.0, "rsud-murjani", "A337-1")
    over = AverageRecord("kotim", "eu-ied-annex-vi", "co", "30min", ms(2026, 11, 10, 13), Q.VALID, 150.0, 155.0, 5.0, 30, 0, 30, "1")
    store.write([late.to_point(), over.to_point()])
    assert (tonnage(store, kotim, *day), compliance_summary(store, kotim, *day)) == served

    now[0] = ms(2026, 11, 12, 0, 15)
    service.day(kotim)
    fresh = (tonnage(store, kotim, *day), compliance_summary(store, kotim, *day))
    assert fresh[0].mass_g == 26_500 and fresh[1].exceedances == served[1].exceedances + 1


def test_run_day_keeps_the_rollups(tmp_path: Path, kotim: PlantConfig) -> None:
    store = SqliteStore(tmp_path / "timeseries.sqlite3")
    write_engine_day(store)
    store.write([Batch("kotim", "b", ms(2026, 11, 10, 9), 25.5, "rsud-murjani", "A337-1").to_point()])
    store.close()
    result = run_cli("compliance", "run-day", "--plant", "kotim", "--date", "2026-11-10", env={"WASTEWATCH_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "roll-ups kept" in result.stdout
    store = SqliteStore(tmp_path / "timeseries.sqlite3")
    try:
        # an operator's run-day of a day older than a week rolls that day up too (the nightly job would not)
        assert ms(2026, 11, 10) in {p.time_ms for p in store.select(ROLLUP_DAY, where={"plant": "kotim"})}
        day = (ms(2026, 11, 10), ms(2026, 11, 11))
        served = compliance_summary(store, kotim, *day)
        assert served.exceedances >= 1 and tonnage(store, kotim, *day).mass_g == 25_500
        store.write([Batch("kotim", "late", ms(2026, 11, 10, 11), 1.0, "rsud-murjani", "A337-1").to_point()])
        assert tonnage(store, kotim, *day).mass_g == 25_500  # from the roll-up, not the batches
    finally:
        store.close()
