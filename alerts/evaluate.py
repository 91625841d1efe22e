"""The pure evaluation core: one rule, one subject's state, one observation → new state and events.

The lifecycle (openwisp-style): the condition must hold unbroken for `tolerance_s` before an alert
is raised, and recovery must hold unbroken for the recovery tolerance before it clears. While
active, a new discrete occurrence (a jump, a crossing, a violating batch, an offline report) or a
relapse (the raise condition back after values had looked healthy) yields `AlertUpdated`, never a
second alert; inside a hysteresis band the recovery is only postponed, silently. Outside the rule's
plant states pending timers are dropped and an active alert clears at once (`outside_states: hold`
keeps it until it recovers); on entering them the rule's conditions start afresh.
No clock, no I/O: `now_ms` is the worker's clock, and the input state is never modified (`advance`,
the same step in place, is for the engine, which owns its states).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alerts.conditions import BATCH_KINDS, AllOf, AnyOf, Condition, Leaf, NoData, Repeating, Threshold
from alerts.events import AlertCleared, AlertEvent, AlertRaised, AlertUpdated, ClearReason
from alerts.leaves import Fold, LeafContext, ReadingFold, compile_reading_fold, fold_for, new_leaf_state, observe
from alerts.messages import render
from alerts.observations import Observation, Tick
from alerts.plant_state import OperatingState, PlantState
from alerts.rule_state import FlatlineState, LeafState, RuleState, ThresholdState
from alerts.rules import Rule
from wastewatch.records import Batch, DeviceStatus, Reading


def initial_state(rule: Rule, subject: str) -> RuleState:
    """The state of a (rule, subject) never evaluated: nothing seen, no alert."""
    if subject not in rule.subjects():
        raise ValueError(f"rule {rule.id}: {subject!r} is not one of its subjects {rule.subjects()}")
    return RuleState(plant=rule.plant, rule_id=rule.id, subject=subject)


def concerns(rule: Rule, state: RuleState, obs: Observation) -> bool:
    """Whether `obs` can change anything for this (rule, subject); others are skipped cheaply."""
    if isinstance(obs, Tick):
        # without a pending timer or a clock-driven leaf, time passing changes nothing
        return rule.time_dependent or state.condition_since_ms is not None or state.recovery_since_ms is not None
    if obs.plant != state.plant:
        return False
    if isinstance(obs, Reading):
        return obs.sensor in rule.watched_sensors.get(state.subject, frozenset())
    if isinstance(obs, PlantState):
        return True
    if isinstance(obs, Batch):
        return any(isinstance(leaf, BATCH_KINDS) for _, leaf in rule.leaves)
    return any(isinstance(leaf, NoData) and leaf.device == obs.device for _, leaf in rule.leaves)


def evaluate(rule: Rule, state: RuleState, observation: Observation, now_ms: int) -> tuple[RuleState, list[AlertEvent]]:
    """The state after `observation` at `now_ms`, and the alert events it caused (usually none)."""
    if state.rule_id != rule.id or not concerns(rule, state, observation):
        return state, []
    st = state.private_copy()
    return st, advance(rule, st, observation, now_ms)


def advance(rule: Rule, st: RuleState, observation: Observation, now_ms: int) -> list[AlertEvent]:
    """`evaluate` done in place on a state the caller owns and will not share (the engine's), for an
    observation that `concerns` it: the same changes, without copying the state first."""
    previous_plant_state = st.plant_state
    if isinstance(observation, PlantState):
        st.plant_state = observation.operating
        st.emission_limit_exceeded = observation.emission_limit_exceeded
    applicable = rule.applies_in(st.plant_state)
    if applicable and not st.active and st.plant_state != previous_plant_state and not rule.applies_in(previous_plant_state):
        # entering the rule's plant states: it watches afresh, so values, windows and crossings
        # seen outside them (a cold plant's draft noise, yesterday's last sample) cannot raise it
        st.leaves = {}
    leaves = st.leaves
    ctx = LeafContext(now_ms, st.active, rule.bound_sensor(st.subject), previous_plant_state, st.emission_limit_exceeded)
    occurred = False
    leaf_state: LeafState | None = None
    for path, leaf in rule.leaves:
        leaf_state = leaves.get(path)
        if leaf_state is None:
            leaf_state = leaves[path] = new_leaf_state(leaf, now_ms)
        if observe(leaf, leaf_state, observation, ctx):
            occurred = True
    if len(rule.leaves) == 1 and leaf_state is not None:
        # one leaf, however deeply nested: `all` and `any` of one are that one
        bad = leaf_state.truth
        firing = leaf_state.firing if isinstance(leaf_state, ThresholdState) else bad
    else:
        bad = _holds(rule.condition, "c", leaves, strict=False)
        firing = _holds(rule.condition, "c", leaves, strict=True)
    if applicable and not (bad or st.active or st.condition_since_ms is not None):
        return []  # healthy, no alert, no timer: `_advance` would change nothing (the usual reading)
    return _advance(rule, st, _Verdict(bad, firing, occurred), applicable, now_ms)


@dataclass(frozen=True, slots=True)
class OneLeaf:
    """A rule of one leaf (however deeply nested), compiled for one subject: what `advance` looks up
    per observation, looked up once."""

    path: str
    leaf: Leaf
    bound_sensor: str | None
    state_type: type[LeafState]
    fold: Fold
    states: frozenset[OperatingState] | None  # the rule's plant states (None: all)
    reading_fold: ReadingFold | None  # for a reading of `sensor`, when the leaf's kind has one
    sensor: str | None  # the sensor the leaf reads (its own, or the bound one)


def compile_one_leaf(rule: Rule, subject: str) -> OneLeaf | None:
    """The compiled step of a one-leaf rule for `subject`; None for a rule of several leaves."""
    if len(rule.leaves) != 1:
        return None
    path, leaf = rule.leaves[0]
    state_type, fold = fold_for(leaf)
    states = None if rule.states is None else frozenset(rule.states)
    bound = rule.bound_sensor(subject)
    sensor = getattr(leaf, "sensor", None) or bound
    return OneLeaf(path, leaf, bound, state_type, fold, states, compile_reading_fold(leaf, sensor), sensor)


def advance_one_leaf(rule: Rule, one: OneLeaf, st: RuleState, observation: Reading | Batch | DeviceStatus, now_ms: int) -> list[AlertEvent]:
    """`advance` for a one-leaf rule and an observation that is not a plant state (a reading, the hot
    path): the same steps, without the leaf loop and the plant-state handling that cannot apply
    (the plant state is unchanged, so the rule cannot be entering its states)."""
    leaf_state = st.leaves.get(one.path)
    if leaf_state is None:
        leaf_state = st.leaves[one.path] = new_leaf_state(one.leaf, now_ms)
    elif type(leaf_state) is not one.state_type:
        raise TypeError(f"state {leaf_state.kind!r} does not belong to a {one.leaf.kind!r} condition")
    plant_state = st.plant_state
    if one.reading_fold is not None and type(observation) is Reading:
        occurred = one.reading_fold(leaf_state, observation, st.active)
    else:
        occurred = one.fold(one.leaf, leaf_state, observation, LeafContext(now_ms, st.active, one.bound_sensor, plant_state,
                                                                             st.emission_limit_exceeded))
    bad = leaf_state.truth
    applicable = one.states is None or plant_state in one.states
    if applicable and not (bad or st.active or st.condition_since_ms is not None):
        return []  # healthy, no alert, no timer: the usual reading
    firing = leaf_state.firing if type(leaf_state) is ThresholdState else bad
    return _advance(rule, st, _Verdict(bad, firing, occurred), applicable, now_ms)


ReadingStep = Callable[[RuleState, Reading, int], Sequence[AlertEvent]]
_NOTHING: tuple[AlertEvent, ...] = ()


def compile_reading_step(rule: Rule, subject: str) -> ReadingStep:
    """The engine's step of (rule, subject) for a reading that concerns it (`RuleBook.advance`): the
    events of `advance` on a state the engine owns, with everything a reading cannot change looked
    up once. A state of another rule is left alone (no events), as `evaluate` leaves it."""
    rule_id, one = rule.id, compile_one_leaf(rule, subject)
    if one is None or one.reading_fold is None:
        def general(st: RuleState, reading: Reading, now_ms: int) -> Sequence[AlertEvent]:
            if st.rule_id != rule_id:
                return _NOTHING
            return advance_one_leaf(rule, one, st, reading, now_ms) if one is not None else advance(rule, st, reading, now_ms)

        return general
    path, leaf, state_type, fold, states = one.path, one.leaf, one.state_type, one.reading_fold, one.states

    def step(st: RuleState, reading: Reading, now_ms: int) -> Sequence[AlertEvent]:
        if st.rule_id != rule_id:
            return _NOTHING
        leaf_state = st.leaves.get(path)
        if type(leaf_state) is not state_type:
            if leaf_state is not None:
                raise TypeError(f"state {leaf_state.kind!r} does not belong to a {leaf.kind!r} condition")
            leaf_state = st.leaves[path] = new_leaf_state(leaf, now_ms)
        active = st.active
        occurred = fold(leaf_state, reading, active)
        bad = leaf_state.truth
        applicable = states is None or st.plant_state in states
        firing = leaf_state.firing if type(leaf_state) is ThresholdState else bad
        if applicable:
            if not (bad or active or st.condition_since_ms is not None):
                return _NOTHING  # healthy, no alert, no timer: the usual reading
            if (active and bad and not occurred and st.condition_since_ms is not None and st.recovery_since_ms is None
                    and not (firing and st.recovery_seen)):
                return _NOTHING  # still bad, nothing new: `_advance` would change nothing (an alert that lasts)
        return _advance(rule, st, _Verdict(bad, firing, occurred), applicable, now_ms)

    return step


def quiet_leaf(rule: Rule, one: OneLeaf, st: RuleState, now_ms: int) -> tuple[LeafState, bool] | None:
    """For a one-leaf (rule, subject) that a reading can change only by folding into its leaf, the leaf
    state (created if missing, as `advance_one_leaf` would at this reading) and whether the rule
    applies in the plant's state; None for any other. Quiet: the rule's own state, no alert, no
    timer; in its plant states the leaf does not hold (a reading that makes it hold needs
    `advance_leaf`), outside them nothing but the leaf can change."""
    if st.rule_id != rule.id or st.active or st.condition_since_ms is not None:
        return None
    applicable = one.states is None or st.plant_state in one.states
    if not applicable and st.recovery_since_ms is not None:
        return None
    leaf_state = st.leaves.get(one.path)
    if leaf_state is None:
        leaf_state = st.leaves[one.path] = new_leaf_state(one.leaf, now_ms)
    elif type(leaf_state) is not one.state_type or (applicable and leaf_state.truth):
        return None
    return leaf_state, applicable


def lasting_leaf(rule: Rule, one: OneLeaf, st: RuleState) -> LeafState | None:
    """For a one-leaf (rule, subject) of a kind without occurrences (a threshold, a flatline) whose
    alert lasts, the leaf state; None for any other. Lasting: the rule's own state, in its plant
    states, active, its condition timer running, no recovery seen or started, the leaf holding. A
    reading after which the leaf still holds changes nothing but the leaf; one after which it does
    not needs `advance_leaf`."""
    if st.rule_id != rule.id or not st.active or st.condition_since_ms is None or st.recovery_since_ms is not None:
        return None
    if st.recovery_seen or (one.states is not None and st.plant_state not in one.states):
        return None
    leaf_state = st.leaves.get(one.path)
    if type(leaf_state) is not one.state_type or type(leaf_state) not in (ThresholdState, FlatlineState) or not leaf_state.truth:
        return None
    return leaf_state


def advance_leaf(rule: Rule, st: RuleState, leaf_state: LeafState, occurred: bool, now_ms: int) -> list[AlertEvent]:
    """The rest of `advance_one_leaf` after its leaf folded a reading, for a quiet (rule, subject) in its
    plant states whose leaf now holds, or a lasting one whose leaf no longer does."""
    bad = leaf_state.truth
    firing = leaf_state.firing if type(leaf_state) is ThresholdState else bad
    return _advance(rule, st, _Verdict(bad, firing, occurred), True, now_ms)


@dataclass(slots=True)
class _Verdict:
    """`bad`: the condition holds (with hysteresis while active); `firing`: it holds against the
    raise thresholds; `occurred`: a leaf saw a new discrete occurrence."""

    bad: bool
    firing: bool
    occurred: bool


def _holds(condition: Condition, path: str, leaves: dict[str, LeafState], strict: bool) -> bool:
    if isinstance(condition, AllOf):
        return all(_holds(c, f"{path}.{i}", leaves, strict) for i, c in enumerate(condition.conditions))
    if isinstance(condition, AnyOf):
        return any(_holds(c, f"{path}.{i}", leaves, strict) for i, c in enumerate(condition.conditions))
    leaf = leaves.get(path)
    if leaf is None:
        return False
    return leaf.firing if strict and isinstance(leaf, ThresholdState) else leaf.truth


def _advance(rule: Rule, st: RuleState, v: _Verdict, applicable: bool, now_ms: int) -> list[AlertEvent]:
    """Move the tolerance timers and the alert on; mutates `st`."""
    if not applicable and not (st.active and rule.outside_states == "hold"):
        st.condition_since_ms = st.recovery_since_ms = None
        return [_clear(rule, st, now_ms, "not_applicable")] if st.active else []
    if v.bad:
        if st.condition_since_ms is None:
            st.condition_since_ms = now_ms
        st.recovery_since_ms = None
    else:
        st.condition_since_ms = None
        if st.active and st.recovery_since_ms is None:
            st.recovery_since_ms = now_ms
            st.recovery_seen = True
    if not st.active:
        # a first healthy observation sends nothing: there is no alert to recover from
        if st.condition_since_ms is not None and now_ms - st.condition_since_ms >= rule.tolerance_s * 1000:
            return [_raise(rule, st, now_ms)]
        return []
    if st.recovery_since_ms is not None and now_ms - st.recovery_since_ms >= rule.recovery_s * 1000:
        return [_clear(rule, st, now_ms, "recovered")]
    relapsed = v.firing and st.recovery_seen
    if v.bad and (relapsed or (v.occurred and v.firing)):
        st.occurrences, st.recovery_seen = st.occurrences + 1, False
        fields = {"raised_at_ms": st.raised_at_ms if st.raised_at_ms is not None else now_ms, "occurrences": st.occurrences}
        return [AlertUpdated.model_validate({**_common(rule, st, now_ms, "updated"), **fields})]
    return []


def _raise(rule: Rule, st: RuleState, now_ms: int) -> AlertRaised:
    since_ms = st.condition_since_ms if st.condition_since_ms is not None else now_ms
    st.active, st.raised_at_ms, st.occurrences = True, now_ms, 1
    return AlertRaised.model_validate({**_common(rule, st, now_ms, "raised"), "condition_since_ms": since_ms})


def _clear(rule: Rule, st: RuleState, now_ms: int, reason: ClearReason) -> AlertCleared:
    raised_at_ms = st.raised_at_ms if st.raised_at_ms is not None else now_ms
    event = AlertCleared.model_validate({**_common(rule, st, now_ms, reason), "raised_at_ms": raised_at_ms, "reason": reason})
    st.active, st.raised_at_ms, st.occurrences, st.recovery_since_ms, st.recovery_seen = False, None, 0, None, False
    st.cleared_at_ms = now_ms
    return event


def _common(rule: Rule, st: RuleState, now_ms: int, kind: str) -> dict[str, object]:
    """The fields every event of this (rule, subject) carries, with its message filled in."""
    leaves = [(leaf, st.leaves[path]) for path, leaf in rule.leaves if path in st.leaves]
    holding = [s for _, s in leaves if s.truth]
    value = next((s.value for s in holding + [s for _, s in leaves] if s.value is not None), None)
    threshold = next((leaf.value for leaf, _ in leaves if isinstance(leaf, (Threshold, Repeating))), None)
    detail = "; ".join(s.detail for s in holding if s.detail) if kind in ("raised", "updated") else ""
    started_ms = st.condition_since_ms if kind == "raised" else st.raised_at_ms
    duration_s = (now_ms - started_ms) / 1000 if started_ms is not None else 0.0
    templates = {
        "raised": rule.message.raised,
        "updated": rule.message.updated or rule.message.raised,
        "recovered": rule.message.cleared,
        "not_applicable": rule.message.not_applicable,
    }
    fields = {
        "plant": rule.plant, "rule": rule.id, "subject": st.subject, "severity": rule.severity,
        "value": value, "threshold": threshold, "detail": detail, "duration_s": duration_s,
        "plant_state": st.plant_state.value if st.plant_state else "unknown",
    }
    return {
        "plant": rule.plant, "rule_id": rule.id, "subject": st.subject, "severity": rule.severity,
        "category": rule.category, "source": rule.source, "status": rule.status, "at_ms": now_ms,
        "message": render(templates[kind], fields), "value": value, "detail": detail,
    }
