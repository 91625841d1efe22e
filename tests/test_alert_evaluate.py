"""The pure evaluation core, stepped through explicit time: tolerances both ways, hysteresis,
updates instead of second alerts, restarts mid-tolerance, each rule kind, and a simulated day."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import TypeAdapter

from alerts import (
    AlertCleared,
    AlertEvent,
    AlertRaised,
    AlertUpdated,
    OperatingState,
    PlantSignals,
    PlantState,
    Rule,
    RuleBook,
    RuleSet,
    RuleState,
    Tick,
    bundled_rules_path,
    initial_state,
    load_rules,
    observe_signal,
    settle,
)
from alerts.evaluate import evaluate
from alerts.observations import Observation
from simulators import generate_messages, parse_fault_spec
from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.plant import PlantCatalog
from wastewatch.records import Batch, DeviceStatus, Reading

T0 = 1_764_280_800_000  # 2025-11-28 05:00 Asia/Jakarta
S = OperatingState


def at(seconds: float) -> int:
    return T0 + round(seconds * 1000)


def make_rule(condition: dict[str, Any], **overrides: Any) -> Rule:
    raw: dict[str, Any] = {
        "id": "rule_under_test",
        "plant": "kotim",
        "sensors": ["t_secondary"],
        "condition": condition,
        "severity": "critical",
        "category": "process",
        "source": "test",
        "message": {"raised": "{subject} {value:.0f} ({detail})", "cleared": "{subject} ok after {duration_s:.0f} s"},
    }
    raw.update(overrides)
    return Rule.model_validate(raw)


LOW_SECONDARY = {"kind": "threshold", "op": "<", "value": 1000}


class Run:
    """One (rule, subject) stepped by hand; keeps every event."""

    def __init__(self, rule: Rule, subject: str | None = None, state: RuleState | None = None) -> None:
        self.rule = rule
        self.state = state or initial_state(rule, subject or rule.subjects()[0])
        self.events: list[AlertEvent] = []

    def see(self, seconds: float, obs: Observation) -> list[AlertEvent]:
        self.state, events = evaluate(self.rule, self.state, obs, at(seconds))
        self.events.extend(events)
        return events

    def read(self, seconds: float, value: float, sensor: str = "t_secondary", status: str = "valid") -> list[AlertEvent]:
        return self.see(seconds, Reading("kotim", sensor, at(seconds), value, status))  # type: ignore[arg-type]

    def tick(self, seconds: float) -> list[AlertEvent]:
        return self.see(seconds, Tick())

    def plant(self, seconds: float, operating: OperatingState, emission_limit_exceeded: bool = False) -> list[AlertEvent]:
        return self.see(seconds, PlantState(plant="kotim", operating=operating, since_ms=at(seconds),
                                            emission_limit_exceeded=emission_limit_exceeded))

    def kinds(self) -> list[tuple[str, float]]:
        return [(e.kind, (e.at_ms - T0) / 1000) for e in self.events]


@pytest.fixture(scope="module")
def kotim(catalog: PlantCatalog) -> RuleSet:
    return load_rules(bundled_rules_path("kotim"), catalog.get("kotim"))


def kotim_rule(ruleset: RuleSet, rule_id: str) -> Rule:
    rule = ruleset.rule(rule_id)
    assert rule is not None
    return rule


# --- the lifecycle -------------------------------------------------------------------------------

def test_alert_fires_once_after_tolerance_and_clears_once_after_recovery_tolerance() -> None:
    run = Run(make_rule(LOW_SECONDARY, tolerance_s=60))
    run.read(0, 1005)
    for t in range(10, 70, 10):
        assert run.read(t, 985) == []  # the condition holds from t=10 but not yet for 60 s
    raised = run.read(70, 980)
    assert [type(e) for e in raised] == [AlertRaised]
    assert isinstance(raised[0], AlertRaised) and raised[0].condition_since_ms == at(10)
    assert raised[0].message == "t_secondary 980 (t_secondary 980 < 1000)" and raised[0].value == 980
    assert (raised[0].severity, raised[0].category, raised[0].key) == ("critical", "process", "kotim/rule_under_test/t_secondary")
    for t in range(80, 100, 10):
        assert run.read(t, 985) == []
    for t in range(100, 160, 10):
        assert run.read(t, 1005) == []  # recovering since t=100, not yet for 60 s
    cleared = run.read(160, 1006)
    assert [type(e) for e in cleared] == [AlertCleared]
    assert isinstance(cleared[0], AlertCleared) and cleared[0].reason == "recovered" and cleared[0].raised_at_ms == at(70)
    assert cleared[0].message == "t_secondary ok after 90 s"
    run.read(170, 1005)
    run.tick(600)
    assert run.kinds() == [("raised", 70), ("cleared", 160)]


def test_a_condition_broken_inside_its_tolerance_raises_nothing() -> None:
    run = Run(make_rule(LOW_SECONDARY, tolerance_s=60))
    run.read(0, 990)
    run.read(50, 1001)  # broken: the timer starts again
    run.read(60, 990)
    assert run.tick(119) == []
    assert [e.kind for e in run.tick(120)] == ["raised"]


def test_a_tick_completes_the_tolerance_without_new_readings() -> None:
    run = Run(make_rule(LOW_SECONDARY, tolerance_s=60))
    run.read(0, 990)
    assert run.tick(59.999) == []
    assert [e.kind for e in run.tick(60)] == ["raised"]


def test_a_first_healthy_reading_sends_no_recovery() -> None:
    run = Run(make_rule(LOW_SECONDARY, tolerance_s=0))
    run.read(0, 1050)
    run.tick(3600)
    run.read(3610, 1040)
    assert run.events == []


def test_hysteresis_clears_only_past_the_recovery_value() -> None:
    run = Run(make_rule({**LOW_SECONDARY, "recovery_value": 1010}, tolerance_s=0, recovery_tolerance_s=0))
    assert [e.kind for e in run.read(0, 990)] == ["raised"]
    assert run.read(10, 1005) == []  # above 1000 but inside the band: still active, silently
    assert run.state.active
    assert [e.kind for e in run.read(20, 1010)] == ["cleared"]
    assert run.read(30, 1005) == []  # inactive again: 1005 is healthy against the raise value


def test_inside_the_band_recovery_is_postponed_without_an_update() -> None:
    run = Run(make_rule({**LOW_SECONDARY, "recovery_value": 1010}, tolerance_s=0, recovery_tolerance_s=60))
    run.read(0, 990)
    run.read(10, 1015)  # recovery pending
    assert run.read(20, 1005) == []  # in the band: the recovery waits, nothing is announced
    assert run.state.recovery_since_ms is None and run.state.active
    assert [e.kind for e in run.read(30, 995)] == ["updated"]  # below the raise value again: a relapse


def test_a_repeat_while_active_is_an_update_never_a_second_alert() -> None:
    run = Run(make_rule(LOW_SECONDARY, tolerance_s=0, recovery_tolerance_s=60))
    run.read(0, 990)
    run.read(10, 1005)
    updated = run.read(20, 995)
    assert [type(e) for e in updated] == [AlertUpdated]
    assert isinstance(updated[0], AlertUpdated) and updated[0].occurrences == 2 and updated[0].raised_at_ms == at(0)
    run.read(30, 985)  # still the same episode: nothing new
    run.read(40, 1005)
    assert [e.kind for e in run.read(50, 990)] == ["updated"]
    assert run.state.occurrences == 3
    for t in range(60, 130, 10):
        run.read(t, 1005)
    assert run.kinds() == [("raised", 0), ("updated", 20), ("updated", 50), ("cleared", 120)]


def test_state_survives_a_json_round_trip_mid_tolerance() -> None:
    run = Run(make_rule(LOW_SECONDARY, tolerance_s=300))
    run.read(0, 990)
    run.read(100, 992)
    saved = run.state.model_dump_json()
    restarted = Run(run.rule, state=RuleState.model_validate_json(saved))  # the worker restarts
    assert restarted.state == run.state
    assert restarted.tick(299) == []
    raised = restarted.tick(300)
    assert isinstance(raised[0], AlertRaised) and raised[0].condition_since_ms == at(0)

    restarted.read(400, 1005)  # recovery half-way when the worker restarts again
    again = Run(run.rule, state=RuleState.model_validate_json(restarted.state.model_dump_json()))
    assert again.tick(699) == []
    assert [e.kind for e in again.tick(700)] == ["cleared"]


def test_evaluate_leaves_the_given_state_untouched() -> None:
    run = Run(make_rule({"kind": "flatline", "window_samples": 3}, tolerance_s=0))
    run.read(0, 1000)
    before = run.state
    snapshot = before.model_dump()
    after, _ = evaluate(run.rule, before, Reading("kotim", "t_secondary", at(10), 1000.0), at(10))
    assert before.model_dump() == snapshot and after is not before


def test_invalid_late_and_duplicate_samples_do_not_move_a_value_condition() -> None:
    run = Run(make_rule(LOW_SECONDARY, tolerance_s=0))
    run.read(0, 1050)
    run.read(10, 20, status="maintenance")  # zero gas: excluded
    run.read(20, 1050)
    run.see(30, Reading("kotim", "t_secondary", at(5), 900.0))  # older than the last sample
    run.see(30, Reading("kotim", "t_secondary", at(20), 900.0))  # a duplicate timestamp
    run.see(30, Reading("other", "t_secondary", at(30), 900.0))  # another plant
    assert run.events == []


# --- plant states --------------------------------------------------------------------------------

def test_a_rule_limited_to_plant_states_clears_when_the_plant_leaves_them() -> None:
    rule = make_rule(LOW_SECONDARY, tolerance_s=60, states=["burning", "burnout"])
    run = Run(rule)
    run.read(0, 900)
    run.tick(600)
    assert run.events == []  # plant state unknown: the rule does not apply
    run.plant(600, S.BURNING)  # entering its states, the rule watches afresh
    run.read(610, 950)
    assert [e.kind for e in run.tick(670)] == ["raised"]
    cleared = run.plant(700, S.SHUTDOWN)
    assert isinstance(cleared[0], AlertCleared) and cleared[0].reason == "not_applicable"
    assert cleared[0].message == "rule_under_test on t_secondary cleared: the rule does not apply while the plant is shutdown"
    run.read(710, 800)
    run.tick(2000)
    assert run.kinds() == [("raised", 670), ("cleared", 700)]


def test_an_alert_held_outside_its_states_stays_until_recovery() -> None:
    rule = make_rule({"kind": "threshold", "op": "<", "value": 0.5}, sensors=["burner_secondary"], states=["burning"],
                     outside_states="hold", recovery_tolerance_s=30)
    run = Run(rule)
    run.plant(0, S.BURNING)
    run.read(10, 1, sensor="burner_secondary")
    assert [e.kind for e in run.read(20, 0, sensor="burner_secondary")] == ["raised"]
    assert run.plant(1800, S.BURNOUT) == []  # outside its states, the alert stays
    run.read(1810, 1, sensor="burner_secondary")
    cleared = run.tick(1840)
    assert isinstance(cleared[0], AlertCleared) and cleared[0].reason == "recovered"


def test_values_seen_outside_the_rule_states_do_not_count_on_entry(kotim: RuleSet) -> None:
    run = Run(kotim_rule(kotim, "draft_positive_repeated"))
    run.plant(0, S.COLD)
    for t in range(10, 200, 10):  # a cold plant's draft noise crosses 0 all the time
        run.read(t, 1.0 if t % 20 else -1.0, sensor="draft_primary")
    assert run.plant(200, S.BURNING) == []
    run.read(210, -50, sensor="draft_primary")
    assert run.events == []


# --- each condition kind -------------------------------------------------------------------------

def test_no_data_fires_after_the_silence_and_clears_when_data_returns() -> None:
    rule = make_rule({"kind": "no_data", "max_silence_s": 300}, sensors=["co"], recovery_tolerance_s=0)
    run = Run(rule)
    run.read(0, 10.0, sensor="co")
    run.read(60, 10.0, sensor="co", status="maintenance")  # calibration gas is still data
    assert run.tick(359) == []
    raised = run.tick(360)
    assert [e.kind for e in raised] == ["raised"] and "nothing from co for 5 min" in raised[0].message
    assert run.tick(420) == []
    assert [e.kind for e in run.read(430, 11.0, sensor="co")] == ["cleared"]


def test_no_data_counts_from_when_watching_began_and_reports_an_offline_device() -> None:
    rule = make_rule({"kind": "no_data", "device": "cems", "sensors": ["o2", "co"], "max_silence_s": 300}, sensors=[])
    run = Run(rule)
    assert run.rule.subjects() == ["cems"]
    run.tick(0)  # the worker starts: nothing seen yet
    assert [e.kind for e in run.tick(300)] == ["raised"]
    run.read(310, 10.0, sensor="o2")
    assert [e.kind for e in run.events] == ["raised", "cleared"]

    offline = run.see(400, DeviceStatus("kotim", "cems", at(400), False))
    assert [e.kind for e in offline] == ["raised"] and "cems reports offline" in offline[0].message
    run.read(410, 10.0, sensor="co")  # a message still in flight changes nothing while offline
    assert [e.kind for e in run.see(420, DeviceStatus("kotim", "cems", at(420), True))] == ["cleared"]


def test_flatline_over_samples_fires_and_clears() -> None:
    run = Run(make_rule({"kind": "flatline", "window_samples": 5}, recovery_tolerance_s=20))
    for t, value in [(0, 1040.0), (10, 1043.2), (20, 1043.2), (30, 1043.2), (40, 1043.2)]:
        assert run.read(t, value) == []
    raised = run.read(50, 1043.2)
    assert [e.kind for e in raised] == ["raised"] and "flat at 1043.2 over 5 samples" in raised[0].detail
    run.read(60, 1043.2)
    run.read(70, 1044.0)  # moving again
    assert [e.kind for e in run.read(90, 1041.7)] == ["cleared"]


def test_flatline_over_seconds_needs_the_whole_window_covered() -> None:
    run = Run(make_rule({"kind": "flatline", "window_s": 60, "max_spread": 0.05}, tolerance_s=0))
    run.read(0, 5.0, sensor="t_secondary")
    for t in range(10, 60, 10):
        assert run.read(t, 7.02 if t % 20 else 7.0) == []  # flat since t=10, but for 50 s only
    assert run.read(60, 7.0) == []
    assert [e.kind for e in run.read(70, 7.01)] == ["raised"]  # 10..70 covered, spread 0.02


def test_rate_of_change_fires_on_a_jump_and_clears_after_the_recovery_tolerance() -> None:
    run = Run(make_rule({"kind": "rate_of_change", "max_rate_per_s": 20}, sensors=["t_primary"], recovery_tolerance_s=60))
    run.read(0, 850, sensor="t_primary")
    run.read(10, 860, sensor="t_primary")  # 1 degC/s
    raised = run.read(20, 1372, sensor="t_primary")
    assert [e.kind for e in raised] == ["raised"] and "jumped 860 -> 1372 in 10 s (51.2/s > 20/s)" in raised[0].detail
    run.read(30, 1372, sensor="t_primary")
    assert run.tick(89) == []
    assert [e.kind for e in run.tick(90)] == ["cleared"]


def test_thermocouple_open_stays_active_while_the_reading_is_at_full_scale(kotim: RuleSet) -> None:
    run = Run(kotim_rule(kotim, "thermocouple_open"), "t_secondary")
    run.read(0, 1050)
    assert [e.kind for e in run.read(10, 1372)] == ["raised"]
    for t in range(20, 600, 10):
        run.read(t, 1372)  # no jump any more, but >= 1370 holds it
    assert [e.kind for e in run.read(600, 1052)] == ["updated"]  # the jump back is a new jump
    run.read(610, 1050)
    assert run.tick(729) == []
    assert [e.kind for e in run.tick(730)] == ["cleared"]


def test_repeating_fires_on_the_nth_crossing_updates_and_clears_as_crossings_age() -> None:
    rule = make_rule({"kind": "repeating", "op": ">", "value": 0, "count": 3, "window_s": 600},
                     sensors=["draft_primary"], recovery_tolerance_s=0)
    run = Run(rule)
    values = [-50, 5, -50, 8, -50]  # the first sample is no crossing: the side before it is unknown
    for t, value in enumerate(values):
        run.read(t * 60, value, sensor="draft_primary")
    assert run.events == []
    raised = run.read(300, 3, sensor="draft_primary")
    assert [e.kind for e in raised] == ["raised"] and "3 crossings" in raised[0].detail
    run.read(360, -50, sensor="draft_primary")
    assert [e.kind for e in run.read(420, 4, sensor="draft_primary")] == ["updated"]
    assert run.tick(659) == []  # crossings at 60, 180, 300, 420: 4 within 600 s until 660
    assert run.tick(779) == []  # 3 left (180, 300, 420)
    assert [e.kind for e in run.tick(780)] == ["cleared"]


def test_all_combines_sensors_into_one_alert(kotim: RuleSet) -> None:
    run = Run(kotim_rule(kotim, "overcharging"))
    run.plant(0, S.BURNING)
    run.read(5, 1, sensor="id_fan")
    run.read(5, -40, sensor="draft_primary")
    run.read(10, 4.5, sensor="o2")
    run.tick(200)
    assert run.events == []  # O2 low alone is no over-charge
    run.read(60, 450, sensor="co")
    raised = run.tick(120)
    assert [e.kind for e in raised] == ["raised"] and raised[0].subject == "combustion"
    assert "o2 4.5 < 6; co 450 > 100" in raised[0].message
    run.read(180, 11, sensor="o2")
    assert [e.kind for e in run.tick(300)] == ["cleared"]


def test_over_charging_is_not_judged_with_the_fan_stopped_or_the_draft_positive(kotim: RuleSet) -> None:
    """Issue 17 finding 3: without the fan O2 collapses and CO rises whatever the batch."""
    for fan, draft in ((0, 30), (1, 30), (0, -40)):
        run = Run(kotim_rule(kotim, "overcharging"))
        run.plant(0, S.BURNING)
        run.read(5, fan, sensor="id_fan")
        run.read(5, draft, sensor="draft_primary")
        run.read(10, 4.5, sensor="o2")
        run.read(10, 450, sensor="co")
        assert run.tick(300) == []


# --- the feed interlock --------------------------------------------------------------------------

def interlock_run(kotim: RuleSet, secondary_c: float, primary_c: float = 850) -> Run:
    """Pre-heat with the secondary at `secondary_c` from t=0, fan and burner running."""
    run = Run(kotim_rule(kotim, "feed_interlock"))
    run.plant(0, S.PREHEAT)
    for t in range(0, 1000, 10):
        run.read(t, secondary_c)
        run.read(t, primary_c, sensor="t_primary")
        run.read(t, 1, sensor="id_fan")
        run.read(t, 1, sensor="burner_secondary")
    return run


def batch(seconds: float, batch_id: str = "b-1") -> Batch:
    return Batch("kotim", batch_id, at(seconds), 65.0, "rsud-murjani")


def test_feed_interlock_fires_for_a_batch_at_950_and_not_at_1050_after_the_hold(kotim: RuleSet) -> None:
    cold = interlock_run(kotim, 950)
    raised = cold.see(1000, batch(1000))
    assert [type(e) for e in raised] == [AlertRaised]
    assert raised[0].severity == "critical" and raised[0].category == "interlock" and raised[0].subject == "feed"
    assert "batch b-1 (65 kg) fed while t_secondary 950 degC < 1000 degC" in raised[0].message
    assert "P.56/2015" in raised[0].source

    hot = interlock_run(kotim, 1050)
    assert hot.see(1000, batch(1000)) == []


def test_feed_interlock_fires_before_the_start_up_hold_is_complete(kotim: RuleSet) -> None:
    run = interlock_run(kotim, 1050)  # held since t=0: complete at t=900
    run.plant(1000, S.SHUTDOWN)
    run.plant(2000, S.PREHEAT)  # a new start-up: the hold starts again with the next reading
    run.read(2000, 1050)
    raised = run.see(2600, batch(2600))
    assert [e.kind for e in raised] == ["raised"] and "start-up hold not complete" in raised[0].detail
    assert [e.kind for e in run.see(2700, batch(2700, "b-2"))] == ["updated"]
    run.read(2900, 1050)  # 900 s held: feeding is permitted again
    assert run.tick(2959) == []
    assert [e.kind for e in run.tick(2960)] == ["cleared"]


def test_feed_interlock_fires_while_an_emission_limit_is_exceeded_or_the_fan_is_off(kotim: RuleSet) -> None:
    run = interlock_run(kotim, 1050)
    run.plant(1000, S.BURNING, emission_limit_exceeded=True)
    raised = run.see(1010, batch(1010))
    assert "an emission limit is exceeded" in raised[0].detail
    run.plant(1020, S.BURNING, emission_limit_exceeded=False)
    run.tick(1080)
    run.read(1100, 0, sensor="id_fan")
    assert "id_fan is off" in run.see(1110, batch(1110, "b-2"))[0].detail


def test_a_worker_started_on_a_running_plant_takes_the_hold_as_done(kotim: RuleSet) -> None:
    run = Run(kotim_rule(kotim, "feed_interlock"))
    run.plant(0, S.BURNING)
    run.read(10, 1040)
    run.read(10, 840, sensor="t_primary")
    assert run.see(20, batch(20)) == []


def test_the_start_up_hold_is_judged_on_the_data_timestamps_not_the_worker_clock(kotim: RuleSet) -> None:
    """Issue 17 finding 6: the first hot reading handled 12 s late, the batch 910 s of data time after it."""
    run = Run(kotim_rule(kotim, "feed_interlock"))
    run.plant(0, S.PREHEAT)
    run.read(0, 1, sensor="id_fan")
    run.read(0, 850, sensor="t_primary")
    run.see(12, Reading("kotim", "t_secondary", at(0), 1005.0))  # the clock had run on
    for t in range(20, 910, 10):  # on time again
        run.read(t, 1010.0)
    assert run.see(910, batch(910)) == []


def test_a_seeded_running_plant_has_its_hold_done_even_after_an_earlier_cold_state(kotim: RuleSet) -> None:
    """Issue 17 finding 1: a worker restarting long after its last state was saved seeds the plant."""
    run = Run(kotim_rule(kotim, "feed_interlock"))
    run.plant(0, S.COLD)  # what the previous run saw, the night before
    run.see(50_000, PlantState(plant="kotim", operating=S.BURNING, since_ms=at(50_000), seeded=True))
    run.read(50_010, 1040)
    run.read(50_010, 860, sensor="t_primary")
    assert run.see(50_020, batch(50_020)) == []
    # a seeded start-up still has to hold: the hold counts from the worker's first hot reading
    run.see(60_000, PlantState(plant="kotim", operating=S.PREHEAT, since_ms=at(60_000), seeded=True))
    run.read(60_010, 1040)
    assert "start-up hold not complete" in run.see(60_020, batch(60_020, "b-2"))[0].detail


def test_a_trend_condition_judges_the_least_squares_slope_over_its_window() -> None:
    rule = make_rule({"kind": "trend", "op": "<", "rate_per_s": -0.05, "window_s": 300}, tolerance_s=0)
    run = Run(rule)
    run.plant(0, S.BURNING)
    for t in range(0, 300, 10):  # steady, one sample off by 20 degC: no trend
        assert run.read(t, 1075 + (20 if t == 200 else 0)) == []
    assert run.read(300, 1075) == []
    for t in range(310, 700, 10):  # a trip: 6 degC/min down
        events = run.read(t, 1075 - (t - 300) * 0.1)
        if events:
            break
    assert [e.kind for e in events] == ["raised"] and "/min over 300 s" in events[0].detail
    assert t < 460  # within half a window of the fall's start


def charge(seconds: float, mass_kg: float, batch_id: str = "b") -> Batch:
    return Batch("kotim", f"{batch_id}-{seconds:g}", at(seconds), mass_kg, "rsud-murjani")


def test_charge_rate_flags_an_oversized_batch_and_a_too_fast_rate_but_not_a_steady_plan() -> None:
    rule = make_rule({"kind": "charge_rate", "max_kg_h": 300, "window_s": 10_800, "max_batch_kg": 100},
                     sensors=[], subject="charge", recovery_tolerance_s=60)
    run = Run(rule)
    for i in range(40):  # 65 kg every 810-990 s: 4 or 5 batches in any one clock hour, 240-290 kg/h
        assert run.see(i * 900 + (90 if i % 2 else -90), charge(i * 900 + (90 if i % 2 else -90), 75 if i % 3 else 65)) == []
    raised = run.see(36_300, charge(36_300, 130))
    assert [e.kind for e in raised] == ["raised"] and "130 kg > 100 kg" in raised[0].detail
    assert run.see(37_200, charge(37_200, 65)) == []
    assert [e.kind for e in run.tick(37_260)] == ["cleared"]
    fast = Run(rule)
    events = [e for i in range(20) for e in fast.see(i * 600, charge(i * 600, 65))]  # every 10 min: 390 kg/h
    assert [e.kind for e in events][:1] == ["raised"] and "kg/h charged over" in events[0].detail


# --- many rules at once, and a simulated day -----------------------------------------------------

def test_rule_book_routes_observations_and_states_round_trip(kotim: RuleSet) -> None:
    book = RuleBook(kotim.rules)
    states = book.initial_states()
    assert "kotim/thermocouple_open/t_secondary" in states and "kotim/cems_no_data/cems" in states
    states, events = book.evaluate(states, PlantState(plant="kotim", operating=S.BURNING, since_ms=at(0)), at(0))
    states, events = book.evaluate(states, Reading("kotim", "t_secondary", at(10), 1372.0), at(10))
    assert [(e.kind, e.rule_id, e.subject) for e in events] == [("raised", "thermocouple_open", "t_secondary")]
    saved = {key: state.model_dump_json() for key, state in states.items()}
    restored = {key: RuleState.model_validate_json(text) for key, text in saved.items()}
    assert restored == states
    adapter: TypeAdapter[AlertEvent] = TypeAdapter(AlertEvent)
    assert adapter.validate_json(adapter.dump_json(events[0])) == events[0]


def replay(ruleset: RuleSet, catalog: PlantCatalog, start_ms: int, hours: float, faults: list[str]) -> list[AlertEvent]:
    """The simulator's MQTT messages through the decoder, the plant state machine and every rule."""
    generated = generate_messages(
        catalog.get("kotim"),  # type: ignore[arg-type]
        seed=11, start_ms=start_ms, duration_s=hours * 3600,
        faults=[parse_fault_spec(spec, sim_start_ms=start_ms) for spec in faults],
    )
    book, config = RuleBook(ruleset.rules), ruleset.plant_state
    plant = PlantState(plant="kotim", operating=S.COLD, since_ms=start_ms)
    signals, events = PlantSignals(), []
    states, _ = book.evaluate(book.initial_states(), plant, start_ms)
    next_tick_ms = start_ms

    def step(obs: Observation, now_ms: int) -> None:
        nonlocal states, plant
        plant, transitions = settle(plant, signals, now_ms, config)
        if transitions:  # the plant-state change first, then the record that caused it
            states, produced = book.evaluate(states, plant, now_ms)
            events.extend(produced)
        states, produced = book.evaluate(states, obs, now_ms)
        events.extend(produced)

    for message in generated.messages:
        while next_tick_ms <= message.at_ms:
            step(Tick(), next_tick_ms)
            next_tick_ms += 10_000
        for record in decode_message(message.topic, message.payload, catalog, message.at_ms, DecodeLimits()).records:
            if isinstance(record, (Reading, Batch)):
                signals = observe_signal(signals, record, message.at_ms, config)
            step(record, message.at_ms)
    return events


def test_a_simulated_morning_with_faults_raises_the_expected_alerts(kotim: RuleSet, catalog: PlantCatalog) -> None:
    start_ms = round(datetime(2026, 11, 28, 5, 0, tzinfo=timezone(timedelta(hours=7))).timestamp() * 1000)
    faults = ["burner_trip@+2h/20m", "id_fan_failure@+3h/15m", "scrubber_failure@+3h30m/1h"]
    events = replay(kotim, catalog, start_ms, 4, faults)
    raised = [e for e in events if isinstance(e, AlertRaised)]

    def raised_within(rule_id: str, subject: str, from_h: float, to_h: float) -> bool:
        window = (start_ms + from_h * 3_600_000, start_ms + to_h * 3_600_000)
        return any((e.rule_id, e.subject) == (rule_id, subject) and window[0] <= e.at_ms <= window[1] for e in raised)

    assert raised_within("t_secondary_falling", "t_secondary", 2, 2.1)  # the chamber decays without its burner
    assert raised_within("t_secondary_low", "t_secondary", 2, 2.4)
    assert raised_within("id_fan_stopped", "id_fan", 3, 3.1)
    # the fan's consequences (draft, burners stopped by the burner management, O2/CO) are not sent
    assert not [e.rule_id for e in raised if 3 * 3_600_000 <= e.at_ms - start_ms <= 3.5 * 3_600_000
                and e.rule_id not in ("id_fan_stopped", "scrubber_ph_low")]
    assert raised_within("scrubber_ph_low", "scrubber_ph", 3.5, 4)
    # clean signals: no data-quality alert on this morning
    assert not [e.key for e in raised if e.category == "data_quality"]
    # one active alert per key: raises and clears alternate
    active: set[str] = set()
    for event in events:
        if isinstance(event, AlertRaised):
            assert event.key not in active
            active.add(event.key)
        elif isinstance(event, AlertCleared):
            assert event.key in active
            active.remove(event.key)
        else:
            assert event.key in active


def test_the_engines_in_place_path_matches_the_pure_one_on_a_simulated_morning(kotim: RuleSet, catalog: PlantCatalog) -> None:
    start_ms = round(datetime(2026, 11, 28, 5, 0, tzinfo=timezone(timedelta(hours=7))).timestamp() * 1000)
    generated = generate_messages(
        catalog.get("kotim"),  # type: ignore[arg-type]
        seed=11, start_ms=start_ms, duration_s=3 * 3600,
        faults=[parse_fault_spec(spec, sim_start_ms=start_ms)
                for spec in ["burner_trip@+1h/20m", "flatline@+1h30m/20m", "thermocouple_open@+2h/10m", "id_fan_failure@+2h30m/15m"]],
    )
    book, config = RuleBook(kotim.rules), kotim.plant_state
    plant = PlantState(plant="kotim", operating=S.COLD, since_ms=start_ms)
    signals = PlantSignals()
    pure = book.initial_states()
    owned = {key: RuleState.model_validate_json(state.model_dump_json()) for key, state in pure.items()}
    pure_events: list[AlertEvent] = []
    owned_events: list[AlertEvent] = []

    def both(obs: Observation, now_ms: int) -> None:
        nonlocal pure
        before = pure
        pure, produced = book.evaluate(pure, obs, now_ms)
        pure_events.extend(produced)
        changed: set[str] = set()
        owned_events.extend(book.advance(owned, obs, now_ms, changed))
        assert changed == {key for key, state in pure.items() if before[key] is not state}

    both(plant, start_ms)
    next_tick_ms = start_ms
    for message in generated.messages:
        while next_tick_ms <= message.at_ms:
            both(Tick(), next_tick_ms)
            next_tick_ms += 10_000
        for record in decode_message(message.topic, message.payload, catalog, message.at_ms, DecodeLimits()).records:
            if isinstance(record, (Reading, Batch)):
                signals = observe_signal(signals, record, message.at_ms, config)
            plant, transitions = settle(plant, signals, message.at_ms, config)
            if transitions:
                both(plant, message.at_ms)
            both(record, message.at_ms)
    assert len({e.key for e in pure_events}) >= 3
    assert owned_events == pure_events
    assert owned == pure
