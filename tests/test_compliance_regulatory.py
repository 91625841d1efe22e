"""Regulatory alerts: compliance findings judged by hand, and an exceedance through the real InfluxDB
into one alert of category regulatory with an outbox row for the agency, cleared by a compliant window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from alerts.lifecycle import Lifecycle, Policy
from alerts.outbox import Outbox
from alerts.regulatory import RegulatoryAlerts
from alerts.routing import parse_routes
from alerts.schema import open_database
from alerts.store import AlertStore
from compliance.jobs import ComplianceJobs
from wastewatch.compliance.abnormal import exceedance_runs, measure_events
from wastewatch.compliance.profiles import load_bundled_profiles
from wastewatch.compliance.quality import QualityCode as Q
from wastewatch.compliance.regulatory import (
    Finding,
    abnormal_intervals,
    judge_abnormal_clock,
    judge_co_rule,
    judge_quarter,
    judge_v4,
)
from wastewatch.compliance.results import AverageRecord, DayRecord
from wastewatch.compliance.samples import Sample
from wastewatch.compliance.timeline import Interval
from wastewatch.compliance.windows import day_bounds_ms
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Point, Store
from wastewatch.records import PLANT_STATE, Reading
from wastewatch.settings import Settings

PROFILES = load_bundled_profiles()
EU = PROFILES["eu-ied-annex-vi"]
AVAIL = PROFILES["id-data-availability"]
MIN = 60_000
HALF = 30 * MIN
HOUR = 60 * MIN
ROUTES = "operators=mqtt,log;agency=webhook>email;escalation=email"


@pytest.fixture
def plant(catalog: PlantCatalog) -> PlantConfig:
    found = catalog.get("kotim")
    assert found is not None
    return found


def at(plant: PlantConfig, hour: float, day: date = date(2026, 11, 28)) -> int:
    return day_bounds_ms(day, plant.zone)[0] + round(hour * HOUR)


def avg(start_ms: int, value: float | None, pollutant: str = "co", period: str = "30min", quality: Q = Q.VALID) -> AverageRecord:
    return AverageRecord("kotim", EU.id, pollutant, period, start_ms, quality, value, value, 0.0, 30, 0, 30, "1+x")


def test_co_rule_breached_only_with_a_half_hour_over_column_a_and_under_95_percent(plant: PlantConfig) -> None:
    end = at(plant, 24)
    # 40 usable 10-min averages: 37 within 150 and 3 above → 37/40 = 92.5 % < 95 %
    tens = [avg(end - (i + 1) * 10 * MIN, 200.0 if i < 3 else 20.0, period="10min") for i in range(40)]
    within = [avg(end - HALF * (i + 1), 40.0) for i in range(4)]
    assert judge_co_rule(EU, "kotim", tens, within, end, plant.zone).holding is False  # type: ignore[union-attr]
    over = within + [avg(end - 6 * HALF, 120.0)]  # a validated half-hour above column A 100
    found = judge_co_rule(EU, "kotim", tens, over, end, plant.zone)
    assert found is not None and found.holding and found.value == 92.5 and found.limit == 95.0
    assert "[U] limit UNCONFIRMED" in found.message  # the CO 10-min limit is from memory
    # 39 of 40 within → 97.5 % ≥ 95 %: the 10-min branch holds, the rule is kept
    tens[0], tens[1] = (avg(t.start_ms, 20.0, period="10min") for t in tens[:2])
    assert judge_co_rule(EU, "kotim", tens, over, end, plant.zone).holding is False  # type: ignore[union-attr]


def test_v4_at_risk_from_four_discarded_half_hours_today(plant: PlantConfig) -> None:
    day_start = at(plant, 0)
    codes = [Q.MAINTENANCE, Q.MAINTENANCE, Q.MALFUNCTION, Q.VALID, Q.INSUFFICIENT_DATA, Q.NO_WASTE]
    today = [avg(day_start + i * HALF, None, "dust", quality=c) for i, c in enumerate(codes)]
    found = judge_v4(EU, "kotim", today, day_start, day_start + 6 * HALF, plant.zone)
    assert found is not None and (found.holding, found.value, found.limit) == (True, 4.0, 5.0)  # 2 + 1 + 1 discarded
    found = judge_v4(EU, "kotim", today[:4], day_start, day_start + 4 * HALF, plant.zone)
    assert found is not None and (found.holding, found.value) == (False, 3.0)


def test_abnormal_clock_runs_from_the_first_sample_over_column_a_and_holds_when_a_cap_is_reached(plant: PlantConfig) -> None:
    t0 = at(plant, 8)
    # HCl column A is 60 (CI 4): 7 consecutive half-hours over it (08:00-11:30), then one within
    hcl = [avg(t0 + i * HALF, 70.0, "hcl") for i in range(7)] + [avg(t0 + 7 * HALF, 10.0, "hcl")]
    assert abnormal_intervals(EU, hcl) == [Interval(t0, t0 + 7 * HALF)]
    # the 1-minute samples say the exceedance began at 07:50, in a half-hour whose average stayed within A
    samples = [Sample(t0 + m * MIN, 90.0 if m >= -10 else 20.0) for m in range(-30, 7 * 30)]
    runs = exceedance_runs(samples, 64.0, MIN)
    assert runs == [Interval(t0 - 10 * MIN, t0 + 7 * HALF)]

    def clock(now_ms: int) -> tuple[Finding, ...]:
        seen = [s for s in samples if s.time_ms < now_ms]
        closed = [h for h in hcl if h.start_ms + HALF <= now_ms]
        events = measure_events(abnormal_intervals(EU, closed), exceedance_runs(seen, 64.0, MIN), now_ms, MIN)
        three, four = judge_abnormal_clock(EU, "kotim", events, now_ms, plant.zone)
        return three, four

    # 3 h are reached at 10:50, not at the next half-hour (11:00) nor after it (11:30)
    three, four = clock(t0 + 2 * HOUR + 49 * MIN)
    assert (three.check, three.holding, four.holding) == ("abnormal_3h", False, False)
    three, four = clock(t0 + 2 * HOUR + 50 * MIN)
    assert (three.holding, three.since_ms, three.value, four.holding) == (True, t0 - 10 * MIN, 3.0, False)
    assert "3 h reached at 10:50 WIB" in three.message and "domain.md §8.5" in three.message and "[A]" in three.message
    assert four.severity == "critical" and three.severity == "major" and "[C-pred]" in four.message
    # at 11:30 the samples stop being over A (the 11:30 half-hour is within): the event ended, both clear
    assert [f.holding for f in clock(t0 + 7 * HALF + 10 * MIN)] == [False, False]


def test_exceedance_runs_go_on_over_a_missing_or_flagged_sample_and_end_at_a_valid_one_within() -> None:
    over, within = 100.0, 10.0
    samples = [Sample(0, over), Sample(MIN, over, "maintenance"), Sample(2 * MIN, over), Sample(3 * MIN, within),
               Sample(4 * MIN, over), Sample(8 * MIN, over)]  # 5-7 missing: more than one period, a new run
    assert exceedance_runs(samples, 64.0, MIN) == [Interval(0, 3 * MIN), Interval(4 * MIN, 5 * MIN), Interval(8 * MIN, 9 * MIN)]
    # samples outside effective operating time count for nothing
    assert exceedance_runs(samples, 64.0, MIN, counts=lambda t: t >= 4 * MIN) == [Interval(4 * MIN, 5 * MIN), Interval(8 * MIN, 9 * MIN)]


def test_an_event_is_measured_by_its_samples_and_without_them_by_its_half_hours() -> None:
    halves = [Interval(HALF, 4 * HALF), Interval(6 * HALF, 7 * HALF)]
    # the first run of half-hours: samples over A from 00:40 to 01:50 (shorter than its half-hours at both ends)
    runs = [Interval(HALF + 10 * MIN, HALF + 40 * MIN), Interval(HALF + 45 * MIN, 3 * HALF + 20 * MIN)]
    assert measure_events(halves, runs) == [Interval(HALF + 10 * MIN, 3 * HALF + 20 * MIN), Interval(6 * HALF, 7 * HALF)]
    # a sample run across the half-hour between two runs joins them into one event
    assert measure_events(halves, [Interval(2 * HALF, 6 * HALF + 20 * MIN)]) == [Interval(2 * HALF, 6 * HALF + 20 * MIN)]


def test_quarter_availability_projected_from_the_best_case(plant: PlantConfig) -> None:
    # Q4 2026 has 92 days. Through 28 Nov (day 59) 40 days operated and 10 were valid; 33 days remain.
    # Best case: (10 + 33) / (40 + 33) = 43 / 73 = 58.9 % < 75 %
    first = date(2026, 10, 1)
    days = []
    for i in range(59):
        d = date.fromordinal(first.toordinal() + i)
        quality = Q.VALID if i < 10 else Q.INSUFFICIENT_DATA if i < 40 else Q.NO_WASTE
        value = 5.0 if quality == Q.VALID else None
        days.append(DayRecord("kotim", AVAIL.id, "co", d, day_bounds_ms(d, plant.zone)[0], "1h", quality, value, 18, 0, "1"))
    found = judge_quarter(AVAIL, "kotim", days, date(2026, 11, 28), plant.zone)
    assert found is not None and found.holding and found.value == pytest.approx(round(43 / 73 * 100, 2))


# -- through the real store and the alert lifecycle ---------------------------------------------------


@pytest.fixture
def regulatory(tmp_path: Path, catalog: PlantCatalog) -> Iterator[RegulatoryAlerts]:
    db = open_database(Settings(data_dir=tmp_path))
    routes = parse_routes(ROUTES, ["regulatory"], available=["webhook", "email", "mqtt", "log", "annotation"])
    yield RegulatoryAlerts(Lifecycle(db, routes, (), catalog, Policy(language="en")))
    db.close()


def test_an_exceedance_opens_one_regulatory_alert_for_the_agency_and_a_compliant_window_clears_it(
    influx_store: Store, plant: PlantConfig, regulatory: RegulatoryAlerts
) -> None:
    t0 = at(plant, 10)
    influx_store.write([Point(PLANT_STATE, {"plant": "kotim"}, {"state": "burning"}, t0 - HOUR)])
    minutes = range(60)
    # O2 at exactly the 11 % reference: the EU profile corrects only above it, so HCl stays as measured.
    influx_store.write([Reading("kotim", "o2", t0 + m * MIN, 11.0).to_point() for m in minutes])
    influx_store.write([Reading("kotim", "hcl", t0 + m * MIN, 80.0 if m < 30 else 20.0).to_point() for m in minutes])
    jobs = ComplianceJobs(influx_store, PROFILES, clock_ms=lambda: t0 + 86_400_000)

    first = jobs.run_half_hour(plant, t0 + HALF)
    # 10:00-10:30: 80 − CI (40 % × daily 10 = 4) = 76 mg/Nm3 > column A 60
    changes = regulatory.apply(first.findings)
    assert [(c.kind, c.alert.rule_id, c.alert.subject) for c in changes] == [
        ("raised", "regulatory_half_hour_a", "eu-ied-annex-vi:hcl")
    ]
    alert = changes[0].alert
    assert (alert.category, alert.severity, alert.value) == ("regulatory", "major", pytest.approx(76.0))
    for text in ("hcl", "76 mg/Nm3", "limit 60 mg/Nm3", "30min average 2026-11-28 10:00-10:30 WIB", "S24; S25", "[C-pred]"):
        assert text in alert.message
    outbox = Outbox(regulatory.lifecycle.db)
    raised_rows = [(r.audience, r.channel) for r in outbox.rows(alert_id=alert.id) if r.kind == "raised"]
    assert sorted(raised_rows) == [("agency", "webhook"), ("operators", "log"), ("operators", "mqtt")]

    # the same job again: still one alert, nothing new sent
    assert [c.kind for c in regulatory.apply(jobs.run_half_hour(plant, t0 + HALF).findings)] == ["updated"]
    store = AlertStore(regulatory.lifecycle.db)
    assert len(store.list_alerts(active_only=True)) == 1
    assert len([r for r in outbox.rows(alert_id=alert.id) if r.kind == "raised"]) == 3

    # 10:30-11:00: 20 − 4 = 16 ≤ 60 → recovered, told to the agency too
    cleared = regulatory.apply(jobs.run_half_hour(plant, t0 + 2 * HALF).findings)
    assert [(c.kind, c.alert.id) for c in cleared] == [("cleared", alert.id)]
    assert store.list_alerts(active_only=True) == []
    assert ("agency", "webhook") in [(r.audience, r.channel) for r in outbox.rows(alert_id=alert.id) if r.kind == "cleared"]
    # the Kep-03 hourly HCl (70 at 10 % O2): 80 × 11/10 = 88 and 20 × 11/10 = 22 → hour mean 55 ≤ 70, no alert
    hourly = [f for f in jobs.half_hour_findings(plant, t0 + 2 * HALF) if f.check == "hourly_limit" and f.subject == "hcl"]
    assert [(f.holding, f.value) for f in hourly] == [(False, pytest.approx(55.0))]


def test_message_says_when_a_limit_is_unconfirmed(plant: PlantConfig) -> None:
    t0 = int(datetime(2026, 11, 28, 10, tzinfo=plant.zone).timestamp() * 1000)
    tens = [avg(t0 + i * 10 * MIN, 400.0, period="10min") for i in range(3)]
    found = judge_co_rule(EU, "kotim", tens, [avg(t0, 300.0)], t0 + HALF, plant.zone)
    assert found is not None and found.holding and found.value == 0.0
    assert "UNCONFIRMED" in found.message and "IED Part 3 1.5(c)" in found.message
