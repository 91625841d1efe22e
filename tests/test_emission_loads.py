"""Emission loads (mass emissions) in the pure core: worked examples with the arithmetic written out,
gaps that contribute nothing and are reported as not covered, the basis (dry, before the O2
correction; a wet flow meter converted with H2O) and the calendar totals."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wastewatch.compliance.loads import (
    CalendarBucket,
    LoadPart,
    LoadSeries,
    WindowLoad,
    WindowQuality,
    calendar_buckets,
    day_loads,
    dry_flow,
    mass_flow_kg_h,
    plan_loads,
    totals,
    window_loads,
)
from wastewatch.compliance.profiles import Loads, Profile, load_bundled_profiles
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.samples import Sample, SampleStatus
from wastewatch.compliance.timeline import OperatingTimeline
from wastewatch.compliance.windows import day_bounds_ms
from wastewatch.operating_state import OperatingState as S
from wastewatch.plant import PlantCatalog, PlantConfig

DAY = date(2026, 11, 2)
MIN = 60_000
HALF = 30 * MIN
HOUR = 60 * MIN


@pytest.fixture(scope="module")
def plant(catalog: PlantCatalog) -> PlantConfig:
    found = catalog.get("kotim")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def eu() -> Profile:
    return load_bundled_profiles()["eu-ied-annex-vi"]


def dust_load(plant: PlantConfig, profile: Profile) -> LoadSeries:
    return next(s for s in plan_loads(plant, [profile]) if s.pollutant == "dust")


def minutes(start_ms: int, count: int, value: float, status: SampleStatus = "valid") -> list[Sample]:
    return [Sample(start_ms + i * MIN, value, status) for i in range(count)]


def shift_day(plant: PlantConfig, burning_h: float = 16) -> tuple[int, OperatingTimeline]:
    """The plant burns from local midnight for `burning_h` hours, then is cold."""
    start = day_bounds_ms(DAY, plant.zone)[0]
    return start, OperatingTimeline(((start, S.BURNING), (start + round(burning_h * HOUR), S.COLD)))


def day_windows(start: int, quality: dict[int, QualityCode] | None = None, burning_h: float = 16) -> list[WindowQuality]:
    """The 48 half-hours of the day: valid while burning (unless `quality` says otherwise), no_waste after."""
    q = quality or {}
    return [WindowQuality(start + i * HALF, q.get(i, QualityCode.VALID if i < burning_h * 2 else QualityCode.NO_WASTE))
            for i in range(48)]


def test_mass_flow_is_concentration_times_flow_on_one_basis() -> None:
    # 50 mg/Nm³ × 12,000 Nm³/h = 600,000 mg/h = 0.6 kg/h
    assert mass_flow_kg_h(50.0, 12_000.0) == pytest.approx(0.6)
    # a wet meter's 12,000 Nm³/h at 20 % H2O is 12,000 × 80 / 100 = 9,600 Nm³/h dry
    assert dry_flow(12_000.0, 20.0) == pytest.approx(9_600.0)
    with pytest.raises(ValueError):
        dry_flow(12_000.0, 100.0)


def test_the_profile_states_the_basis_and_its_status(eu: Profile) -> None:
    loads = eu.loads
    assert loads is not None
    assert loads.flow_basis == "dry" and loads.flow_basis_status == "U", "the Kotim meter's basis is unconfirmed"
    assert loads.status == "A" and loads.unconfirmed
    with pytest.raises(ValueError, match="only an emission_limits profile"):
        Profile.model_validate({**load_bundled_profiles()["id-p56-2015"].model_dump(), "loads": loads.model_dump()})


def test_a_day_of_16_operating_hours(plant: PlantConfig, eu: Profile) -> None:
    start, timeline = shift_day(plant)
    samples = {"dust": minutes(start, 1440, 50.0), "flow": minutes(start, 1440, 12_000.0)}
    loads = window_loads("kotim", dust_load(plant, eu), samples, timeline, day_windows(start))
    counted = [w for w in loads if w.state == "counted"]
    # 16 h burning = 32 half-hours, each 0.6 kg/h × 0.5 h = 0.3 kg
    assert len(counted) == 32
    assert all(w.kg == pytest.approx(0.3) and w.kg_h == pytest.approx(0.6) for w in counted)
    assert {w.state for w in loads if w not in counted} == {"idle"}, "the 8 cold hours emit nothing and are idle"
    (day,) = day_loads(loads, plant.zone)
    # 32 × 0.3 kg = 9.6 kg = 0.6 kg/h × 16 h
    assert day.kg == pytest.approx(9.6)
    assert day.covered_ms == day.operating_ms == 16 * HOUR
    (total,) = totals([LoadPart.of(day)], calendar_buckets("day", *day_bounds_ms(DAY, plant.zone), plant.zone),
                      [("eu-ied-annex-vi", "dust")])
    assert total.kg == pytest.approx(9.6)
    assert (total.covered_h, total.operating_h, total.period_h) == (16, 16, 24)
    assert total.coverage == pytest.approx(16 / 24) and total.operating_coverage == 1.0
    assert total.kg_h == pytest.approx(0.6)


def test_the_concentration_is_the_measured_dry_value_not_the_o2_normalised_one(plant: PlantConfig, eu: Profile) -> None:
    """O2 at 15 % would normalise 50 mg/Nm³ to 50 × (21 − 11) / (21 − 15) = 83.3 mg/Nm³ at 11 % O2; the gas
    that left the stack carried 50 mg/Nm³, so the load stays 0.6 kg/h."""
    start, timeline = shift_day(plant)
    samples = {"dust": minutes(start, 1440, 50.0), "flow": minutes(start, 1440, 12_000.0), "o2": minutes(start, 1440, 15.0)}
    loads = window_loads("kotim", dust_load(plant, eu), samples, timeline, day_windows(start))
    assert {round(w.kg_h or 0, 9) for w in loads if w.state == "counted"} == {0.6}


def test_a_wet_flow_meter_is_converted_with_the_paired_h2o(plant: PlantConfig, eu: Profile) -> None:
    assert eu.loads is not None
    wet = eu.model_copy(update={"loads": eu.loads.model_copy(update={"flow_basis": "wet"})})
    load = dust_load(plant, wet)
    assert load.sensor_ids == ["dust", "flow", "h2o"]
    start, timeline = shift_day(plant)
    samples = {"dust": minutes(start, 1440, 50.0), "flow": minutes(start, 1440, 12_000.0), "h2o": minutes(start, 1440, 20.0)}
    loads = window_loads("kotim", load, samples, timeline, day_windows(start))
    # 50 mg/Nm³ × 9,600 Nm³/h dry × 1e-6 = 0.48 kg/h; 16 h → 7.68 kg
    assert {round(w.kg_h or 0, 9) for w in loads if w.state == "counted"} == {0.48}
    assert day_loads(loads, plant.zone)[0].kg == pytest.approx(7.68)
    # without H2O a wet flow cannot be made dry: nothing counts
    no_h2o = window_loads("kotim", load, {k: v for k, v in samples.items() if k != "h2o"}, timeline, day_windows(start))
    assert {w.state for w in no_h2o if w.operating_ms} == {"no_flow"}


def test_gaps_contribute_nothing_and_are_reported_as_not_covered(plant: PlantConfig, eu: Profile) -> None:
    """A 2-hour calibration (4 half-hours of quality maintenance) and 1 hour without flow (its meter flagged)."""
    start, timeline = shift_day(plant)
    maintenance = {i: QualityCode.MAINTENANCE for i in (8, 9, 10, 11)}  # 04:00–06:00
    flow = minutes(start, 1440, 12_000.0)
    flow[600:660] = minutes(start + 600 * MIN, 60, 12_000.0, "malfunction")  # 10:00–11:00
    samples = {"dust": minutes(start, 1440, 50.0), "flow": flow}
    loads = window_loads("kotim", dust_load(plant, eu), samples, timeline, day_windows(start, maintenance))
    states = {w.start_ms: w.state for w in loads}
    assert [states[start + i * HALF] for i in (8, 11, 20, 21)] == ["not_valid", "not_valid", "no_flow", "no_flow"]
    (day,) = day_loads(loads, plant.zone)
    # counted: 32 − 4 − 2 = 26 half-hours × 0.3 kg = 7.8 kg over 13 h; operating 16 h; the day 24 h
    assert day.kg == pytest.approx(7.8)
    assert (day.covered_ms, day.operating_ms, day.n_counted, day.n_operating) == (13 * HOUR, 16 * HOUR, 26, 32)
    (total,) = totals([LoadPart.of(day)], calendar_buckets("day", *day_bounds_ms(DAY, plant.zone), plant.zone),
                      [("eu-ied-annex-vi", "dust")])
    assert total.coverage == pytest.approx(13 / 24) and total.operating_coverage == pytest.approx(13 / 16)
    # the one estimate, labelled as such: 7.8 kg × 16 h / 13 h = 9.6 kg (the measured figure stays 7.8)
    assert total.estimate_kg == pytest.approx(9.6) and total.kg == pytest.approx(7.8)


def test_a_window_partly_in_operation_counts_only_its_operating_time(plant: PlantConfig, eu: Profile) -> None:
    start, timeline = shift_day(plant, burning_h=16 + 20 / 60)  # burning until 16:20
    samples = {"dust": minutes(start, 1440, 50.0), "flow": minutes(start, 1440, 12_000.0)}
    loads = window_loads("kotim", dust_load(plant, eu), samples, timeline, day_windows(start, {32: QualityCode.VALID}))
    last = next(w for w in loads if w.start_ms == start + 32 * HALF)
    # 16:00–16:20: 0.6 kg/h × 20/60 h = 0.2 kg, 20 minutes covered of the half-hour
    assert last.state == "counted" and last.kg == pytest.approx(0.2) and last.covered_ms == 20 * MIN


def test_abnormal_operation_half_hours_count(plant: PlantConfig, eu: Profile) -> None:
    """The mass left the stack during abnormal operation as well: its half-hours carry a value and count."""
    start, timeline = shift_day(plant)
    samples = {"dust": minutes(start, 1440, 50.0), "flow": minutes(start, 1440, 12_000.0)}
    loads = window_loads("kotim", dust_load(plant, eu), samples, timeline,
                         day_windows(start, {0: QualityCode.ABNORMAL_OPERATION}))
    assert loads[0].state == "counted" and loads[0].quality == QualityCode.ABNORMAL_OPERATION


def test_a_month_and_a_year_in_tonnes(plant: PlantConfig, eu: Profile) -> None:
    start, timeline = shift_day(plant)
    samples = {"dust": minutes(start, 1440, 50.0), "flow": minutes(start, 1440, 12_000.0)}
    (day,) = day_loads(window_loads("kotim", dust_load(plant, eu), samples, timeline, day_windows(start)), plant.zone)
    year_start = day_bounds_ms(date(2026, 1, 1), plant.zone)[0]
    year_end = day_bounds_ms(date(2027, 1, 1), plant.zone)[0]
    # the same 9.6 kg day on every day of 2026
    parts = [LoadPart("eu-ied-annex-vi", "dust", day_bounds_ms(date(2026, 1, 1) + timedelta(days=i), plant.zone)[0], day.kg,
                      day.covered_ms, day.operating_ms) for i in range(365)]
    months = totals(parts, calendar_buckets("month", year_start, year_end, plant.zone), [("eu-ied-annex-vi", "dust")])
    november = next(m for m in months if m.key == "2026-11")
    # November: 30 days × 9.6 kg = 288 kg, 30 × 16 h = 480 h covered of 720 h
    assert november.kg == pytest.approx(288.0) and november.covered_h == 480 and november.period_h == 720
    (year,) = totals(parts, calendar_buckets("year", year_start, year_end, plant.zone), [("eu-ied-annex-vi", "dust")])
    # 2026: 365 × 9.6 kg = 3,504 kg = 3.504 t/year over 5,840 h of 8,760 h
    assert year.tonnes == pytest.approx(3.504) and year.covered_h == 5840 and year.period_h == 8760
    assert sum(m.kg for m in months) == pytest.approx(year.kg)


def test_a_bucket_without_data_is_zero_with_zero_hours_covered(plant: PlantConfig) -> None:
    start, end = day_bounds_ms(DAY, plant.zone)
    found = totals([], calendar_buckets("hour", start, end, plant.zone), [("eu-ied-annex-vi", "dust")])
    assert len(found) == 24 and all(t.kg == 0 and t.covered_h == 0 and t.kg_h is None and t.estimate_kg is None for t in found)
    assert all(t.coverage == 0 for t in found)


def test_calendar_buckets_follow_the_local_calendar_and_clip_to_the_range(plant: PlantConfig) -> None:
    zone = plant.zone
    start = int(datetime(2026, 11, 2, 10, 30, tzinfo=zone).timestamp() * 1000)
    end = int(datetime(2026, 11, 4, 6, 0, tzinfo=zone).timestamp() * 1000)
    days = calendar_buckets("day", start, end, zone)
    assert [d.key for d in days] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert (days[0].hours, days[1].hours, days[2].hours) == (13.5, 24.0, 6.0)
    hours = calendar_buckets("hour", start, end, zone)
    assert hours[0] == CalendarBucket("2026-11-02T10:00+07:00", start, start + HALF)
    assert len(hours) == 14 + 24 + 6 and sum(h.hours for h in hours) == pytest.approx((end - start) / HOUR)
    assert [m.key for m in calendar_buckets("month", start, end, zone)] == ["2026-11"]


def test_a_window_load_survives_the_store_round_trip() -> None:
    w = WindowLoad("kotim", "eu-ied-annex-vi", "dust", "30min", 1_000, "counted", QualityCode.VALID, 0.3, 0.6, HALF, HALF, 30, "1+x")
    assert WindowLoad.from_point(w.to_point()) == w
    lost = WindowLoad("kotim", "eu-ied-annex-vi", "dust", "30min", 1_000, "not_valid", QualityCode.MAINTENANCE, 0.0, None, 0, HALF, 0, "1+x")
    # a rewrite merges fields: the old kg stays in the store but a window that no longer counts reads as 0
    merged = {**w.to_point().fields, **lost.to_point().fields}
    assert merged["kg"] == 0.0 and WindowLoad.from_point(lost.to_point()).kg == 0.0


def test_loads_need_a_flow_meter_in_nm3_per_hour(plant: PlantConfig, eu: Profile) -> None:
    no_flow = plant.model_copy(update={"sensors": [s for s in plant.sensors if s.quantity != "flow"]})
    assert plan_loads(no_flow, [eu]) == []
    assert {s.pollutant for s in plan_loads(plant, [eu])} == {"co", "dust", "hcl", "nox", "so2", "toc"}
    assert plan_loads(plant, [eu.model_copy(update={"loads": None})]) == []
    assert isinstance(eu.loads, Loads)


_STATUSES: list[SampleStatus] = ["valid", "valid", "valid", "maintenance", "malfunction", "suspect"]
_VALUES = st.one_of(st.floats(min_value=-1e6, max_value=1e9), st.just(float("nan")), st.just(float("inf")), st.just(0.0))
_SAMPLES = st.lists(st.tuples(st.integers(-30, 1470), _VALUES, st.sampled_from(_STATUSES)), max_size=120)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dust=_SAMPLES, flow=_SAMPLES, h2o=_SAMPLES, wet=st.booleans(),
       changes=st.lists(st.tuples(st.integers(-60, 1500), st.sampled_from(list(S))), max_size=8),
       qualities=st.lists(st.sampled_from(list(QualityCode)), min_size=48, max_size=48))
def test_hostile_samples_give_one_load_per_window_and_never_a_negative_or_unbounded_mass(
    plant: PlantConfig, eu: Profile, dust: list[tuple[int, float, SampleStatus]], flow: list[tuple[int, float, SampleStatus]],
    h2o: list[tuple[int, float, SampleStatus]], wet: bool, changes: list[tuple[int, S]], qualities: list[QualityCode],
) -> None:
    assert eu.loads is not None
    profile = eu.model_copy(update={"loads": eu.loads.model_copy(update={"flow_basis": "wet" if wet else "dry"})})
    start = day_bounds_ms(DAY, plant.zone)[0]
    samples = {sid: [Sample(start + m * MIN, v, status) for m, v, status in values]
               for sid, values in (("dust", dust), ("flow", flow), ("h2o", h2o))}
    timeline = OperatingTimeline(tuple((start + m * MIN, state) for m, state in changes))
    windows = [WindowQuality(start + i * HALF, q) for i, q in enumerate(qualities)]
    loads = window_loads("kotim", dust_load(plant, profile), samples, timeline, windows)
    assert [w.start_ms for w in loads] == [w.start_ms for w in windows]  # one answer per window, whatever came in
    for w in loads:
        assert 0 <= w.covered_ms <= w.operating_ms <= HALF
        assert w.kg >= 0 and (w.state == "counted") == (w.covered_ms > 0 and w.kg_h is not None)
        if w.kg_h is not None:
            assert w.kg == pytest.approx(w.kg_h * w.covered_ms / HOUR)
    (day,) = day_loads(loads, plant.zone)
    assert day.kg == pytest.approx(sum(w.kg for w in loads)) and day.covered_ms <= day.operating_ms
