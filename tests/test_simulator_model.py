"""The plant simulator's pure model: determinism, plausible physics, the operating cycle, each fault
of domain.md §4, and the messages it claims the ingest will store or dead-letter."""

from __future__ import annotations

import itertools
import json
import re
import statistics
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from alerts import AlertRaised, OperatingState, PlantSignals, PlantState, RuleBook, bundled_rules_path, load_rules, observe_signal, settle
from alerts.events import AlertEvent
from simulators.model import Generated, PlantModel, generate_messages
from simulators.scenarios import FAULT_NAMES, INVALID_REASONS, FaultWindow, parse_duration_s, parse_fault_spec
from simulators.schedule import ContinuousSchedule
from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.plant import PlantCatalog, PlantConfig, load_catalog
from wastewatch.records import Batch, Reading

ZONE = ZoneInfo("Asia/Jakarta")
MIN_MS = 60_000
HOUR_MS = 3_600_000
CEMS_SENSORS = ("o2", "co", "nox", "so2", "hcl", "dust", "toc", "flow", "h2o", "opacity")


def local_ms(hour: int, minute: int = 0, day: int = 28) -> int:
    return int(datetime(2026, 11, day, hour, minute, tzinfo=ZONE).timestamp() * 1000)


@pytest.fixture(scope="module")
def catalog() -> PlantCatalog:
    return load_catalog(None)


@pytest.fixture(scope="module")
def plant(catalog: PlantCatalog) -> PlantConfig:
    found = catalog.get("kotim")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def normal_day(plant: PlantConfig) -> Generated:
    return generate_messages(plant, seed=11, start_ms=local_ms(0), duration_s=86_400)


def run(plant: PlantConfig, start_ms: int, hours: float, *faults: FaultWindow, seed: int = 7, telemetry: bool = False) -> Generated:
    return generate_messages(plant, seed=seed, start_ms=start_ms, duration_s=hours * 3600, faults=list(faults), telemetry=telemetry)


def fault(name: str, start_ms: int, minutes: float, **params: object) -> FaultWindow:
    return FaultWindow(name, start_ms, minutes * 60, dict(params))  # type: ignore[arg-type]


def readings(gen: Generated, sensor: str, start_ms: int = 0, end_ms: int = 2**62) -> list[Reading]:
    found = [r for m in gen.messages if m.valid for r in m.records if isinstance(r, Reading) and r.sensor == sensor]
    return sorted((r for r in found if start_ms <= r.time_ms < end_ms), key=lambda r: r.time_ms)


def values(gen: Generated, sensor: str, start_ms: int = 0, end_ms: int = 2**62) -> list[float]:
    return [r.value for r in readings(gen, sensor, start_ms, end_ms)]


def batches(gen: Generated, start_ms: int = 0, end_ms: int = 2**62) -> list[Batch]:
    found = {r.batch_id: r for m in gen.messages for r in m.records if isinstance(r, Batch)}
    return sorted((b for b in found.values() if start_ms <= b.time_ms < end_ms), key=lambda b: b.time_ms)


def by_time(gen: Generated, sensor: str) -> dict[int, float]:
    return {r.time_ms: r.value for r in readings(gen, sensor)}


# --- determinism -----------------------------------------------------------------------------------


def test_same_seed_and_inputs_give_byte_identical_messages(plant: PlantConfig) -> None:
    faults = [fault("wet_batch", local_ms(10), 30), fault("duplicates", local_ms(9, 30), 30), fault("out_of_order", local_ms(10), 20)]
    first = run(plant, local_ms(9), 2, *faults)
    second = run(plant, local_ms(9), 2, *faults)
    assert [(m.topic, m.payload, m.at_ms, m.retain) for m in first.messages] == [
        (m.topic, m.payload, m.at_ms, m.retain) for m in second.messages
    ]
    other_seed = run(plant, local_ms(9), 2, *faults, seed=8)
    assert [m.payload for m in other_seed.messages] != [m.payload for m in first.messages]


def test_stepping_in_uneven_chunks_gives_the_same_messages(plant: PlantConfig) -> None:
    faults = [fault("network_outage", local_ms(9, 20), 25), fault("out_of_order", local_ms(9), 60), fault("clock_skew", local_ms(9, 50), 20)]
    start, end = local_ms(9), local_ms(11)
    whole = PlantModel(plant, 5, start, faults, telemetry=True)
    at_once = whole.step(end) + whole.finish()
    chunked_model = PlantModel(plant, 5, start, faults, telemetry=True)
    chunked = []
    for until in range(start + 7_000, end, 13 * MIN_MS + 3_000):
        chunked += chunked_model.step(until)
    chunked += chunked_model.step(end) + chunked_model.finish()
    assert [(m.topic, m.payload, m.at_ms) for m in chunked] == [(m.topic, m.payload, m.at_ms) for m in at_once]


def test_a_data_quality_fault_leaves_the_physics_untouched(plant: PlantConfig) -> None:
    base = run(plant, local_ms(9), 1.5)
    noisy = run(plant, local_ms(9), 1.5, fault("duplicates", local_ms(9), 60, probability=0.5))
    assert by_time(noisy, "t_secondary") == by_time(base, "t_secondary")
    assert by_time(noisy, "o2") == by_time(base, "o2")


# --- the contract and the tally ---------------------------------------------------------------------


@pytest.mark.parametrize("telemetry", [False, True])
def test_the_ingest_decodes_each_message_into_the_records_it_claims(plant: PlantConfig, catalog: PlantCatalog, telemetry: bool) -> None:
    faults = [
        fault("invalid_messages", local_ms(9, 10), 12),
        fault("cems_calibration", local_ms(9, 30), 10),
        fault("network_outage", local_ms(9, 40), 15),
        fault("clock_skew", local_ms(10), 10),
    ]
    gen = run(plant, local_ms(9), 1.5, *faults, telemetry=telemetry)
    for message in gen.messages:
        decoded = decode_message(message.topic, message.payload, catalog, message.at_ms, DecodeLimits())
        if message.valid:
            assert not decoded.rejections, (message.topic, message.payload[:200], decoded.rejections)
            if message.kind != "status":  # a status record is stamped with the receipt time
                assert decoded.records == list(message.records)
        else:
            assert [r.reason for r in decoded.rejections] == [message.expected_reason]
            assert not decoded.records


def test_payloads_follow_the_mqtt_contract(plant: PlantConfig) -> None:
    gen = run(plant, local_ms(9), 1, fault("cems_calibration", local_ms(9, 20), 10))
    kinds = Counter(m.kind for m in gen.messages)
    assert kinds["status"] == len(plant.devices) and kinds["batch"] >= 3
    for message in gen.messages:
        assert message.qos == 1
        if message.kind == "status":
            assert message.retain and message.payload == b"online" and message.topic.startswith("plants/kotim/status/")
            continue
        body = json.loads(message.payload)
        assert not message.retain and isinstance(body["ts"], int)
        if message.kind == "reading":
            assert message.topic.startswith("plants/kotim/sensors/")
            assert set(body) in ({"ts", "value"}, {"ts", "value", "status"})
        elif message.kind == "batch":
            assert message.topic == "plants/kotim/batches"
            assert set(body) == {"ts", "batch_id", "mass_kg", "source", "waste_code", "manifest_no"}


def test_telemetry_mode_sends_one_frame_per_instant_with_the_sensors_due(plant: PlantConfig) -> None:
    gen = run(plant, local_ms(9), 0.5, telemetry=True)
    frames = [json.loads(m.payload) for m in gen.messages if m.kind == "telemetry"]
    assert len(frames) == 180  # one per 10 s
    sizes = Counter(len(f["values"]) for f in frames)
    fast = sum(1 for s in plant.sensors if s.period_s == 10)
    assert sizes == {fast: 150, len(plant.sensors): 30}
    assert not any(m.kind == "reading" for m in gen.messages)


def test_tally_counts_what_the_store_will_hold(plant: PlantConfig) -> None:
    base = run(plant, local_ms(9), 1)
    doubled = run(plant, local_ms(9), 1, fault("duplicates", local_ms(9), 60, probability=0.3))
    assert doubled.tally.copies > 100
    assert doubled.tally.distinct_valid_readings == base.tally.distinct_valid_readings == 60 * (6 * 8 + 12)
    assert doubled.tally.readings_by_sensor == base.tally.readings_by_sensor
    assert doubled.tally.batches == base.tally.batches == len(batches(base))
    assert doubled.tally.batch_mass_total_kg == pytest.approx(sum(b.mass_kg for b in batches(base)))


# --- normal operation --------------------------------------------------------------------------------


def test_every_reported_value_is_within_its_sensor_range(plant: PlantConfig, normal_day: Generated) -> None:
    faulty = run(plant, local_ms(9), 3, *(fault(n, local_ms(9, 30), 40) for n in FAULT_NAMES if n != "invalid_messages"))
    for gen in (normal_day, faulty):
        for message in gen.messages:
            for record in message.records if message.valid else ():
                if isinstance(record, Reading):
                    spec = plant.sensor(record.sensor)
                    assert spec is not None and spec.min <= record.value <= spec.max, record


def test_a_normal_day_follows_the_daily_cycle(normal_day: Generated) -> None:
    night = (local_ms(2), local_ms(4))
    assert max(values(normal_day, "t_secondary", *night)) < 200
    assert set(values(normal_day, "id_fan", *night)) == {0.0}
    assert set(values(normal_day, "burner_secondary", *night)) == {0.0}
    day = (local_ms(10), local_ms(20))
    assert set(values(normal_day, "id_fan", *day)) == {1.0}
    assert statistics.mean(values(normal_day, "burner_secondary", *day)) > 0.95
    assert not batches(normal_day, local_ms(21, 1), local_ms(0, day=29))
    assert not batches(normal_day, local_ms(0), local_ms(5))


def test_no_batch_before_the_secondary_chamber_held_1000_c_for_15_minutes(normal_day: Generated) -> None:
    first = batches(normal_day)[0]
    assert first.time_ms > local_ms(5)
    assert min(values(normal_day, "t_secondary", first.time_ms - 15 * MIN_MS, first.time_ms)) >= 990  # 1000 less sensor noise
    assert min(values(normal_day, "t_secondary", local_ms(5), first.time_ms)) < 1000


def test_a_fault_free_day_feeds_only_when_the_measured_values_permit_it(catalog: PlantCatalog, normal_day: Generated) -> None:
    """The published day through the decoder, the plant state machine and the interlock rules: the
    simulated operator feeds on what the PLC measures, so the alert worker sees no breach."""
    ruleset = load_rules(bundled_rules_path("kotim"), catalog.get("kotim"))
    book = RuleBook([r for r in ruleset.rules if r.id in ("feed_interlock", "t_primary_low")])
    config, start_ms = ruleset.plant_state, local_ms(0)
    now_ms = start_ms + 24 * HOUR_MS
    plant = PlantState(plant="kotim", operating=OperatingState.COLD, since_ms=start_ms)
    signals = PlantSignals()
    states, events = book.evaluate(book.initial_states(), plant, start_ms)
    raised: list[AlertEvent] = [e for e in events if isinstance(e, AlertRaised)]
    for message in normal_day.messages:
        for record in decode_message(message.topic, message.payload, catalog, now_ms, DecodeLimits()).records:
            if not isinstance(record, (Reading, Batch)):
                continue
            signals = observe_signal(signals, record, message.at_ms, config)
            plant, transitions = settle(plant, signals, message.at_ms, config)
            if transitions:  # the plant-state change first, then the record that caused it
                states, events = book.evaluate(states, plant, message.at_ms)
                raised.extend(e for e in events if isinstance(e, AlertRaised))
            states, events = book.evaluate(states, record, message.at_ms)
            raised.extend(e for e in events if isinstance(e, AlertRaised))
    assert plant.operating != OperatingState.BURNING and len(batches(normal_day)) >= 45  # the day was run through
    assert [(e.rule_id, e.message) for e in raised] == []


def test_batches_come_every_15_minutes_at_about_65_kg(plant: PlantConfig, normal_day: Generated) -> None:
    fed = batches(normal_day)
    assert 45 <= len(fed) <= 65
    gaps_min = [(b.time_ms - a.time_ms) / MIN_MS for a, b in itertools.pairwise(fed)]
    assert 14 <= statistics.median(gaps_min) <= 16
    assert all(55 <= b.mass_kg <= 75 for b in fed)
    assert 62 <= statistics.mean(b.mass_kg for b in fed) <= 68
    assert len({b.batch_id for b in fed}) == len(fed)
    assert {b.source for b in fed} <= {f.id for f in plant.facilities}
    assert {b.waste_code for b in fed} <= {"A337-1", "A337-2", "A337-4", "B337-1"}
    assert Counter(b.waste_code for b in fed).most_common(1)[0][0] == "A337-1"
    assert all(re.fullmatch(r"KOTIM-2026-\d{6}", b.manifest_no or "") for b in fed)


def test_burning_values_sit_in_the_typical_ranges(normal_day: Generated) -> None:
    day = (local_ms(9), local_ms(20))
    expected = {
        "t_primary": (820, 880), "t_secondary": (1020, 1080), "o2": (9, 13), "co": (5, 20), "nox": (120, 250),
        "so2": (5, 40), "hcl": (2, 15), "dust": (1, 8), "toc": (1, 5), "flow": (5000, 6500), "h2o": (15, 20),
        "opacity": (2, 6), "draft_primary": (-80, -30), "scrubber_ph": (7.0, 8.5), "scrubber_dp": (1.5, 3.0),
        "t_stack": (65, 85),
    }
    for sensor, (low, high) in expected.items():
        assert low <= statistics.median(values(normal_day, sensor, *day)) <= high, sensor
    assert 15 <= statistics.pstdev(values(normal_day, "t_primary", *day)) <= 40


def test_temperatures_move_smoothly(normal_day: Generated) -> None:
    series = values(normal_day, "t_secondary", local_ms(9), local_ms(20))
    steps = [abs(b - a) for a, b in itertools.pairwise(series)]
    assert max(steps) < 25 and statistics.mean(steps) < 5


def test_a_continuous_schedule_burns_around_the_clock(plant: PlantConfig) -> None:
    gen = generate_messages(plant, seed=3, start_ms=local_ms(0), duration_s=86_400, schedule=ContinuousSchedule())
    fed = batches(gen)
    assert 88 <= len(fed) <= 97
    assert batches(gen, local_ms(2), local_ms(4))
    assert min(values(gen, "t_secondary", local_ms(2), local_ms(4))) > 990


# --- process faults ----------------------------------------------------------------------------------


def test_wet_batch_cools_both_chambers_and_lights_the_burner(plant: PlantConfig) -> None:
    window = fault("wet_batch", local_ms(10), 30)
    base, wet = run(plant, local_ms(9), 2), run(plant, local_ms(9), 2, window)
    fed = batches(wet, window.start_ms, window.end_ms)[0]
    after = (fed.time_ms, fed.time_ms + 6 * MIN_MS)
    base_p, base_s = by_time(base, "t_primary"), by_time(base, "t_secondary")
    drop_p = max(base_p[r.time_ms] - r.value for r in readings(wet, "t_primary", *after))
    drop_s = max(base_s[r.time_ms] - r.value for r in readings(wet, "t_secondary", *after))
    assert 70 <= drop_p <= 220 and 25 <= drop_s <= 120
    assert 1.0 in values(wet, "burner_primary", *after)
    assert max(values(wet, "co", *after)) > max(values(base, "co", *after)) + 10
    recovered = fed.time_ms + 30 * MIN_MS
    assert abs(statistics.mean(values(wet, "t_secondary", recovered, recovered + 5 * MIN_MS))
               - statistics.mean(base_s[t] for t in range(recovered, recovered + 5 * MIN_MS, 10_000))) < 25


def test_overcharge_starves_the_air_and_spikes_co(plant: PlantConfig) -> None:
    window = fault("overcharge", local_ms(10), 30)
    gen = run(plant, local_ms(9), 2, window)
    big = [b for b in batches(gen, window.start_ms, window.end_ms) if b.mass_kg > 100]
    assert len(big) == 1 and big[0].mass_kg <= plant.capacity_kg_h
    after = (big[0].time_ms, big[0].time_ms + 12 * MIN_MS)
    assert min(values(gen, "o2", *after)) < 6
    assert 200 < max(values(gen, "co", *after)) <= 1000
    assert max(values(gen, "opacity", *after)) > 8
    assert min(values(gen, "o2", big[0].time_ms - 10 * MIN_MS, big[0].time_ms)) > 6


def test_door_puff_turns_the_draft_positive_with_a_co_spike(plant: PlantConfig) -> None:
    window = fault("door_puff", local_ms(10), 30)
    gen = run(plant, local_ms(9), 2, window)
    fed = batches(gen, window.start_ms, window.end_ms)[0]
    after = (fed.time_ms, fed.time_ms + 3 * MIN_MS)
    assert max(values(gen, "draft_primary", *after)) > 0
    assert 1.0 in values(gen, "feed_door", *after)
    assert max(values(gen, "co", *after)) > 80
    assert max(values(gen, "draft_primary", local_ms(9), fed.time_ms)) < 0


def test_burner_trip_stops_the_burner_and_the_secondary_decays(plant: PlantConfig) -> None:
    window = fault("burner_trip", local_ms(10), 20)
    gen = run(plant, local_ms(9), 2, window)
    assert set(values(gen, "burner_secondary", window.start_ms, window.end_ms)) == {0.0}
    assert values(gen, "burner_secondary", window.start_ms - MIN_MS, window.start_ms)[-1] == 1.0
    start_c = statistics.mean(values(gen, "t_secondary", window.start_ms, window.start_ms + MIN_MS))
    end_c = statistics.mean(values(gen, "t_secondary", window.end_ms - MIN_MS, window.end_ms))
    assert 3 <= (start_c - end_c) / 20 <= 20  # degC per minute
    assert not batches(gen, window.start_ms + MIN_MS, window.end_ms)  # the feed interlock holds
    assert set(values(gen, "burner_secondary", window.end_ms, window.end_ms + 10 * MIN_MS)) == {1.0}


def test_startup_feed_charges_a_batch_while_the_secondary_is_below_1000_c(plant: PlantConfig) -> None:
    window = fault("startup_feed", local_ms(5, 10), 60)
    normal = run(plant, local_ms(4), 4)
    assert not batches(normal, local_ms(5), local_ms(5, 30))
    gen = run(plant, local_ms(4), 4, window)
    early = batches(gen, window.start_ms, window.end_ms)[0]
    t_sec = by_time(gen, "t_secondary")
    assert t_sec[early.time_ms] < 1000
    assert len(batches(gen, window.start_ms, window.end_ms)) == 1


def test_scrubber_failure_drops_ph_and_lets_acid_gas_through(plant: PlantConfig) -> None:
    window = fault("scrubber_failure", local_ms(10), 60)
    gen = run(plant, local_ms(9), 4, window)
    inside = (window.start_ms + 20 * MIN_MS, window.end_ms)
    assert max(values(gen, "scrubber_ph", *inside)) < 6
    assert 10 <= max(values(gen, "hcl", *inside)) <= 40  # HCl dissolves in plain water: it only creeps up
    assert min(values(gen, "so2", *inside)) > 200  # SO2 needs the alkali: it breaks through
    assert min(values(gen, "scrubber_ph", local_ms(9), window.start_ms)) > 7
    assert max(values(gen, "hcl", window.end_ms + 90 * MIN_MS, local_ms(13))) < 20


def test_id_fan_failure_makes_the_draft_positive_and_collapses_o2(plant: PlantConfig) -> None:
    window = fault("id_fan_failure", local_ms(10), 15)
    gen = run(plant, local_ms(9), 2, window)
    inside = (window.start_ms, window.end_ms)
    assert set(values(gen, "id_fan", *inside)) == {0.0}
    assert min(values(gen, "draft_primary", window.start_ms + MIN_MS, window.end_ms)) > 0
    assert min(values(gen, "o2", *inside)) < 3
    assert not batches(gen, *inside)
    assert set(values(gen, "burner_secondary", *inside)) == {0.0}


def test_exceedance_day_lifts_the_daily_dust_and_hcl_averages_above_10(plant: PlantConfig, normal_day: Generated) -> None:
    gen = generate_messages(plant, seed=11, start_ms=local_ms(0), duration_s=86_400, faults=[fault("exceedance_day", local_ms(0), 1440)])
    burning = (local_ms(7), local_ms(21))
    for sensor in ("dust", "hcl"):
        assert statistics.mean(values(normal_day, sensor, *burning)) < 10
        assert statistics.mean(values(gen, sensor, *burning)) > 10


# --- instrument faults ------------------------------------------------------------------------------


def test_flatline_repeats_the_exact_value(plant: PlantConfig) -> None:
    window = fault("flatline", local_ms(10), 20)
    gen = run(plant, local_ms(9), 2, window)
    inside = values(gen, "t_secondary", window.start_ms, window.end_ms)
    assert len(inside) == 120 and len(set(inside)) == 1
    assert len(set(values(gen, "t_secondary", window.end_ms, window.end_ms + 10 * MIN_MS))) > 10
    assert len(set(values(gen, "o2", window.start_ms, window.end_ms))) > 5


def test_thermocouple_open_jumps_to_type_k_full_scale(plant: PlantConfig) -> None:
    window = fault("thermocouple_open", local_ms(10), 10, flag=True)
    gen = run(plant, local_ms(9), 2, window)
    inside = readings(gen, "t_primary", window.start_ms, window.end_ms)
    assert {r.value for r in inside} == {1372.0} and {r.status for r in inside} == {"malfunction"}
    assert max(values(gen, "t_primary", local_ms(9), window.start_ms)) < 1100


def test_cems_calibration_marks_the_cems_channels_maintenance(plant: PlantConfig) -> None:
    window = fault("cems_calibration", local_ms(10), 10)
    gen = run(plant, local_ms(9), 2, window)
    for sensor in CEMS_SENSORS:
        assert {r.status for r in readings(gen, sensor, window.start_ms, window.end_ms)} == {"maintenance"}
        assert {r.status for r in readings(gen, sensor, local_ms(9), window.start_ms)} == {"valid"}
        assert {r.status for r in readings(gen, sensor, window.end_ms, local_ms(11))} == {"valid"}
    assert {r.status for r in readings(gen, "t_secondary", window.start_ms, window.end_ms)} == {"valid"}
    assert gen.tally.readings_by_status["maintenance"] == 10 * len(CEMS_SENSORS)


def test_analyzer_drift_adds_a_growing_offset(plant: PlantConfig) -> None:
    window = fault("analyzer_drift", local_ms(9), 300, rate_per_h=0.5)
    base, drifted = run(plant, local_ms(9), 5), run(plant, local_ms(9), 5, window)
    base_o2 = by_time(base, "o2")
    for reading in readings(drifted, "o2"):
        hours = (reading.time_ms - window.start_ms) / HOUR_MS
        if hours >= 0 and base_o2[reading.time_ms] + 0.5 * hours < 25:
            assert reading.value - base_o2[reading.time_ms] == pytest.approx(0.5 * hours, abs=0.011)


# --- delivery faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("telemetry", [False, True])
def test_network_outage_holds_messages_back_and_backfills_them(plant: PlantConfig, telemetry: bool) -> None:
    window = fault("network_outage", local_ms(9, 30), 30)
    base = run(plant, local_ms(9), 1.5, telemetry=telemetry)
    gen = run(plant, local_ms(9), 1.5, window, telemetry=telemetry)
    assert not [m for m in gen.messages if window.contains(m.at_ms)]
    backfill = [m for m in gen.messages if m.at_ms == window.end_ms]
    assert gen.tally.readings_by_sensor == base.tally.readings_by_sensor
    assert gen.tally.batch_ids == base.tally.batch_ids
    if telemetry:
        arrays = [json.loads(m.payload) for m in backfill if m.kind == "telemetry" and m.payload.startswith(b"[")]
        assert sum(len(a) for a in arrays) == 180 and all(len(a) <= 100 for a in arrays)
    else:
        assert len([m for m in backfill if m.kind == "reading"]) >= 30 * (6 * 8 + 12)


def test_out_of_order_shuffles_messages_but_loses_none(plant: PlantConfig) -> None:
    base = run(plant, local_ms(9), 1)
    gen = run(plant, local_ms(9), 1, fault("out_of_order", local_ms(9, 10), 30))
    assert Counter((m.topic, m.payload) for m in gen.messages) == Counter((m.topic, m.payload) for m in base.messages)
    last_ts: dict[str, int] = {}
    backwards = 0
    for message in gen.messages:
        if message.kind == "reading":
            ts = json.loads(message.payload)["ts"]
            backwards += ts < last_ts.get(message.topic, 0)
            last_ts[message.topic] = max(ts, last_ts.get(message.topic, 0))
    assert backwards > 10


def test_clock_skew_shifts_the_timestamps_inside_the_window(plant: PlantConfig) -> None:
    window = fault("clock_skew", local_ms(9, 30), 10, offset_s=90)
    base, gen = run(plant, local_ms(9), 1), run(plant, local_ms(9), 1, window)
    base_values = by_time(base, "t_secondary")
    topic = "plants/kotim/sensors/t_secondary"
    for message in (m for m in gen.messages if m.topic == topic):
        body = json.loads(message.payload)
        assert body["ts"] - message.at_ms == (90_000 if window.contains(message.at_ms) else 0)
        assert body["value"] == base_values[message.at_ms]
    # a shifted reading lands on a timestamp the device reports again after the window: stored once
    assert gen.tally.readings_by_sensor["t_secondary"] == base.tally.readings_by_sensor["t_secondary"] - 9


def test_invalid_messages_cover_every_reason(plant: PlantConfig) -> None:
    window = fault("invalid_messages", local_ms(9, 10), 12)
    gen = run(plant, local_ms(9), 1, window)
    invalid = [m for m in gen.messages if not m.valid]
    assert Counter(m.expected_reason for m in invalid) == {reason: 2 for reason in INVALID_REASONS}
    assert all(window.contains(m.at_ms) and not m.records for m in invalid)
    assert gen.tally.invalid_by_reason == Counter(m.expected_reason for m in invalid)
    assert b"NaN" in next(m.payload for m in invalid if m.expected_reason == "non_finite")


# --- fault specs -------------------------------------------------------------------------------------


def test_fault_specs_parse_absolute_relative_and_date_starts() -> None:
    start = local_ms(0)
    absolute = parse_fault_spec("wet_batch@2026-11-28T10:00:00+07:00/30m", sim_start_ms=start)
    assert (absolute.name, absolute.start_ms, absolute.duration_s) == ("wet_batch", local_ms(10), 1800)
    relative = parse_fault_spec("burner_trip@+2h/20m", sim_start_ms=start)
    assert (relative.start_ms, relative.duration_s) == (start + 2 * HOUR_MS, 1200)
    day = parse_fault_spec("exceedance_day@2026-11-29", sim_start_ms=start, zone=ZONE)
    assert (day.start_ms, day.duration_s) == (local_ms(0, day=29), 86_400)
    skew = parse_fault_spec("clock_skew@+1h30m/2h,offset_s=-45", sim_start_ms=start)
    assert skew.start_ms == start + 90 * MIN_MS and skew.number("offset_s") == -45
    assert parse_fault_spec("invalid_messages", sim_start_ms=start).start_ms == start
    assert parse_duration_s("1d") == 86_400 and parse_duration_s("90") == 90


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("boiler_explosion@+1h/10m", "unknown fault 'boiler_explosion'"),
        ("wet_batch@+1h/10 minutes", "bad duration"),
        ("wet_batch@2026-11-28T10:00/10m", "no UTC offset"),
        ("flatline@+1h/10m,colour=red", "unknown parameter 'colour'"),
        ("invalid_messages@+1h,reasons=malformed_json|bad_vibes", "unknown reason 'bad_vibes'"),
    ],
)
def test_a_bad_fault_spec_is_refused_with_a_clear_message(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_fault_spec(spec, sim_start_ms=0)


def test_unknown_fault_lists_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        FaultWindow("meltdown", 0, 60)
    assert all(name in str(caught.value) for name in FAULT_NAMES)


def test_an_instrument_fault_on_an_unknown_sensor_is_refused(plant: PlantConfig) -> None:
    with pytest.raises(ValueError, match="not in plant kotim"):
        PlantModel(plant, 1, local_ms(9), [fault("flatline", local_ms(9), 10, sensor="t_tertiary")])
