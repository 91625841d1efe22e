"""Compliance jobs through the real store: a simulated day of CEMS readings and plant states, the
half-hour and day jobs, late data with amendments, and the KPIs."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from alerts.plant_state import PlantSignals, PlantState, PlantStateConfig, observe_signal, settle
from compliance.amendment_store import read_amendments
from compliance.jobs import ComplianceJobs
from compliance.kpi_reader import read_kpis
from compliance.result_store import read_averages, read_days
from compliance.scheduler import ComplianceService
from simulators import generate_messages, parse_fault_spec
from wastewatch.compliance.kpis import BatchMass, tonnage_by_day, tonnage_by_source
from wastewatch.compliance.pipeline import Channels, closed_window_starts, compute_series, plan_series
from wastewatch.compliance.profiles import load_bundled_profiles, select_profiles
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.samples import Sample
from wastewatch.compliance.timeline import OperatingTimeline
from wastewatch.compliance.windows import day_bounds_ms, iter_window_starts
from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.operating_state import OperatingState as S
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Point, Store
from wastewatch.records import PLANT_STATE, Batch, Reading

DAY = date(2026, 11, 28)
HALF_HOUR_MS = 1_800_000


@dataclass(frozen=True)
class Scenario:
    plant: PlantConfig
    readings: list[Reading]
    batches: list[Batch]
    states: list[Point]
    timeline: OperatingTimeline
    start_ms: int
    end_ms: int

    def at(self, hours: float) -> int:
        return self.start_ms + round(hours * 3_600_000)

    def samples(self, keep: Iterable[Reading] | None = None) -> dict[str, list[Sample]]:
        by_sensor: dict[str, list[Sample]] = defaultdict(list)
        for r in self.readings if keep is None else keep:
            by_sensor[r.sensor].append(Sample.from_reading(r))
        return by_sensor


@pytest.fixture(scope="module")
def day(catalog: PlantCatalog) -> Scenario:
    """A daily-schedule day (pre-heat 05:00, feed until 21:00) with 90 min of CEMS calibration at 08:00."""
    plant = catalog.get("kotim")
    assert plant is not None
    start_ms, end_ms = day_bounds_ms(DAY, plant.zone)
    generated = generate_messages(
        plant, seed=11, start_ms=start_ms, duration_s=86_400,
        faults=[parse_fault_spec("cems_calibration@+8h/90m", sim_start_ms=start_ms)],
    )
    cems = set(Channels.of(plant).sensor_ids)
    config, signals = PlantStateConfig(), PlantSignals()
    state = PlantState(plant="kotim", operating=S.COLD, since_ms=start_ms)
    changes = [Point(PLANT_STATE, {"plant": "kotim"}, {"state": "cold", "from_state": "cold", "reason": "start"}, start_ms)]
    readings, batches = [], []
    for message in generated.messages:
        for record in decode_message(message.topic, message.payload, catalog, message.at_ms, DecodeLimits()).records:
            if isinstance(record, (Reading, Batch)):
                signals = observe_signal(signals, record, message.at_ms, config)
                state, transitions = settle(state, signals, message.at_ms, config)
                changes += [
                    Point(PLANT_STATE, {"plant": "kotim"}, {"state": t.to_state.value, "from_state": t.from_state.value,
                                                            "reason": t.reason}, t.at_ms)
                    for t in transitions
                ]
            if isinstance(record, Reading) and record.sensor in cems:
                readings.append(record)
            elif isinstance(record, Batch):
                batches.append(record)
    timeline = OperatingTimeline(tuple((p.time_ms, S(str(p.fields["state"]))) for p in changes))
    return Scenario(plant, readings, batches, changes, timeline, start_ms, end_ms)


def load(store: Store, scenario: Scenario, readings: Iterable[Reading]) -> None:
    points = [r.to_point() for r in readings] + [b.to_point() for b in scenario.batches] + scenario.states
    for i in range(0, len(points), 5000):
        store.write(points[i : i + 5000])


def jobs_for(store: Store, scenario: Scenario) -> ComplianceJobs:
    return ComplianceJobs(store, load_bundled_profiles(), clock_ms=lambda: scenario.end_ms + 3_600_000)


def expected(scenario: Scenario, samples: dict[str, list[Sample]]) -> dict[tuple[str, str, str, int], tuple[QualityCode, float | None]]:
    """The pure core on the same samples: every series' windows over the whole day."""
    plant = scenario.plant
    profiles = select_profiles(plant.compliance_profiles, load_bundled_profiles())
    out = {}
    for series in plan_series(plant, profiles):
        starts = list(iter_window_starts(scenario.start_ms, scenario.end_ms, series.period, plant.zone))
        for c in compute_series(series, samples, scenario.timeline, plant, starts):
            out[(*series.key, c.average.start_ms)] = (c.average.quality, c.average.value)
    return out


def stored_results(store: Store, scenario: Scenario) -> dict[tuple[str, str, str, int], tuple[QualityCode, float | None]]:
    return {k: (r.quality, r.value) for k, r in read_averages(store, "kotim", scenario.start_ms, scenario.end_ms).items()}


def test_half_hour_jobs_store_what_the_pure_core_computes_and_the_day_counts_calibration(influx_store: Store, day: Scenario) -> None:
    load(influx_store, day, day.readings)
    jobs = jobs_for(influx_store, day)
    for end in range(day.start_ms + HALF_HOUR_MS, day.end_ms + 1, HALF_HOUR_MS):
        jobs.run_half_hour(day.plant, end)
    stored = stored_results(influx_store, day)
    assert stored == pytest.approx(expected(day, day.samples()))
    half_hours = {k[3]: v[0] for k, v in stored.items() if k[:3] == ("eu-ied-annex-vi", "co", "30min")}
    assert len(half_hours) == 48 and Counter(half_hours.values())[QualityCode.VALID] > 20
    # calibration 08:00-09:30 local: three maintenance-coded half-hours
    assert [half_hours[day.at(h)] for h in (8, 8.5, 9)] == [QualityCode.MAINTENANCE] * 3
    assert half_hours[day.at(9.5)] == QualityCode.VALID
    assert half_hours[day.at(2)] == QualityCode.NO_WASTE  # cold at night

    report = jobs.run_day(day.plant, DAY)
    assert report.amendments == [] and report.written == len(report.days)  # windows unchanged: only the days are new
    days = read_days(influx_store, "kotim", day.plant.zone, day.start_ms, day.end_ms)
    co_day = days[("eu-ied-annex-vi", "co", day.start_ms)]
    assert (co_day.n_discarded, co_day.valid, co_day.basis) == (3, True, "30min")
    # Indonesian data availability: an hourly day needs 18 valid hours; 05:00-22:00 operation cannot reach it
    assert days[("id-data-availability", "co", day.start_ms)].valid is False


def test_late_data_is_recomputed_with_amendments_equal_to_computing_from_scratch(influx_store: Store, day: Scenario) -> None:
    gap = (day.at(14), day.at(15))
    on_time = [r for r in day.readings if not gap[0] <= r.time_ms < gap[1]]
    load(influx_store, day, on_time)
    jobs = jobs_for(influx_store, day)
    jobs.run_day(day.plant, DAY)
    before = read_days(influx_store, "kotim", day.plant.zone, day.start_ms, day.end_ms)[("eu-ied-annex-vi", "co", day.start_ms)]
    assert before.n_discarded == 3 + 2  # the calibration and the two half-hours without data

    influx_store.write([r.to_point() for r in day.readings if gap[0] <= r.time_ms < gap[1]])  # the back-fill
    report = jobs.recompute(day.plant, *gap)
    assert stored_results(influx_store, day) == pytest.approx(expected(day, day.samples()))
    amended = [a for a in read_amendments(influx_store, "kotim") if (a.profile, a.pollutant) == ("eu-ied-annex-vi", "co")]
    by_period = Counter(a.period for a in amended)
    assert by_period == {"10min": 6, "30min": 2, "24h": 1}
    half = [a for a in amended if a.period == "30min"]
    assert [(a.start_ms, a.old_quality, a.new_quality, a.old_value) for a in half] == [
        (day.at(14), QualityCode.INSUFFICIENT_DATA, QualityCode.VALID, None),
        (day.at(14.5), QualityCode.INSUFFICIENT_DATA, QualityCode.VALID, None),
    ]
    assert all(a.reason == "late data" and a.new_value is not None for a in half)
    after = read_days(influx_store, "kotim", day.plant.zone, day.start_ms, day.end_ms)[("eu-ied-annex-vi", "co", day.start_ms)]
    assert after.n_discarded == 3 and after.value != before.value
    assert len(report.amendments) == len(read_amendments(influx_store, "kotim"))
    # again: nothing changed, nothing written, nothing amended
    again = jobs.recompute(day.plant, *gap)
    assert (again.written, again.amendments) == (0, [])


def test_a_rerun_writes_nothing_and_a_window_changed_later_is_amended(store: Store, catalog: PlantCatalog) -> None:
    plant = catalog.get("kotim")
    assert plant is not None
    start_ms, _ = day_bounds_ms(DAY, plant.zone)
    t0 = start_ms + 10 * 3_600_000  # 10:00 local, burning since 09:00
    store.write([Point(PLANT_STATE, {"plant": "kotim"}, {"state": "burning"}, t0 - 3_600_000)])
    minutes = range(0, 30)
    store.write([Reading("kotim", "o2", t0 + m * 60_000, 14.0).to_point() for m in minutes])
    store.write([Reading("kotim", "co", t0 + m * 60_000, 40.0).to_point() for m in minutes])
    jobs = ComplianceJobs(store, load_bundled_profiles(), clock_ms=lambda: t0 + 86_400_000)
    first = jobs.run_half_hour(plant, t0 + HALF_HOUR_MS)
    eu = {(a.pollutant, a.period): a for a in first.averages if a.profile == "eu-ied-annex-vi"}
    # CO 40 mg/Nm3 at 14 % O2 → 40 × (21 − 11)/(21 − 14) = 57.142… at 11 %; minus CI 10 % × 50 = 5 → 52.142…
    assert eu[("co", "30min")].raw_value == pytest.approx(400 / 7)
    assert eu[("co", "30min")].value == pytest.approx(400 / 7 - 5)
    assert eu[("nox", "30min")].quality == QualityCode.INSUFFICIENT_DATA  # no NOx readings at all
    assert first.amendments == []
    assert jobs.run_half_hour(plant, t0 + HALF_HOUR_MS).written == 0

    # the CEMS re-sends its first 15 minutes flagged maintenance (same instants, a second status series)
    store.write([Reading("kotim", "co", t0 + m * 60_000, 40.0, "maintenance").to_point() for m in range(0, 15)])
    later = jobs.run_half_hour(plant, t0 + HALF_HOUR_MS)
    co_eu = [a for a in later.amendments if (a.profile, a.pollutant, a.period) == ("eu-ied-annex-vi", "co", "30min")]
    assert [(a.old_quality, a.new_quality, a.new_value) for a in co_eu] == [(QualityCode.VALID, QualityCode.MAINTENANCE, None)]
    assert co_eu[0].old_value == pytest.approx(400 / 7 - 5)
    # 15 valid of 30 expected is under the 70 % share; the stale `value` field left by the merge is ignored
    stored = read_averages(store, "kotim", t0, t0 + HALF_HOUR_MS, profile="eu-ied-annex-vi", pollutant="co", period="30min")
    (record,) = stored.values()
    assert (record.quality, record.value, record.n_valid, record.n_flagged) == (QualityCode.MAINTENANCE, None, 15, 15)
    assert read_amendments(store, "kotim") == sorted(later.amendments, key=lambda a: (a.start_ms, a.at_ms, a.profile, a.pollutant, a.period))


def test_windows_close_on_the_local_clock(catalog: PlantCatalog) -> None:
    plant = catalog.get("kotim")
    assert plant is not None
    series = {s.key: s for s in plan_series(plant, select_profiles(plant.compliance_profiles, load_bundled_profiles()))}
    assert ("eu-ied-annex-vi", "co", "10min") in series and ("eu-ied-annex-vi", "nox", "10min") not in series
    assert ("id-kep03-1995-unconfirmed", "co", "1h") in series and ("id-data-availability", "opacity", "1h") not in series
    ten_thirty = int(datetime(2026, 11, 28, 10, 30, tzinfo=plant.zone).timestamp() * 1000)
    minute = 60_000
    assert closed_window_starts(series[("eu-ied-annex-vi", "co", "10min")], ten_thirty - 30 * minute, ten_thirty, plant.zone) == [
        ten_thirty - 30 * minute, ten_thirty - 20 * minute, ten_thirty - 10 * minute,
    ]
    hourly = series[("id-kep03-1995-unconfirmed", "co", "1h")]
    assert closed_window_starts(hourly, ten_thirty - 30 * minute, ten_thirty, plant.zone) == []
    assert closed_window_starts(hourly, ten_thirty, ten_thirty + 30 * minute, plant.zone) == [ten_thirty - 30 * minute]


def test_kpis_from_batches_and_the_state_timeline(store: Store, catalog: PlantCatalog) -> None:
    plant = catalog.get("kotim")
    assert plant is not None
    start_ms, end_ms = day_bounds_ms(DAY, plant.zone)
    hour = 3_600_000
    batches = [Batch("kotim", f"b{i}", start_ms + (6 + i) * hour, 25.0, "rsud-murjani" if i % 2 else "puskesmas-baamang") for i in range(8)]
    states = [(0, "cold"), (5, "preheat"), (6, "ready"), (6.25, "burning"), (14.5, "burnout"), (15.5, "shutdown")]
    store.write([b.to_point() for b in batches])
    store.write([Point(PLANT_STATE, {"plant": "kotim"}, {"state": s}, start_ms + round(h * hour)) for h, s in states])
    kpis = read_kpis(store, plant, start_ms, end_ms)
    assert kpis.tonnes == pytest.approx(0.2)  # 8 × 25 kg
    assert kpis.tonnes_by_source == pytest.approx({"puskesmas-baamang": 0.1, "rsud-murjani": 0.1})
    assert kpis.operating_h == pytest.approx(9.25)  # burning 06:15-14:30 + burnout 14:30-15:30
    assert kpis.throughput_kg_h == pytest.approx(200 / 9.25)
    assert kpis.availability == pytest.approx(9.5 / 24)  # ready 06:00 to the end of burnout 15:30
    masses = [BatchMass(b.time_ms, b.mass_kg, b.source) for b in batches]
    assert tonnage_by_day(masses, plant.zone) == pytest.approx({DAY: 0.2})
    assert tonnage_by_source(masses)["rsud-murjani"] == pytest.approx(0.1)


def test_the_service_schedules_its_jobs_per_plant_and_stops(store: Store, catalog: PlantCatalog) -> None:
    service = ComplianceService(ComplianceJobs(store, load_bundled_profiles()), catalog)
    service.start()
    try:
        assert service._scheduler is not None
        ids = sorted(job.id for job in service._scheduler.get_jobs())
        assert ids == ["compliance-clock-kotim", "compliance-day-kotim", "compliance-half-hour-kotim"]
        zone = catalog.get("kotim").zone  # type: ignore[union-attr]
        fire = service._scheduler.get_job("compliance-half-hour-kotim").next_run_time
        assert fire.astimezone(zone).minute in (0, 30)
        # the abnormal-operation clock every minute in between (the half-hour job judges it at :00 and :30)
        clock = service._scheduler.get_job("compliance-clock-kotim").next_run_time
        assert clock.astimezone(zone).minute not in (0, 30)
    finally:
        service.stop()
    assert service._scheduler is None


def test_the_prefetching_recompute_equals_the_half_hour_jobs_window_by_window(influx_store: Store, day: Scenario) -> None:
    """The recomputation reads several days in one query and slices them; the half-hour jobs read each
    window's range on its own. Same inputs, so the recompute finds nothing to write or amend."""
    load(influx_store, day, day.readings)
    jobs = jobs_for(influx_store, day)
    for end in range(day.start_ms + HALF_HOUR_MS, day.end_ms + 1, HALF_HOUR_MS):
        jobs.run_half_hour(day.plant, end)
    report = jobs.recompute(day.plant, day.start_ms, day.end_ms)
    assert report.amendments == [] and report.written == len(report.days)  # only the day records are new
    assert stored_results(influx_store, day) == pytest.approx(expected(day, day.samples()))
