"""The engine's compiled reading steps (`RuleBook.advance`, in place) against the pure path
(`RuleBook.evaluate`) and against a straightforward reference of the reading folds (the folds as
they were before they were compiled), on generated sequences of readings, duplicates and late ones,
invalid samples, plant-state changes and ticks."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from alerts import OperatingState, PlantState, Rule, RuleBook, RuleSet, RuleState, Tick
from alerts.conditions import Flatline, RateOfChange, Threshold, compare
from alerts.engine import Engine
from alerts.events import AlertEvent
from alerts.observations import Observation
from alerts.rule_state import FlatlineState, RateState, ThresholdState
from wastewatch.records import Reading

T0 = 1_764_280_800_000
ADAPTER = TypeAdapter(RuleState)
PLANT = "p"
SENSORS = ("a", "b")


def rule(rule_id: str, condition: dict[str, Any], **extra: Any) -> Rule:
    return Rule.model_validate({
        "id": rule_id, "plant": PLANT, "sensors": list(SENSORS), "condition": condition, "severity": "minor",
        "category": "process", "source": "test", **extra,
        "message": {"raised": "{subject} {value} ({detail})", "cleared": "{subject} back at {value}"},
    })


RULES = [
    rule("high", {"kind": "threshold", "op": ">", "value": 5, "recovery_value": 3}, tolerance_s=2),
    rule("low", {"kind": "threshold", "op": "<=", "value": 1}, states=["burning"], recovery_tolerance_s=1),
    rule("low_hold", {"kind": "threshold", "op": "<", "value": 2}, states=["burning", "ready"], outside_states="hold"),
    rule("jump", {"kind": "rate_of_change", "max_rate_per_s": 2.0}, recovery_tolerance_s=3),
    rule("jump_b", {"kind": "rate_of_change", "sensor": "b", "max_rate_per_s": 0.5}, sensors=[], subject="jumps"),
    rule("flat_n", {"kind": "flatline", "window_samples": 3, "max_spread": 0.5}, tolerance_s=1),
    rule("flat_t", {"kind": "flatline", "window_s": 4, "max_spread": 0}, states=["burning"]),
    rule("both", {"kind": "all", "conditions": [{"kind": "threshold", "op": ">=", "value": 4},
                                                {"kind": "flatline", "window_samples": 2, "max_spread": 1}]}),
    rule("silent", {"kind": "no_data", "max_silence_s": 5}),
    rule("high_root", {"kind": "threshold", "op": ">", "value": 6}, suppressed_by=["high"]),
]

readings = st.builds(
    lambda sensor, dt, value, status: ("reading", sensor, dt, value, status),
    st.sampled_from(SENSORS), st.integers(-1500, 3000), st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 9.0]),
    st.sampled_from(["valid", "valid", "valid", "maintenance"]),
)
# a run of readings of one value on one sensor: flatlines hold, and alerts last
runs = st.builds(lambda sensor, value, n: ("run", sensor, value, n), st.sampled_from(SENSORS),
                 st.sampled_from([0.0, 4.0, 6.0, 9.0]), st.integers(2, 8))
plant_states = st.builds(lambda s: ("plant", s), st.sampled_from(list(OperatingState)))
ticks = st.just(("tick",))
steps = st.lists(st.one_of(readings, readings, readings, runs, plant_states, ticks), min_size=1, max_size=80).map(
    lambda chosen: [one for step in chosen for one in (
        [("reading", step[1], 0, step[2], "valid")] * step[3] if step[0] == "run" else [step])])


# -- the reference: each fold as it was written before it was compiled (copying, not in place) ----------

def ref_threshold(leaf: Threshold, s: ThresholdState, r: Reading, sensor: str, active: bool) -> bool:
    if r.sensor != sensor or r.status != "valid" or (s.time_ms is not None and r.time_ms <= s.time_ms):
        return False
    s.value, s.time_ms = r.value, r.time_ms
    s.firing = compare(r.value, leaf.op, leaf.value)
    s.truth = leaf.bad(r.value, True) if active and leaf.recovery_value is not None else s.firing
    s.detail = f"{sensor} {r.value:g} {leaf.op} {leaf.value:g}" if s.truth else ""
    return False


def ref_flatline(leaf: Flatline, s: FlatlineState, r: Reading, sensor: str, active: bool) -> bool:
    if r.sensor != sensor or r.status != "valid" or (s.samples and r.time_ms <= s.samples[-1][0]):
        return False
    samples = [*s.samples, (r.time_ms, r.value)]
    if leaf.window_samples is not None:
        samples = samples[-leaf.window_samples:]
        covered = len(samples) == leaf.window_samples
    else:
        window_ms = (leaf.window_s or 0.0) * 1000
        while len(samples) >= 2 and samples[1][0] <= r.time_ms - window_ms:
            samples.pop(0)
        covered = r.time_ms - samples[0][0] >= window_ms
    values = [v for _, v in samples]
    s.samples, s.value = samples, r.value
    s.truth = covered and max(values) - min(values) <= leaf.max_spread
    span_s = (samples[-1][0] - samples[0][0]) / 1000
    s.detail = f"{sensor} flat at {r.value:g} over {len(samples)} samples / {span_s:g} s" if s.truth else ""
    return False


def ref_rate(leaf: RateOfChange, s: RateState, r: Reading, sensor: str, active: bool) -> bool:
    if r.sensor != sensor or r.status != "valid" or (s.time_ms is not None and r.time_ms <= s.time_ms):
        return False
    previous, previous_ms = s.value, s.time_ms
    s.value, s.time_ms = r.value, r.time_ms
    if previous is None or previous_ms is None:
        s.truth, s.detail = False, ""
        return False
    dt_s = (r.time_ms - previous_ms) / 1000
    rate = abs(r.value - previous) / dt_s
    s.truth = rate > leaf.max_rate_per_s
    s.detail = f"{sensor} jumped {previous:g} -> {r.value:g} in {dt_s:g} s ({rate:.3g}/s > {leaf.max_rate_per_s:g}/s)" if s.truth else ""
    return s.truth


REFERENCE = {Threshold: ref_threshold, Flatline: ref_flatline, RateOfChange: ref_rate}


def expected_leaves(states: dict[str, RuleState], r: Reading) -> dict[tuple[str, str], Any]:
    """The leaf states the reference gives after `r`, from the states before it (one-leaf rules of the
    compiled kinds whose leaf state exists and stays in place; the others are left to the pure path)."""
    out = {}
    for rl in RULES:
        if len(rl.leaves) != 1 or type(rl.leaves[0][1]) not in REFERENCE:
            continue
        path, leaf = rl.leaves[0]
        for subject in rl.subjects():
            state = states[f"{PLANT}/{rl.id}/{subject}"]
            sensor = leaf.sensor or rl.bound_sensor(subject)
            if path in state.leaves and r.sensor == sensor:
                twin = copy.deepcopy(state.leaves[path])
                REFERENCE[type(leaf)](leaf, twin, r, sensor, state.active)  # type: ignore[operator]
                out[(state.key, path)] = twin
    return out


def observation(step: tuple[Any, ...], data_ms: int) -> Observation:
    if step[0] == "reading":
        _, sensor, dt, value, status = step
        return Reading(PLANT, sensor, data_ms + dt, value, status)
    if step[0] == "plant":
        return PlantState(plant=PLANT, operating=step[1], since_ms=data_ms)
    return Tick()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_the_compiled_steps_give_the_pure_paths_states_and_events_and_the_reference_folds(sequence: list[Any]) -> None:
    book = RuleBook(RULES)
    pure = book.initial_states()
    owned = {key: RuleState.model_validate_json(state.model_dump_json()) for key, state in pure.items()}
    pure_events: list[AlertEvent] = []
    owned_events: list[AlertEvent] = []
    now_ms = data_ms = T0
    for step in sequence:
        now_ms += 700
        data_ms += 1000
        obs = observation(step, data_ms)
        expected = expected_leaves(owned, obs) if isinstance(obs, Reading) else {}
        before = pure
        pure, produced = book.evaluate(pure, obs, now_ms)
        pure_events.extend(produced)
        changed: set[str] = set()
        owned_events.extend(book.advance(owned, obs, now_ms, changed))
        assert owned_events == pure_events
        assert {k: s.model_dump() for k, s in owned.items()} == {k: s.model_dump() for k, s in pure.items()}
        assert changed == {key for key, state in pure.items() if before[key] is not state}
        for (key, path), leaf_state in expected.items():
            assert owned[key].leaves[path] == leaf_state, (key, obs)
    # what the worker persists: the union's JSON byte for byte, and it reads back the same
    for state in owned.values():
        assert state.model_dump_json() == ADAPTER.dump_json(state).decode()
        assert RuleState.model_validate_json(state.model_dump_json()) == state


def test_the_generated_sequences_reach_raises_of_every_compiled_kind() -> None:
    """One hand-made sequence: every compiled kind raises, and the in-place path says the same."""
    book = RuleBook(RULES)
    pure = book.initial_states()
    owned = {key: RuleState.model_validate_json(state.model_dump_json()) for key, state in pure.items()}
    events: list[AlertEvent] = []
    now_ms = T0
    values = [9.0, 9.0, 9.0, 9.0, 0.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 3.0]
    for i, value in enumerate(values):
        now_ms += 1000
        obs = Reading(PLANT, "a", now_ms, value)
        pure, produced = book.evaluate(pure, obs, now_ms)
        events.extend(produced)
        assert book.advance(owned, obs, now_ms, set()) == produced, i
    raised = {e.rule_id for e in events if e.kind == "raised"}
    assert {"high", "jump", "flat_n", "both"} <= raised
    assert {k: s.model_dump() for k, s in owned.items()} == {k: s.model_dump() for k, s in pure.items()}


def engine_steps(engine: Engine, sequence: list[Any], start: int, stop: int) -> list[AlertEvent]:
    """Feed steps [start, stop) of a generated sequence to an engine (plant states are its own to find)."""
    events: list[AlertEvent] = []
    for n in range(start, stop):
        step = sequence[n]
        now_ms = T0 + 700 * (n + 1)
        if step[0] == "reading":
            events += engine.observe(observation(step, T0 + 1000 * (n + 1)), now_ms).events
        elif step[0] == "tick":
            events += engine.tick_until(now_ms).events
    return events


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.floats(0, 1))
def test_an_engine_restored_mid_sequence_goes_on_as_the_unbroken_one(sequence: list[Any], where: float) -> None:
    """The worker restores an engine from the committed JSON: restored over an engine that has already
    grouped its quiet rules (a takeover), it goes on with the restored states, as the one never stopped."""
    ruleset = RuleSet(plant=PLANT, rules=RULES)
    split = round(len(sequence) * where)
    unbroken, restored = Engine([ruleset], 5000), Engine([ruleset], 5000)
    engine_steps(unbroken, sequence, 0, split)
    committed = {key: (kind, text) for key, _, kind, text in unbroken.dirty_items()}
    engine_steps(restored, sequence, 0, split // 2)  # its own states, grouped, then replaced by the committed ones
    restored.restore(committed)
    restored.next_tick_ms, restored.last_ms = unbroken.next_tick_ms, unbroken.last_ms
    assert engine_steps(restored, sequence, split, len(sequence)) == engine_steps(unbroken, sequence, split, len(sequence))
    assert {k: s.model_dump() for k, s in restored.states.items()} == {k: s.model_dump() for k, s in unbroken.states.items()}


def test_rows_written_before_the_groups_are_restored_and_evaluated_on() -> None:
    """States as the worker wrote them before (the same JSON): a flatline half-way through its window
    raises on the next samples, a lasting alert recovers."""
    flat = ('{"plant":"p","rule_id":"flat_n","subject":"a","plant_state":null,"emission_limit_exceeded":false,'
            '"condition_since_ms":null,"recovery_since_ms":null,"recovery_seen":false,"active":false,"raised_at_ms":null,'
            '"occurrences":0,"suppressed":false,"cleared_at_ms":null,"leaves":{"c":{"truth":false,"detail":"","value":4.2,'
            f'"kind":"flatline","samples":[[{T0 + 1000},4.0],[{T0 + 2000},4.2]]}}}}}}')
    high = ('{"plant":"p","rule_id":"high","subject":"b","plant_state":null,"emission_limit_exceeded":false,'
            f'"condition_since_ms":{T0},"recovery_since_ms":null,"recovery_seen":false,"active":true,"raised_at_ms":{T0 + 2000},'
            '"occurrences":1,"suppressed":false,"cleared_at_ms":null,"leaves":{"c":{"truth":true,"detail":"b 9 > 5",'
            f'"value":9.0,"kind":"threshold","firing":true,"time_ms":{T0 + 2000}}}}}}}')
    engine = Engine([RuleSet(plant=PLANT, rules=RULES)], 5000)
    assert engine.restore({"p/flat_n/a": ("rule", flat), "p/high/b": ("rule", high)}) == 2
    events = []
    for n, (sensor, value) in enumerate([("a", 4.1), ("b", 4.0), ("a", 4.0), ("b", 2.0)], start=3):
        events += engine.observe(Reading(PLANT, sensor, T0 + n * 1000, value), T0 + n * 1000).events
    # 4.2, 4.1, 4.0: flat within 0.5 since the third sample, raised a second later; 4.0 is inside the
    # hysteresis band (> 3), 2.0 recovers and clears after the rule's 2 s
    mine = ("flat_n", "high")
    assert [(e.kind, e.rule_id, e.subject) for e in events if e.rule_id in mine] == [("raised", "flat_n", "a")]
    assert engine.states["p/high/b"].recovery_since_ms == T0 + 6000
    events = engine.observe(Reading(PLANT, "b", T0 + 8000, 2.0), T0 + 8000).events
    assert [(e.kind, e.rule_id, e.subject) for e in events if e.rule_id in mine] == [("cleared", "high", "b")]
