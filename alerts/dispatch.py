"""One observation to every (rule, subject) of a rule set it concerns, via an index built once.

`evaluate` is pure, like `alerts.evaluate.evaluate`: states in, states and events out, keyed by alert
key ("plant/rule/subject"). `advance` is the engine's: it changes the states it owns in place and
names the ones it changed, which the worker persists (`RuleState.model_dump_json`).

Both leave out the consequences of a fault (one fault, one alert): an alert raised while a rule in
its `suppressed_by` has an alert active and sent (or cleared less than the root's `settle_s` ago) is
marked suppressed and none of its events leaves, until it clears. Within one observation the first raise in rule order is the root, so
rules may name each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alerts.conditions import BATCH_KINDS, NoData
from alerts.evaluate import OneLeaf, advance, advance_one_leaf, compile_one_leaf, concerns, evaluate, initial_state
from alerts.events import AlertCleared, AlertEvent, AlertRaised
from alerts.observations import Observation
from alerts.plant_state import PlantState
from alerts.rule_state import RuleState, alert_key
from alerts.rules import Rule
from wastewatch.records import Batch, DeviceStatus, Reading


@dataclass(frozen=True, slots=True)
class _Target:
    rule: Rule
    subject: str
    key: str
    one: OneLeaf | None = None  # compiled, for a rule of one leaf


class RuleBook:
    """The rules of a deployment, indexed by the sensor, device or record kind each one reads."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        self._all = [_Target(r, s, alert_key(r.plant, r.id, s), compile_one_leaf(r, s)) for r in self.rules for s in r.subjects()]
        if len({t.key for t in self._all}) != len(self._all):
            raise ValueError("two rules share a plant and id")
        self._by_sensor: dict[tuple[str, str], list[_Target]] = {}
        self._by_device: dict[tuple[str, str], list[_Target]] = {}
        self._feeds: dict[str, list[_Target]] = {}
        for target in self._all:
            rule = target.rule
            for sensor in rule.watched_sensors[target.subject]:
                self._by_sensor.setdefault((rule.plant, sensor), []).append(target)
            for _, leaf in rule.leaves:
                if isinstance(leaf, NoData) and leaf.device:
                    self._by_device.setdefault((rule.plant, leaf.device), []).append(target)
            if any(isinstance(leaf, BATCH_KINDS) for _, leaf in rule.leaves):
                self._feeds.setdefault(rule.plant, []).append(target)
        self._keys_by_sensor = {where: [t.key for t in targets] for where, targets in self._by_sensor.items()}
        keys_by_rule: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for target in self._all:
            keys_by_rule.setdefault((target.rule.plant, target.rule.id), []).append((target.key, round(target.rule.settle_s * 1000)))
        self._roots = {
            (r.plant, r.id): [root_key for root in r.suppressed_by for root_key in keys_by_rule.get((r.plant, root), [])]
            for r in self.rules if r.suppressed_by
        }

    def initial_states(self) -> dict[str, RuleState]:
        """A fresh state for every (rule, subject)."""
        return {t.key: initial_state(t.rule, t.subject) for t in self._all}

    def evaluate(
        self, states: Mapping[str, RuleState], observation: Observation, now_ms: int
    ) -> tuple[dict[str, RuleState], list[AlertEvent]]:
        """New states and the events of one observation, in rule order; a missing state starts fresh."""
        new_states = dict(states)
        events: list[AlertEvent] = []
        for target in self._targets(observation):
            state = new_states.get(target.key) or initial_state(target.rule, target.subject)
            new_states[target.key], produced = evaluate(target.rule, state, observation, now_ms)
            events.extend(produced)
        return new_states, self._suppress(events, new_states)

    def advance(
        self, states: dict[str, RuleState], observation: Observation, now_ms: int, changed: set[str]
    ) -> list[AlertEvent]:
        """`evaluate` in place on `states` (owned by the caller, shared with no one): the events, in
        rule order; the key of every state it evaluated (so changed, or created) is added to `changed`."""
        if type(observation) is Reading:
            return self._suppress(self._advance_reading(states, observation, now_ms, changed), states)
        events: list[AlertEvent] = []
        for target in self._targets(observation):
            rule, key = target.rule, target.key
            state = states.get(key)
            if state is None:
                state = states[key] = initial_state(rule, target.subject)
                changed.add(key)
            if state.rule_id == rule.id and concerns(rule, state, observation):
                changed.add(key)
                events.extend(advance(rule, state, observation, now_ms))
        return self._suppress(events, states)

    def _suppress(self, events: list[AlertEvent], states: Mapping[str, RuleState]) -> list[AlertEvent]:
        """`events` without those of alerts that are a root alert's consequence (marked on their state)."""
        if not events or not self._roots:
            return events
        kept: list[AlertEvent] = []
        # raised further down this list: not a root yet (so the first raise in rule order is the root)
        pending = {event.key for event in events if isinstance(event, AlertRaised)}
        for event in events:
            state = states[event.key]
            if isinstance(event, AlertRaised):
                pending.discard(event.key)
                roots = self._roots.get((event.plant, event.rule_id), ())
                state.suppressed = any(
                    k not in pending and _root_holds(states.get(k), event.at_ms, settle_ms) for k, settle_ms in roots
                )
                if not state.suppressed:
                    kept.append(event)
            elif state.suppressed:
                if isinstance(event, AlertCleared):
                    # never sent, so it counts as no root's recent alert either
                    state.suppressed, state.cleared_at_ms = False, None
            else:
                kept.append(event)
        return kept

    def _advance_reading(
        self, states: dict[str, RuleState], reading: Reading, now_ms: int, changed: set[str]
    ) -> list[AlertEvent]:
        """`advance` for a reading, the hot path: the (plant, sensor) index already guarantees that the
        reading concerns every target it lists, so `concerns` is not asked again."""
        targets = self._by_sensor.get((reading.plant, reading.sensor))
        if not targets:
            return []
        events: list[AlertEvent] = []
        for target in targets:
            rule, key = target.rule, target.key
            state = states.get(key)
            if state is None:
                state = states[key] = initial_state(rule, target.subject)
            if state.rule_id == rule.id:
                one = target.one
                produced = advance_one_leaf(rule, one, state, reading, now_ms) if one is not None else advance(rule, state, reading, now_ms)
                if produced:
                    events.extend(produced)
        changed.update(self._keys_by_sensor[(reading.plant, reading.sensor)])
        return events

    def _targets(self, obs: Observation) -> list[_Target]:
        if isinstance(obs, Reading):
            return self._by_sensor.get((obs.plant, obs.sensor), [])
        if isinstance(obs, DeviceStatus):
            return self._by_device.get((obs.plant, obs.device), [])
        if isinstance(obs, Batch):
            return self._feeds.get(obs.plant, [])
        if isinstance(obs, PlantState):
            return [t for t in self._all if t.rule.plant == obs.plant]
        return self._all


def _root_holds(root: RuleState | None, at_ms: int, settle_ms: int) -> bool:
    """Whether a root's alert makes a new one its consequence: active and sent, or cleared within `settle_ms`."""
    if root is None or root.suppressed:
        return False
    return root.active or (root.cleared_at_ms is not None and at_ms - root.cleared_at_ms < settle_ms)
