"""Scenario days with known outcomes (simulators/days.py) through the real path: the simulator
back-fills each scenario's local day over the real Mosquitto, one ingest worker writes all three to the
real InfluxDB, the plant states are derived from the stored signals as the alert worker derives them,
then the day job and the half-hour jobs whose findings the scenario decides run, and their
regulatory findings are checked against the scenario.

The three days are back-filled once for the module, on consecutive past days; what one day concludes
never looks into another's: the CO rule's 24 h before the overcharge day's 08:00 hold no data, the
abnormal-operation clock and V4 look back hours, not days.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from alerts.plant_state import PlantSignals, PlantState, PlantStateConfig, observe_signal, settle
from compliance.jobs import ComplianceJobs, JobReport
from compliance.result_store import read_averages, read_days
from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from simulators.days import scenario_day
from simulators.publisher import run_simulator
from tests.helpers import wait_until
from tests.servers import InfluxServer, MosquittoServer
from wastewatch.compliance.profiles import load_bundled_profiles
from wastewatch.compliance.quality import QualityCode as Q
from wastewatch.compliance.regulatory import Finding
from wastewatch.compliance.windows import day_bounds_ms
from wastewatch.operating_state import OperatingState
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Point, Store
from wastewatch.records import BATCH, PLANT_STATE, READING, Batch, Reading
from wastewatch.settings import BrokerSettings, InfluxSettings, Settings
from wastewatch.store.influx import InfluxStore

pytestmark = pytest.mark.fault  # back-fills three simulated days through the broker and the ingest
HALF = 1_800_000
HOUR = 3_600_000
EU = "eu-ied-annex-vi"
JUDGED_AT_H: dict[str, tuple[float, ...]] = {
    # in day order: the overcharge day first, so nothing before its 08:00 is in its CO rule's 24 h
    "overcharge_day": (8, 24),
    "calibration_heavy": (11.5, 12, 15),
    "scrubber_failure": (10.5, 11.5, 12.5, 13, 13.5, 14, 14.5, 24),
}
"""The half-hour jobs each scenario's findings are checked at (local hour of the window end); the day
job has stored every window before, so each of them judges what the scheduled job would have seen."""
STATE_SENSORS = ("t_primary", "t_secondary", "burner_primary", "burner_secondary", "id_fan")
"""The readings the operating-state machine looks at (`alerts.plant_state.observe_signal`); the other
sensors report on the same 10-s instants, so leaving them out moves no transition."""


@dataclass
class DayRun:
    plant: PlantConfig
    day: date
    start_ms: int
    end_ms: int
    half_hours: dict[int, JobReport]
    day_report: JobReport
    store: Store

    def at(self, hour: float) -> int:
        return self.start_ms + round(hour * HOUR)

    def findings(self, check: str, subject: str) -> dict[int, Finding]:
        """The findings of one check per half-hour job, by window end."""
        return {
            end: f for end, r in self.half_hours.items() for f in r.findings if (f.check, f.profile, f.subject) == (check, EU, subject)
        }


def record_plant_states(store: Store, plant: PlantConfig, start_ms: int, end_ms: int) -> None:
    """The alert worker's state machine over the stored readings and batches, written as it writes them."""
    config, signals = PlantStateConfig(), PlantSignals()
    assert (
        config.t_primary_sensor, config.t_secondary_sensor, config.burner_primary_sensor, config.burner_secondary_sensor,
        config.id_fan_sensor,
    ) == STATE_SENSORS
    records: list[Reading | Batch] = [
        Reading(plant.id, p.tags["sensor"], p.time_ms, float(p.fields["value"]), p.tags.get("status", "valid"))  # type: ignore[arg-type]
        for sensor in STATE_SENSORS
        for p in store.select(READING, where={"plant": plant.id, "sensor": sensor}, start_ms=start_ms, end_ms=end_ms)
    ]
    records += [
        Batch(plant.id, str(p.tags.get("batch_id", "")), p.time_ms, float(p.fields["mass_kg"]), p.tags.get("source", ""))  # type: ignore[arg-type]
        for p in store.select(BATCH, where={"plant": plant.id}, start_ms=start_ms, end_ms=end_ms)
    ]
    state = PlantState(plant=plant.id, operating=OperatingState.COLD, since_ms=start_ms)
    points = [Point(PLANT_STATE, {"plant": plant.id}, {"state": "cold", "from_state": "cold", "reason": "start"}, start_ms)]
    for record in sorted(records, key=lambda r: r.time_ms):
        signals = observe_signal(signals, record, record.time_ms, config)
        state, transitions = settle(state, signals, record.time_ms, config)
        points += [
            Point(PLANT_STATE, {"plant": plant.id}, {"state": t.to_state.value, "from_state": t.from_state.value, "reason": t.reason}, t.at_ms)
            for t in transitions
        ]
    store.write(points)


@pytest.fixture(scope="module")
def scenario_store(influx: InfluxServer) -> Iterator[InfluxStore]:
    store = InfluxStore(influx.url, "test_scenario_days", timeout_s=60)
    store.ensure_database()
    yield store
    if influx.proc is not None and influx.proc.poll() is None:
        store.drop_database()
    store.close()


@pytest.fixture(scope="module")
def runs(
    mosquitto: MosquittoServer, scenario_store: InfluxStore, catalog: PlantCatalog, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, DayRun]:
    """Every scenario day back-filled (telemetry frames, as a PLC gateway sends them) through one
    ingest worker, then judged."""
    plant = catalog.get("kotim")
    assert plant is not None
    first = date.fromtimestamp(time.time()) - timedelta(days=2 + len(JUDGED_AT_H))  # past days, within the ingest's max age
    days = {name: first + timedelta(days=i) for i, name in enumerate(JUDGED_AT_H)}
    data_dir: Path = tmp_path_factory.mktemp("scenario-days")
    settings = Settings(
        mqtt=BrokerSettings(url=mosquitto.url), data_dir=data_dir,
        influx=InfluxSettings(url=scenario_store.url, database=scenario_store.database),
    )
    worker = IngestWorker(settings, IngestSettings(client_id="scenario-ingest"), catalog, scenario_store)
    worker.start()
    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        published = 0
        for name, day in days.items():
            summary = run_simulator(
                settings.mqtt.address, plant, seed=7, start_ms=day_bounds_ms(day, plant.zone)[0], mode="backfill", duration_s=86_400.0,
                faults=scenario_day(name).faults(day, plant.zone), client_id=f"scenario-sim-{name}", telemetry=True,
            )
            assert summary.rejected == 0 and not summary.stopped
            published += summary.published
        wait_until(lambda: worker.counts().received >= published, timeout_s=120, what="every message received")
        wait_until(lambda: worker.counts().acked == worker.counts().received, timeout_s=60, what="every message written")
    finally:
        worker.stop()
    found: dict[str, DayRun] = {}
    for name, day in days.items():
        start_ms, end_ms = day_bounds_ms(day, plant.zone)
        record_plant_states(scenario_store, plant, start_ms, end_ms)
        jobs = ComplianceJobs(scenario_store, load_bundled_profiles(), clock_ms=lambda end=end_ms: end + HOUR)
        day_report = jobs.run_day(plant, day)
        half_hours = {end: jobs.run_half_hour(plant, end) for end in (start_ms + round(h * HOUR) for h in JUDGED_AT_H[name])}
        found[name] = DayRun(plant, day, start_ms, end_ms, half_hours, day_report, scenario_store)
    return found


def test_a_calibration_heavy_day_breaks_v4(runs: dict[str, DayRun]) -> None:
    run = runs["calibration_heavy"]
    days = read_days(run.store, "kotim", run.plant.zone, run.start_ms, run.end_ms, profile=EU)
    # three 60-min calibrations starting on :00 → 3 × 2 = 6 half-hours with no valid sample: 6 > 5
    co = days[(EU, "co", run.start_ms)]
    assert (co.n_discarded, co.valid, co.quality) == (6, False, Q.MAINTENANCE)
    halves = read_averages(run.store, "kotim", run.start_ms, run.end_ms, profile=EU, pollutant="co", period="30min")
    maintenance = sorted(k[3] for k, r in halves.items() if r.quality == Q.MAINTENANCE)
    assert maintenance == [run.at(h) for h in (8, 8.5, 11, 11.5, 14, 14.5)]
    # V4 at risk from the 4th discarded half-hour: the job at 11:30 + 30 min = 12:00 counts 8:00, 8:30, 11:00, 11:30
    v4 = run.findings("v4_at_risk", "v4")
    assert [v4[run.at(h)].holding for h in (11.5, 12)] == [False, True]
    assert v4[run.at(15)].value == 6.0 and v4[run.at(15)].holding


def test_a_scrubber_failure_starts_the_abnormal_operation_clock(runs: dict[str, DayRun]) -> None:
    run = runs["scrubber_failure"]
    # Caustic dosing fails at 10:00 and SO2 breaks through at 250-450 mg/Nm3 (CI 10 off, column A 200):
    # every half-hour of the failure is over A, and the event runs from the first minute over A, minutes
    # after 10:00. HCl dissolves in plain water and stays under its column A.
    three = run.findings("abnormal_3h", "abnormal_operation")
    since = three[run.at(13.5)].since_ms
    assert run.at(10) < since < run.at(10.25)
    assert [three[run.at(h)].holding for h in (13, 13.5)] == [False, True]
    assert three[run.at(13.5)].value == round((run.at(13.5) - since) / HOUR, 2)
    four = run.findings("abnormal_4h", "abnormal_operation")
    assert [four[run.at(h)].holding for h in (14, 14.5)] == [False, True]  # 4 h are reached between the two jobs
    # the clock between half-hours raises the cap the minute it is reached
    jobs = ComplianceJobs(run.store, load_bundled_profiles(), clock_ms=lambda: run.end_ms + HOUR)
    cap_ms = since + 4 * HOUR
    minute = -(-cap_ms // 60_000) * 60_000  # the first whole minute at or after the cap
    assert [f.holding for f in jobs.clock_findings(run.plant, minute - 60_000) if f.check == "abnormal_4h"] == [False]
    assert [f.holding for f in jobs.clock_findings(run.plant, minute) if f.check == "abnormal_4h"] == [True]
    so2_a = run.findings("half_hour_a", "so2")
    assert all(so2_a[run.at(h + 0.5)].holding for h in (10, 11, 12, 13))
    hcl_a = run.findings("half_hour_a", "hcl")
    assert not any(f.holding for f in hcl_a.values())
    # the next morning's first compliant HCl half-hour ends the event: nothing runs at the day's end
    assert three[run.end_ms].holding is False and four[run.end_ms].holding is False


def test_an_overcharge_day_breaches_the_co_10_minute_rule(runs: dict[str, DayRun]) -> None:
    run = runs["overcharge_day"]
    co = run.findings("co_10min_rule", "co")
    # Each oversized batch adds ≥ 250 mg/Nm3 CO for ≥ 2 min plus ramps (60 s up, 90 s down): at least
    # 250 × (120 + 30 + 45) / 600 = 81 over a 10-min average, typically 575 × (360 + 75) / 600 = 417.
    # 20 of them in ~90 burning 10-min averages leave far under 95 % within 150, and half-hours over 100.
    assert co[run.at(8)].holding is False  # before the first oversized batch
    assert co[run.end_ms].holding is True
    final = co[run.end_ms]
    assert final.value is not None and final.value < 95.0
    tens = read_averages(run.store, "kotim", run.start_ms, run.end_ms, profile=EU, pollutant="co", period="10min")
    usable = [r.value for r in tens.values() if r.quality == Q.VALID and r.value is not None]
    assert final.value == pytest.approx(round(sum(v <= 150 for v in usable) / len(usable) * 100, 2))
