"""A year judged from stored results (V5, V6, V7, V8) and specific emissions per tonne, worked by hand,
through both stores."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from compliance.kpi_reader import read_specific_emissions
from compliance.year_reader import read_year
from wastewatch.compliance.kpis import emitted_mass_g, specific_emission_g_t
from wastewatch.compliance.profiles import load_bundled_profiles
from wastewatch.compliance.quality import QualityCode as Q
from wastewatch.compliance.results import AverageRecord, DayRecord
from wastewatch.compliance.samples import Sample
from wastewatch.compliance.windows import day_bounds_ms
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Store
from wastewatch.records import Batch, Reading

EU = load_bundled_profiles()["eu-ied-annex-vi"]
MIN = 60_000
HOUR = 60 * MIN
HALF = 30 * MIN
FIRST = date(2026, 1, 1)


@pytest.fixture
def plant(catalog: PlantCatalog) -> PlantConfig:
    found = catalog.get("kotim")
    assert found is not None
    return found


def day_record(plant: PlantConfig, pollutant: str, n: int, quality: Q, value: float | None) -> DayRecord:
    d = FIRST + timedelta(days=n)
    return DayRecord("kotim", EU.id, pollutant, d, day_bounds_ms(d, plant.zone)[0], "30min", quality, value, 40, 0, "1")


def half_hour(start_ms: int, pollutant: str, value: float) -> AverageRecord:
    return AverageRecord("kotim", EU.id, pollutant, "30min", start_ms, Q.VALID, value, value, 0.0, 30, 0, 30, "1")


def test_a_year_of_stored_results_judged_by_v5_to_v8(store: Store, plant: PlantConfig) -> None:
    days = (
        # dust: 12 days discarded for maintenance (V5 allows 10), valid days at 8, 9 and 12 (daily limit 10)
        [day_record(plant, "dust", n, Q.MAINTENANCE, None) for n in range(12)]
        + [day_record(plant, "dust", 20 + i, Q.VALID, v) for i, v in enumerate((8.0, 9.0, 12.0))]
        # CO: 32 days at 20 and one at 60 → 32 / 33 = 96.97 % within 50, under the 97 % V7 asks
        + [day_record(plant, "co", n, Q.VALID, 20.0) for n in range(32)] + [day_record(plant, "co", 40, Q.VALID, 60.0)]
        + [day_record(plant, "hcl", n, Q.VALID, 5.0) for n in range(2)]
    )
    t0 = day_bounds_ms(date(2026, 3, 2), plant.zone)[0] + 9 * HOUR
    # dust half-hours 09:00 40, 09:30 160, 10:00 35 (column A 30): one abnormal event of 3 × 0.5 = 1.5 h
    # with one value above the 150 dust cap; and a 5 the next day
    halves = [half_hour(t0 + i * HALF, "dust", v) for i, v in enumerate((40.0, 160.0, 35.0))] + [half_hour(t0 + 24 * HOUR, "dust", 5.0)]
    store.write([d.to_point() for d in days] + [h.to_point() for h in halves])

    (report,) = read_year(store, plant, [EU], 2026, now_ms=day_bounds_ms(date(2027, 1, 1), plant.zone)[0])
    assert (len(report.v5["dust"].discarded_days), report.v5["dust"].ok, report.v5["hcl"].ok) == (12, False, True)
    dust = report.v6["dust"]
    assert [d.value for d in dust.daily_exceedances] == [12.0]
    # 3 of 4 half-hours above column A 30; 1 of 4 = 25 % at or below column B 10, under 97 %
    assert (len(dust.over_column_a), dust.share_within_b, dust.passed) == (3, 0.25, False)
    assert report.v6["hcl"].passed and "co" not in report.v6
    assert report.v7 is not None and report.v7.daily_share_within == pytest.approx(32 / 33) and not report.v7.passed_daily
    assert report.v7.failed_windows == ()  # no CO half-hour above 100
    v8 = report.v8
    assert v8 is not None and v8.total_h == pytest.approx(1.5) and len(v8.events) == 1
    assert [a.value for a in v8.dust_over_cap] == [160.0] and not v8.passed
    assert report.passed is False


def test_emitted_mass_and_grams_per_tonne_by_hand() -> None:
    # CO 50 mg/Nm3 at 6000 Nm3/h for 60 one-minute samples: 50 × 6000 × 1/60 h × 60 = 300 000 mg = 300 g
    co = [Sample(i * MIN, 50.0) for i in range(60)]
    flow = [Sample(i * MIN, 6000.0) for i in range(60)]
    extra = [Sample(60 * MIN, 900.0, "maintenance"), Sample(61 * MIN, 900.0)]  # flagged; then no flow to pair with
    assert emitted_mass_g(co + extra, flow, 60, pair_tolerance_ms=30_000) == pytest.approx(300.0)
    # 10 batches of 25 kg = 0.25 t → 300 g / 0.25 t = 1200 g/t
    assert specific_emission_g_t(300.0, 0.25) == pytest.approx(1200.0)
    assert specific_emission_g_t(300.0, 0.0) is None


def test_specific_emissions_from_the_store(store: Store, plant: PlantConfig) -> None:
    t0 = day_bounds_ms(date(2026, 11, 28), plant.zone)[0] + 10 * HOUR
    store.write([Reading("kotim", "co", t0 + m * MIN, 50.0).to_point() for m in range(60)])
    store.write([Reading("kotim", "dust", t0 + m * MIN, 2.0).to_point() for m in range(60)])
    store.write([Reading("kotim", "flow", t0 + m * MIN, 6000.0).to_point() for m in range(60)])
    store.write([Batch("kotim", f"b{i}", t0 + i * 5 * MIN, 25.0, "rsud-murjani").to_point() for i in range(10)])
    found = read_specific_emissions(store, plant, t0, t0 + HOUR)
    # CO as above: 1200 g/t; dust 2 × 6000 × 1 h = 12 g → 12 / 0.25 = 48 g/t; no SO2 readings → 0 g
    assert found["co"] == pytest.approx(1200.0) and found["dust"] == pytest.approx(48.0) and found["so2"] == 0.0
