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

from alerts.conditions import BATCH_KINDS, Flatline, NoData, RateOfChange, Threshold
from alerts.evaluate import (
    OneLeaf,
    ReadingStep,
    advance,
    advance_leaf,
    compile_one_leaf,
    compile_reading_step,
    concerns,
    evaluate,
    initial_state,
    lasting_leaf,
    quiet_leaf,
)
from alerts.events import AlertCleared, AlertEvent, AlertRaised
from alerts.leaves import (
    FlatlineMember,
    RateMember,
    ThresholdMember,
    flatline_member,
    fold_flatlines,
    fold_rates,
    fold_thresholds,
    rate_member,
    threshold_member,
)
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


class RuleBook:
    """The rules of a deployment, indexed by the sensor, device or record kind each one reads."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        self._all = [_Target(r, s, alert_key(r.plant, r.id, s)) for r in self.rules for s in r.subjects()]
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
        steps = {t.key: compile_reading_step(t.rule, t.subject) for t in self._all}
        ones = {t.key: compile_one_leaf(t.rule, t.subject) for t in self._all}
        self._lanes = {
            where: _Lane(where[1], [_Entry(t, steps[t.key], ones[t.key] if _grouped(ones[t.key]) else None) for t in targets])
            for where, targets in self._by_sensor.items()
        }
        keys_by_rule: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for target in self._all:
            keys_by_rule.setdefault((target.rule.plant, target.rule.id), []).append((target.key, round(target.rule.settle_s * 1000)))
        self._roots = {
            (r.plant, r.id): [root_key for root in r.suppressed_by for root_key in keys_by_rule.get((r.plant, root), [])]
            for r in self.rules if r.suppressed_by
        }

    def __reduce__(self) -> tuple[type[RuleBook], tuple[tuple[Rule, ...]]]:
        # pickled as its rules (an engine is, by the replays): the compiled steps are built again
        return RuleBook, (self.rules,)

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
            # the hot path: the (plant, sensor) index already guarantees that the reading concerns every
            # target it lists, so `concerns` is not asked again
            where = (observation.plant, observation.sensor)
            lane = self._lanes.get(where)
            if lane is None:
                return []
            changed.update(self._keys_by_sensor[where])
            return self._suppress(lane.advance(states, observation, now_ms), states)
        self.regroup()  # whatever this changes, each lane finds its quiet rules afresh
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

    def regroup(self) -> None:
        """Forget which rules are quiet: to be called when states are replaced or changed other than by
        `advance` (the engine's restore)."""
        for lane in self._lanes.values():
            lane.states = None

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

    def advance_reading(
        self, states: dict[str, RuleState], reading: Reading, now_ms: int, read: set[tuple[str, str]]
    ) -> list[AlertEvent]:
        """`advance` for a reading, naming the states it evaluated by the reading's (plant, sensor),
        added to `read` (`keys_read_by` gives their keys): the engine's, cheaper per reading than a key
        per state."""
        where = (reading.plant, reading.sensor)
        lane = self._lanes.get(where)
        if lane is None:
            return []
        read.add(where)
        return self._suppress(lane.advance(states, reading, now_ms), states)

    def keys_read_by(self, where: tuple[str, str]) -> list[str]:
        """The keys of the states a reading of (plant, sensor) is evaluated on."""
        return self._keys_by_sensor.get(where, [])

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


@dataclass(frozen=True, slots=True)
class _Entry:
    target: _Target
    step: ReadingStep
    one: OneLeaf | None  # compiled, for a one-leaf rule of a kind the lane folds in groups


def _grouped(one: OneLeaf | None) -> bool:
    return one is not None and type(one.leaf) in (Threshold, RateOfChange, Flatline)


_NONE: list[int] = []  # never changed


class _Lane:
    """The targets a reading of one (plant, sensor) concerns, in rule order. Their quiet leaves
    (`alerts.evaluate.quiet_leaf`) and those of lasting alerts (`lasting_leaf`) are folded in groups,
    one per kind; only a quiet rule whose leaf then holds, a lasting one whose leaf no longer does,
    and the others are stepped one by one. The groups hold the states of one `states` mapping: they
    are found afresh for another mapping, when a grouped rule was stepped or a stepped rule could
    join a group, after anything but a reading, and after `RuleBook.regroup` (states replaced in the
    mapping)."""

    __slots__ = ("entries", "flatlines", "lasting_flatlines", "lasting_thresholds", "live", "rates", "rest", "sensor",
                 "states", "thresholds")

    def __init__(self, sensor: str, entries: list[_Entry]) -> None:
        self.sensor, self.entries = sensor, entries
        self.states: dict[str, RuleState] | None = None  # the mapping the groups were found in
        self.thresholds: list[ThresholdMember] = []
        self.rates: list[RateMember] = []
        self.flatlines: list[FlatlineMember] = []
        self.lasting_thresholds: list[ThresholdMember] = []
        self.lasting_flatlines: list[FlatlineMember] = []
        self.live: list[bool] = []  # by entry: quiet in its plant states (a leaf that holds needs its rule stepped)
        self.rest: list[int] = []  # the entries stepped one by one

    def _group(self, states: dict[str, RuleState], now_ms: int) -> None:
        self.states = states
        self.thresholds, self.rates, self.flatlines, self.rest = [], [], [], []
        self.lasting_thresholds, self.lasting_flatlines = [], []
        self.live = [False] * len(self.entries)
        for index, entry in enumerate(self.entries):
            target, one = entry.target, entry.one
            state = states.get(target.key)
            if state is None:
                state = states[target.key] = initial_state(target.rule, target.subject)
            if one is None:
                self.rest.append(index)
                continue
            leaf = one.leaf
            lasting = lasting_leaf(target.rule, one, state)
            if lasting is not None:
                if isinstance(leaf, Threshold):
                    self.lasting_thresholds.append(threshold_member(leaf, lasting, index))  # type: ignore[arg-type]
                elif isinstance(leaf, Flatline):
                    self.lasting_flatlines.append(flatline_member(leaf, lasting, index))  # type: ignore[arg-type]
                continue
            found = quiet_leaf(target.rule, one, state, now_ms)
            if found is None:
                self.rest.append(index)
                continue
            leaf_state, self.live[index] = found
            if isinstance(leaf, Threshold):
                self.thresholds.append(threshold_member(leaf, leaf_state, index))  # type: ignore[arg-type]
            elif isinstance(leaf, RateOfChange):
                self.rates.append(rate_member(leaf, leaf_state, index))  # type: ignore[arg-type]
            else:
                self.flatlines.append(flatline_member(leaf, leaf_state, index))  # type: ignore[arg-type]

    def advance(self, states: dict[str, RuleState], reading: Reading, now_ms: int) -> list[AlertEvent]:
        """The events of a reading of this lane's sensor, in rule order (the states changed in place)."""
        if self.states is not states:
            self._group(states, now_ms)
        sensor, live = self.sensor, self.live
        # grouped rules whose leaf came to hold (quiet ones) or ceased to (lasting ones), and jumps
        held = fold_thresholds(self.thresholds, reading, sensor, False) if self.thresholds else _NONE
        if self.flatlines:
            flat = fold_flatlines(self.flatlines, reading, sensor, False)
            if flat:
                held = [*held, *flat]
        jumped = fold_rates(self.rates, reading, sensor, False) if self.rates else _NONE
        if held:
            held = [i for i in held if live[i]]  # (outside its plant states a leaf that holds changes nothing else)
        if jumped:
            jumped = [i for i in jumped if live[i]]
        if self.lasting_thresholds:
            kept = fold_thresholds(self.lasting_thresholds, reading, sensor, True)
            if len(kept) < len(self.lasting_thresholds):
                held = [*held, *(m[-1] for m in self.lasting_thresholds if m[-1] not in kept)]
        if self.lasting_flatlines:
            kept = fold_flatlines(self.lasting_flatlines, reading, sensor, True)
            if len(kept) < len(self.lasting_flatlines):
                held = [*held, *(m[-1] for m in self.lasting_flatlines if m[-1] not in kept)]
        rest = self.rest
        if not (held or jumped or rest):
            return []
        events: list[AlertEvent] = []
        entries = self.entries
        for index in sorted([*rest, *held, *jumped]) if held or jumped else rest:
            entry = entries[index]
            target = entry.target
            state = states[target.key]
            if index in held or index in jumped:
                # a grouped leaf whose rule goes on now as its step would (a timer starts, it raises, or it recovers)
                assert entry.one is not None
                events.extend(advance_leaf(target.rule, state, state.leaves[entry.one.path], index in jumped, now_ms))
                self.states = None
                continue
            produced = entry.step(state, reading, now_ms)
            if produced:
                events.extend(produced)
            one = entry.one
            if one is not None and (lasting_leaf(target.rule, one, state) is not None
                                    or (not state.active and quiet_leaf(target.rule, one, state, now_ms) is not None)):
                self.states = None  # it can join a group from the next reading on
        return events


def _root_holds(root: RuleState | None, at_ms: int, settle_ms: int) -> bool:
    """Whether a root's alert makes a new one its consequence: active and sent, or cleared within `settle_ms`."""
    if root is None or root.suppressed:
        return False
    return root.active or (root.cleared_at_ms is not None and at_ms - root.cleared_at_ms < settle_ms)
