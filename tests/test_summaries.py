"""Summaries against the real stores: tonnage to the gram on the plant's calendar, uptime and data
availability of a constructed month, compliance counts equal to the engine's records, alert response."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alerts.schema import open_database
from api.summaries import alert_response, compliance_summary, month_period, parse_period, tonnage, uptime
from compliance.jobs import ComplianceJobs
from wastewatch.compliance.profiles import load_bundled_profiles
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import DayRecord
from wastewatch.operating_state import OperatingState as S
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Point, Store
from wastewatch.records import PLANT_STATE, Batch, Reading
from wastewatch.relational import Database
from wastewatch.settings import Settings

JKT = ZoneInfo("Asia/Jakarta")  # UTC+7, no DST: the Kotim plant's zone


def ms(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=JKT).timestamp() * 1000)


@pytest.fixture
def kotim(catalog: PlantCatalog) -> PlantConfig:
    plant = catalog.get("kotim")
    assert plant is not None and plant.timezone == "Asia/Jakarta"
    return plant


@pytest.fixture
def alert_db(tmp_path: Path) -> Database:
    return open_database(Settings(data_dir=tmp_path, alerts_db_url=None))


def add_alert(db: Database, rule: str, severity: str, category: str, raised_ms: int, ack_ms: int | None, cleared_ms: int | None) -> int:
    return db.insert(
        "INSERT INTO alerts (plant, rule_id, subject, severity, category, source, title, active, acknowledged, ack_at_ms, "
        "first_seen_ms, raised_at_ms, last_seen_ms, cleared_at_ms, message) VALUES "
        "('kotim', ?, 'plant', ?, ?, 'test', ?, ?, ?, ?, ?, ?, ?, ?, 'm') RETURNING id",
        (rule, severity, category, rule, int(cleared_ms is None), int(ack_ms is not None), ack_ms,
         raised_ms, raised_ms, raised_ms, cleared_ms),
    )


# --- tonnage ----------------------------------------------------------------------------------------

def test_tonnage_sums_batches_to_the_gram_on_the_local_calendar(store: Store, kotim: PlantConfig) -> None:
    batches = [
        Batch("kotim", "b1", ms(2026, 10, 31, 23, 59), 50.000, "rsud-murjani", "A337-1"),   # October, local
        Batch("kotim", "b2", ms(2026, 11, 1, 0, 0), 12.345, "rsud-murjani", "A337-1"),
        Batch("kotim", "b3", ms(2026, 11, 2, 9, 15), 7.001, "puskesmas-baamang", "A337-2"),
        Batch("kotim", "b4", ms(2026, 11, 2, 10, 0), 0.999, "puskesmas-baamang", None),
        Batch("kotim", "b5", ms(2026, 11, 16, 8, 0), 33.333, "rsud-murjani", "A337-2"),
        Batch("kotim", "b6", ms(2026, 11, 30, 23, 30), 21.111, "klinik-perkebunan", "A337-1"),  # last day, 16:30 UTC
        Batch("kotim", "b7", ms(2026, 12, 1, 0, 10), 40.000, "rsud-murjani", "A337-1"),    # December, local
    ]
    store.write([b.to_point() for b in batches])
    nov = month_period(2026, 11, JKT)
    result = tonnage(store, kotim, nov.start_ms, nov.end_ms, by="day")

    # b2..b6 in grams: 12345 + 7001 + 999 + 33333 + 21111 = 74789
    assert result.mass_g == 12345 + 7001 + 999 + 33333 + 21111 == 74789
    assert str(result.tonnes) == "0.074789"
    assert result.batches == 5
    facility = {s.key: (s.mass_g, s.batches) for s in result.by_facility}
    assert facility == {
        "rsud-murjani": (12345 + 33333, 2),            # 45678
        "puskesmas-baamang": (7001 + 999, 2),          # 8000
        "klinik-perkebunan": (21111, 1),
    }
    assert {s.key: s.mass_g for s in result.by_waste_code} == {"A337-1": 12345 + 21111, "A337-2": 7001 + 33333, "-": 999}
    assert result.facilities_served == ("rsud-murjani", "klinik-perkebunan", "puskesmas-baamang")  # largest first
    days = {b.key: b.mass_g for b in result.buckets}
    assert len(days) == 30  # every day of November, empty ones included
    assert days["2026-11-01"] == 12345 and days["2026-11-02"] == 7001 + 999 and days["2026-11-30"] == 21111
    assert days["2026-11-15"] == 0

    weeks = tonnage(store, kotim, nov.start_ms, nov.end_ms, by="week")
    # ISO weeks: 1 Nov 2026 is a Sunday (W44); 2 Nov starts W45; 16 Nov is W47; 30 Nov is a Monday (W49)
    assert {b.key: b.mass_g for b in weeks.buckets if b.mass_g} == {
        "2026-W44": 12345, "2026-W45": 7001 + 999, "2026-W47": 33333, "2026-W49": 21111,
    }
    q4 = parse_period("2026-Q4", JKT)
    months = tonnage(store, kotim, q4.start_ms, q4.end_ms, by="month")
    assert {b.key: b.mass_g for b in months.buckets} == {"2026-10": 50000, "2026-11": 74789, "2026-12": 40000}
    assert months.mass_g == 50000 + 74789 + 40000


# --- uptime and data availability -------------------------------------------------------------------

DAILY = [(6, 0, S.PREHEAT), (7, 0, S.READY), (7, 30, S.BURNING), (17, 30, S.BURNOUT), (18, 30, S.SHUTDOWN), (19, 0, S.COLD)]
FAULT_DAY = 10
FAULT = [(6, 0, S.PREHEAT), (7, 0, S.READY), (7, 30, S.BURNING), (12, 0, S.SHUTDOWN), (12, 30, S.COLD)]


def state_point(at_ms: int, state: S) -> Point:
    return Point(PLANT_STATE, {"plant": "kotim"}, {"state": state.value, "from_state": "", "reason": "test"}, at_ms)


def day_point(profile: str, pollutant: str, day: date, basis: str, quality: QualityCode, n_valid: int, n_discarded: int) -> Point:
    start = ms(day.year, day.month, day.day)
    value = 5.0 if quality == QualityCode.VALID else None
    return DayRecord("kotim", profile, pollutant, day, start, basis, quality, value, n_valid, n_discarded, "1").to_point()


def write_month(store: Store) -> None:
    points = [state_point(ms(2026, 10, 31, 19), S.COLD)]
    for d in range(1, 31):
        for h, mi, state in FAULT if d == FAULT_DAY else DAILY:
            points.append(state_point(ms(2026, 11, d, h, mi), state))
        day = date(2026, 11, d)
        for pollutant in ("co", "dust"):
            # Indonesian hourly basis: days 1-20 valid (20 valid h, 1 discarded), 21-25 malfunction (10 and 8),
            # 26-30 no waste (not operated)
            if d <= 20:
                points.append(day_point("id-data-availability", pollutant, day, "1h", QualityCode.VALID, 20, 1))
            elif d <= 25:
                points.append(day_point("id-data-availability", pollutant, day, "1h", QualityCode.MALFUNCTION, 10, 8))
            else:
                points.append(day_point("id-data-availability", pollutant, day, "1h", QualityCode.NO_WASTE, 0, 0))
            # EU half-hour basis: days 1-27 valid with 2 discarded half-hours, 28-30 maintenance with 7
            if d <= 27:
                points.append(day_point("eu-ied-annex-vi", pollutant, day, "30min", QualityCode.VALID, 20, 2))
            else:
                points.append(day_point("eu-ied-annex-vi", pollutant, day, "30min", QualityCode.MAINTENANCE, 14, 7))
    store.write(points)


def test_uptime_of_a_constructed_month_equals_hand_computed_values(store: Store, kotim: PlantConfig, alert_db: Database) -> None:
    write_month(store)
    fault_alert = add_alert(alert_db, "fan_trip", "critical", "process", ms(2026, 11, FAULT_DAY, 11, 55), None, ms(2026, 11, FAULT_DAY, 14))
    nov = month_period(2026, 11, JKT)
    result = uptime(store, kotim, nov.start_ms, nov.end_ms, alert_db=alert_db)

    assert result.period_h == 30 * 24 == 720
    # available (READY, BURNING, BURNOUT) 07:00-18:30 = 11.5 h on 29 days; fault day 07:00-12:00 = 5 h
    assert result.available_h == pytest.approx(29 * 11.5 + 5) == 338.5
    # operating (BURNING, BURNOUT) 07:30-18:30 = 11 h on 29 days; fault day 07:30-12:00 = 4.5 h
    assert result.operating_h == pytest.approx(29 * 11 + 4.5) == 323.5
    assert result.plant_availability == pytest.approx(338.5 / 720)
    assert result.state_h["burnout"] == pytest.approx(29 * 1.0)

    # one run before the first start, one per night (29), one from the last evening to the month's end
    assert len(result.downtime) == 1 + 29 + 1
    first, fault = result.downtime[0], result.downtime[FAULT_DAY]
    assert (first.start_ms, first.end_ms, first.cause) == (nov.start_ms, ms(2026, 11, 1, 7), "unknown")
    assert (fault.start_ms, fault.end_ms) == (ms(2026, 11, FAULT_DAY, 12), ms(2026, 11, FAULT_DAY + 1, 7))
    assert (fault.cause, fault.alert_id) == ("alert:fan_trip", fault_alert)
    others = [i for n, i in enumerate(result.downtime) if n not in (0, FAULT_DAY)]
    assert {i.cause for i in others} == {"scheduled"}  # every other stop burnt out first
    assert result.downtime[-1].end_ms == nov.end_ms and result.downtime[-1].hours == pytest.approx(5.5)  # 18:30-24:00

    by_pollutant = {p.pollutant: p for p in result.data_availability}
    assert set(by_pollutant) == {"co", "dust"}
    co = by_pollutant["co"]
    assert co.valid_hours == 20 * 20 + 5 * 10 == 450
    assert co.discarded_hours == 20 * 1 + 5 * 8 == 60
    assert co.share == pytest.approx(450 / (450 + 60))
    assert (co.valid_days, co.operating_days) == (20, 25)  # days 26-30 did not operate
    (quarter,) = co.quarters
    assert (quarter.quarter, quarter.share, quarter.ok) == ("2026-Q4", 20 / 25, True)  # 0.8 >= 0.75
    assert co.eu_discarded_half_hours == 27 * 2 + 3 * 7 == 75
    assert (co.eu_discarded_days, co.v5_ok) == (3, True)  # 3 <= 10
    assert result.data_availability_share == pytest.approx((450 + 450) / (510 + 510))


# --- compliance summary against the engine ----------------------------------------------------------

def engine_day(store: Store, plant: PlantConfig) -> tuple[ComplianceJobs, list[object]]:
    """`write_engine_day`, judged by the day job of 11 November 01:00."""
    write_engine_day(store)
    jobs = ComplianceJobs(store, clock_ms=lambda: ms(2026, 11, 11, 1))
    report = jobs.run_day(plant, date(2026, 11, 10))
    return jobs, [report]


def write_engine_day(store: Store) -> None:
    """10 November, 08:00-12:00 burning with 1-minute CEMS readings at 11 % O2; CO above 100 mg/Nm3 from
    09:00 to 09:40, dust 40 in the 10:30 half-hour."""
    points = [state_point(ms(2026, 11, 9, 19), S.COLD), state_point(ms(2026, 11, 10, 8), S.BURNING),
              state_point(ms(2026, 11, 10, 12), S.COLD)]
    base = {"co": 20.0, "dust": 4.0, "nox": 150.0, "so2": 20.0, "hcl": 5.0, "toc": 3.0}
    t = ms(2026, 11, 10, 8)
    while t < ms(2026, 11, 10, 12):
        points.append(Reading("kotim", "o2", t, 11.0).to_point())
        points.append(Reading("kotim", "h2o", t, 10.0).to_point())
        for sensor, value in base.items():
            if sensor == "co" and ms(2026, 11, 10, 9) <= t < ms(2026, 11, 10, 9, 40):
                value = 160.0
            if sensor == "dust" and ms(2026, 11, 10, 10, 30) <= t < ms(2026, 11, 10, 11):
                value = 40.0
            points.append(Reading("kotim", sensor, t, value).to_point())
        t += 60_000
    store.write(points)


def test_compliance_summary_matches_the_engines_records(store: Store, kotim: PlantConfig) -> None:
    _, (report,) = engine_day(store, kotim)
    assert report.averages and report.days  # type: ignore[attr-defined]
    averages, days = report.averages, report.days  # type: ignore[attr-defined]
    nov = month_period(2026, 11, JKT)
    summary = compliance_summary(store, kotim, nov.start_ms, nov.end_ms)
    profiles = load_bundled_profiles()
    found = {(p.profile, p.pollutant): p for p in summary.pollutants}
    assert {k[0] for k in found} == {"eu-ied-annex-vi", "id-kep03-1995-unconfirmed"}  # emission-limit profiles only
    total_over = 0
    for (profile_id, pollutant), item in found.items():
        mine = [a for a in averages if a.profile == profile_id and a.pollutant == pollutant]
        for period, count in item.valid_averages.items():
            assert count == sum(1 for a in mine if a.period == period and a.quality == QualityCode.VALID)
        for lim in item.limits:
            if lim.rule in ("D100", "D97"):
                judged = [d for d in days if d.profile == profile_id and d.pollutant == pollutant and d.valid]
            else:
                judged = [a for a in mine if a.period == lim.period and a.quality == QualityCode.VALID]
            expected_over = sum(1 for r in judged if r.value is not None and r.value > lim.limit_value)
            assert (lim.valid_averages, lim.exceedances) == (len(judged), expected_over), (profile_id, pollutant, lim.rule)
            assert lim.confirmed == (lim.status not in ("U", "A"))
            total_over += expected_over
    assert summary.exceedances == total_over
    # the constructed day does exceed: CO half-hours 09:00 and 09:30 (160 and then 160 for 10 of 30 min)
    eu_co = found[("eu-ied-annex-vi", "co")]
    assert next(x for x in eu_co.limits if x.rule == "A100").exceedances >= 1
    kep = next(p for p in summary.profiles if p.id == "id-kep03-1995-unconfirmed")
    assert kep.unconfirmed and len(kep.unconfirmed_limits) == len(profiles[kep.id].limits)
    # abnormal operation as the engine measured it from the samples: CO over column A 09:00-09:40, dust 10:30-11:00
    assert summary.abnormal_h == pytest.approx((40 + 30) / 60) and summary.abnormal_max_year_h == 60


# --- alert response -----------------------------------------------------------------------------------

def test_alert_response_times_come_from_the_alert_database(alert_db: Database) -> None:
    t = ms(2026, 11, 5, 10)
    add_alert(alert_db, "co_a100", "major", "regulatory", t, t + 120_000, t + 600_000)           # acked after 120 s
    add_alert(alert_db, "t2_low", "critical", "process", t + 3_600_000, t + 3_600_000 + 600_000, None)  # 600 s
    add_alert(alert_db, "dust_a100", "major", "regulatory", t + 7_200_000, t + 7_200_000 + 30_000, None)  # 30 s
    add_alert(alert_db, "ph_low", "warning", "process", t, t + 5_000, None)                       # not counted
    add_alert(alert_db, "co_day", "critical", "regulatory", t + 9_000_000, None, None)            # not acknowledged
    add_alert(alert_db, "old", "critical", "process", ms(2026, 10, 31, 23), ms(2026, 11, 1, 1), None)  # October
    nov = month_period(2026, 11, JKT)
    result = alert_response(alert_db, "kotim", nov.start_ms, nov.end_ms)
    assert [a.rule_id for a in result.alerts] == ["co_a100", "t2_low", "dust_a100", "co_day"]
    assert (result.acknowledged, result.unacknowledged) == (3, 1)
    assert result.median_ack_s == 120.0  # median of 30, 120, 600
    assert result.max_ack_s == 600.0
