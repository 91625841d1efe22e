"""Emission loads end to end on the real InfluxDB: CEMS readings, flow and plant states written, the
compliance day and half-hour jobs run, the loads read back through the API (JSON and CSV) with the
arithmetic written out, and bad requests answered with a 4xx and a message."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date

import pytest

from api.reports.data import csv_rows, report_data
from api.reports.report import build_report
from api.roles import Role
from compliance.jobs import ComplianceJobs
from compliance.load_store import read_day_loads, read_window_loads
from compliance.result_store import read_averages
from tests.api_support import NOW_MS, Api, run_api
from tests.servers import InfluxServer
from wastewatch.compliance.loads import EMISSION_LOAD, EMISSION_LOAD_DAY
from wastewatch.compliance.windows import day_bounds_ms
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Point
from wastewatch.records import PLANT_STATE, Reading
from wastewatch.store.influx import InfluxStore

DAY = date(2026, 11, 27)  # the API's clock is 2026-11-28 12:00 local (tests.api_support.NOW)
TODAY = date(2026, 11, 28)
MIN = 60_000
HOUR = 60 * MIN
LOADS = "/api/v1/plants/kotim/emissions/loads"


def _state(time_ms: int, state: str) -> Point:
    return Point(PLANT_STATE, {"plant": "kotim"}, {"state": state, "from_state": "", "reason": "test"}, time_ms)


def _minutes(sensor: str, start_ms: int, count: int, value: float, status: str = "valid") -> list[Point]:
    return [Reading("kotim", sensor, start_ms + i * MIN, value, status).to_point() for i in range(count)]  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def plant(catalog: PlantCatalog) -> PlantConfig:
    found = catalog.get("kotim")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def served(influx: InfluxServer, plant: PlantConfig, catalog: PlantCatalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """27 Nov: burning 00:00–16:00, dust 50 mg/Nm³ dry at 15 % O2, flow 12,000 Nm³/h, the dust analyser
    in malfunction 04:00–06:00; 28 Nov: burning from 00:00, readings until 01:00. The jobs run."""
    influx_store = InfluxStore(influx.url, "emission_loads_api")
    influx_store.ensure_database()
    start = day_bounds_ms(DAY, plant.zone)[0]
    today = day_bounds_ms(TODAY, plant.zone)[0]
    points = [_state(start - HOUR, "cold"), _state(start, "burning"), _state(start + 16 * HOUR, "cold"), _state(today, "burning")]
    for day_start, minutes in ((start, 16 * 60), (today, 60)):
        points += _minutes("o2", day_start, minutes, 15.0)
        points += _minutes("flow", day_start, minutes, 12_000.0)
    points += _minutes("dust", start, 4 * 60, 50.0) + _minutes("dust", start + 6 * HOUR, 10 * 60, 50.0)
    points += _minutes("dust", start + 4 * HOUR, 120, 50.0, "malfunction")
    points += _minutes("dust", today, 60, 50.0)
    influx_store.write(points)
    jobs = ComplianceJobs(influx_store, clock_ms=lambda: NOW_MS)
    jobs.run_day(plant, DAY)
    jobs.run_half_hour(plant, today + 30 * MIN)
    jobs.run_half_hour(plant, today + HOUR)
    yield from run_api(influx_store, catalog, tmp_path_factory.mktemp("emission-loads"))
    influx_store.drop_database()
    influx_store.close()


def test_the_jobs_store_loads_from_the_measured_concentration(served: Api, plant: PlantConfig) -> None:
    start, end = day_bounds_ms(DAY, plant.zone)
    halves = read_averages(served.store, "kotim", start, end, profile="eu-ied-annex-vi", pollutant="dust", period="30min")
    first = halves[("eu-ied-annex-vi", "dust", "30min", start)]
    # the stored compliance value is normalised: 50 × (21 − 11) / (21 − 15) = 83.33 mg/Nm³, minus the CI 30 % × 10 = 3
    assert first.value == pytest.approx(50 * 10 / 6 - 3)
    windows = {w.start_ms: w for w in read_window_loads(served.store, "kotim", start, end, pollutant="dust")}
    # the load uses the gas as it left the stack: 50 mg/Nm³ × 12,000 Nm³/h × 1e-6 = 0.6 kg/h, × 0.5 h = 0.3 kg
    assert windows[start].state == "counted" and windows[start].kg == pytest.approx(0.3)
    assert windows[start + 4 * HOUR].state == "not_valid" and windows[start + 4 * HOUR].kg == 0
    (day,) = read_day_loads(served.store, plant, start, end, pollutant="dust")
    assert day.kg == pytest.approx(8.4) and day.covered_ms == 14 * HOUR and day.operating_ms == 16 * HOUR


def test_hourly_loads_through_the_api(served: Api) -> None:
    r = served.get(LOADS, params={"period": "2026-11-27", "by": "hour", "pollutant": "dust"}, role=Role.EVALUATOR)
    assert r.status_code == 200, r.text
    body = r.json()
    hours = {row["key"][11:16]: row for row in body["loads"]}
    assert len(hours) == 24
    # 00:00–01:00: two counted half-hours, 0.6 kg/h for 1 h = 0.6 kg
    assert hours["00:00"]["kg"] == pytest.approx(0.6) and hours["00:00"]["kg_h"] == pytest.approx(0.6)
    assert (hours["00:00"]["covered_h"], hours["00:00"]["coverage"]) == (1.0, 1.0)
    # 04:00–05:00, analyser in malfunction: nothing counted, the operating hour reported as not covered
    assert (hours["04:00"]["kg"], hours["04:00"]["covered_h"], hours["04:00"]["operating_h"]) == (0, 0, 1)
    assert hours["04:00"]["kg_h"] is None
    # 17:00, the plant cold: no load and no operating time
    assert (hours["17:00"]["kg"], hours["17:00"]["operating_h"], hours["17:00"]["period_h"]) == (0, 0, 1)
    (basis,) = body["bases"]
    assert basis["flow_basis"] == "dry" and basis["flow_basis_status"] == "U" and basis["unconfirmed"]
    assert "before the O2 correction" in basis["concentration"]


def test_daily_monthly_and_annual_loads_with_their_coverage(served: Api) -> None:
    days = served.get(LOADS, params={"period": "2026-11", "by": "day", "pollutant": "dust"}).json()
    by_day = {row["key"]: row for row in days["loads"]}
    assert len(by_day) == 30
    day = by_day["2026-11-27"]
    # 16 operating hours − 2 h malfunction = 14 h × 0.6 kg/h = 8.4 kg; covered 14 h of 16 operating, of 24 h
    assert day["kg"] == pytest.approx(8.4) and day["tonnes"] == pytest.approx(0.0084)
    assert (day["covered_h"], day["operating_h"], day["period_h"]) == (14, 16, 24)
    assert day["coverage"] == pytest.approx(14 / 24) and day["operating_coverage"] == pytest.approx(14 / 16)
    # the labelled estimate: 8.4 kg × 16 h / 14 h = 9.6 kg (not added to the measured figure)
    assert day["estimate_kg"] == pytest.approx(9.6)
    # today so far, from the half-hour jobs: 00:00–01:00, 0.6 kg over 1 h
    assert by_day["2026-11-28"]["kg"] == pytest.approx(0.6) and by_day["2026-11-28"]["covered_h"] == 1
    assert by_day["2026-11-01"]["kg"] == 0 and by_day["2026-11-01"]["covered_h"] == 0, "no data, nothing invented"
    (month,) = served.get(LOADS, params={"period": "2026-11", "by": "month", "pollutant": "dust"}).json()["loads"]
    # 8.4 kg + 0.6 kg = 9.0 kg over 15 h covered of 720 h in November
    assert month["kg"] == pytest.approx(9.0) and (month["covered_h"], month["period_h"]) == (15, 720)
    year = served.get(LOADS, params={"period": "2026", "by": "year"}).json()
    dust = next(row for row in year["loads"] if row["pollutant"] == "dust")
    assert dust["key"] == "2026" and dust["tonnes"] == pytest.approx(0.009) and dust["period_h"] == 8760
    co = next(row for row in year["loads"] if row["pollutant"] == "co")
    assert co["kg"] == 0 and co["covered_h"] == 0, "CO had no readings: its load is zero with zero hours covered"
    assert {row["pollutant"] for row in year["totals"]} == {"co", "dust", "hcl", "nox", "so2", "toc"}


def test_a_range_not_on_day_boundaries_reads_the_partial_days_from_the_windows(served: Api) -> None:
    r = served.get(LOADS, params={"start": "2026-11-27T10:00:00+07:00", "end": "2026-11-28T00:30:00+07:00", "by": "day",
                                  "pollutant": "dust"})
    rows = {row["key"]: row for row in r.json()["loads"]}
    # 27 Nov 10:00–16:00: 6 h × 0.6 kg/h = 3.6 kg; 28 Nov 00:00–00:30: 0.3 kg
    assert rows["2026-11-27"]["kg"] == pytest.approx(3.6) and rows["2026-11-27"]["period_h"] == 14
    assert rows["2026-11-28"]["kg"] == pytest.approx(0.3) and rows["2026-11-28"]["period_h"] == 0.5


def test_loads_as_csv(served: Api) -> None:
    r = served.get(LOADS, params={"period": "2026-11-27", "by": "day", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    dust = next(row for row in rows if row["pollutant"] == "dust")
    assert float(dust["kg"]) == pytest.approx(8.4) and float(dust["covered_h"]) == 14 and "estimate_kg" in dust


@pytest.mark.parametrize(("params", "status", "says"), [
    ({"by": "week"}, 422, "by"),
    ({"pollutant": "hf"}, 404, "no load of 'hf'"),
    ({"profile": "id-data-availability"}, 404, "no loads of profile"),
    ({"period": "2026", "by": "hour"}, 422, "ask by a longer period"),
    ({"period": "2026-13"}, 422, "month"),
    ({"pollutant": "DROP MEASUREMENT"}, 422, "pollutant"),
])
def test_bad_requests_are_a_4xx_with_a_message(served: Api, params: dict[str, str], status: int, says: str) -> None:
    r = served.get(LOADS, params=params)
    assert r.status_code == status, r.text
    assert says in r.text


def test_the_evaluator_reads_loads_and_no_key_does_not(served: Api) -> None:
    assert served.get(LOADS, role=Role.EVALUATOR).status_code == 200
    assert served.client.get(LOADS).status_code == 401


def test_the_report_has_a_loads_table_in_both_languages_with_units(served: Api, plant: PlantConfig) -> None:
    from tests.test_report_reading import OTHER, read_both  # lazy: its module fixtures are not needed here

    report = build_report(served.store, plant, "2026-11", now_ms=NOW_MS)
    data = report_data(report)
    dust = next(t for t in data["loads"]["totals"] if t["pollutant"] == "dust")
    # 27 Nov 8.4 kg + 28 Nov 0.6 kg = 9.0 kg over 15 h covered of 17 operating hours (16 + the first hour today)
    assert dust["kg"] == pytest.approx(9.0) and (dust["covered_h"], dust["operating_h"]) == (15, 17)
    expected = {
        "id": ["Beban emisi (massa emisi)", "9,00\u00a0kg", "0,600\u00a0kg/jam", "15,0 / 17,0\u00a0jam (2,1\u00a0%)",
               "10,20\u00a0kg", "sebelum koreksi O₂", "Basis alat ukur laju alir: kering (belum dikonfirmasi)",
               "tidak diekstrapolasi", "bukan hasil ukur"],
        "en": ["Emission loads (mass emissions)", "9.00\u00a0kg", "0.600\u00a0kg/h", "15.0 / 17.0\u00a0h (2.1\u00a0%)",
               "10.20\u00a0kg", "before the O₂ correction", "Flow meter basis: dry (unconfirmed)", "not extrapolated",
               "not measured"],
    }
    for lang in ("id", "en"):
        for content in read_both(report, lang):
            leaked = [phrase for phrase in OTHER[lang] if phrase in content]
            assert not leaked, (lang, leaked)
            missing = [phrase for phrase in expected[lang] if phrase.replace("\u00a0", " ") not in content.replace("\u00a0", " ")]
            assert not missing, (lang, missing)
    rows = [r for r in csv_rows(data) if r[0] == "emission_load" and r[1] == "eu-ied-annex-vi/dust"]
    assert ("emission_load", "eu-ied-annex-vi/dust", "kg", "9") in rows


def test_the_annual_report_gives_tonnes_per_year_and_the_months(served: Api, plant: PlantConfig) -> None:
    from tests.test_report_reading import read_both  # lazy: its module fixtures are not needed here

    report = build_report(served.store, plant, "2026", now_ms=NOW_MS)
    for content, lang in zip(read_both(report, "id") + read_both(report, "en"), ("id", "id", "en", "en")):
        text = content.replace("\u00a0", " ")
        # 9.0 kg = 0.009 t in 2026 so far; November's row names its hours covered
        loads = text[text.find("Beban emisi" if lang == "id" else "Emission loads"):][:2500]
        assert ("0,009 t/tahun" if lang == "id" else "0.009 t/year") in loads, loads
        assert ("Nov 2026" in text) and (("9,00 kg (15,0 jam)" if lang == "id" else "9.00 kg (15.0 h)") in text)


class RecordingStore:
    """The real store, with the points of every write kept to look at."""

    def __init__(self, store: InfluxStore) -> None:
        self.store = store
        self.written: list[Point] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def write(self, points: Sequence[Point]) -> None:
        self.written += points
        self.store.write(points)


def test_late_data_changes_the_loads_and_a_rerun_writes_none(influx_store: InfluxStore, plant: PlantConfig) -> None:
    start = day_bounds_ms(DAY, plant.zone)[0]
    points = [_state(start - HOUR, "cold"), _state(start, "burning"), _state(start + 4 * HOUR, "cold")]
    points += _minutes("dust", start, 240, 50.0) + _minutes("o2", start, 240, 11.0) + _minutes("flow", start, 240, 12_000.0)
    influx_store.write(points)
    recording = RecordingStore(influx_store)
    jobs = ComplianceJobs(recording, clock_ms=lambda: NOW_MS)  # type: ignore[arg-type]
    jobs.run_day(plant, DAY)
    (day,) = read_day_loads(influx_store, plant, start, start + 86_400_000, pollutant="dust")
    assert day.kg == pytest.approx(4 * 0.6) and day.covered_ms == 4 * HOUR  # 4 h × 0.6 kg/h = 2.4 kg
    loads = {EMISSION_LOAD, EMISSION_LOAD_DAY}
    assert any(p.measurement in loads for p in recording.written)

    recording.written.clear()
    jobs.recompute(plant, start, start + 86_400_000)
    assert not [p for p in recording.written if p.measurement in loads], "nothing changed: no load is written again"

    # late data: the flow meter was in maintenance 01:00–01:30 after all
    influx_store.write(_minutes("flow", start + HOUR, 30, 12_000.0, "maintenance"))
    jobs.recompute(plant, start + HOUR, start + HOUR + 30 * MIN)
    rewritten = [p for p in recording.written if p.measurement in loads]
    assert {(p.measurement, p.time_ms) for p in rewritten} == {(EMISSION_LOAD, start + HOUR), (EMISSION_LOAD_DAY, start)}
    (day,) = read_day_loads(influx_store, plant, start, start + 86_400_000, pollutant="dust")
    # 3.5 h × 0.6 kg/h = 2.1 kg; the half-hour without flow is operating time not covered
    assert day.kg == pytest.approx(2.1) and (day.covered_ms, day.operating_ms) == (3.5 * HOUR, 4 * HOUR)
