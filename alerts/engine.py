"""The worker's in-memory evaluation: every plant's operating state and every rule state, advanced by
records and by ticks on a fixed grid of the evaluation clock. No I/O: the worker persists what
`dirty_items` returns and restores it with `restore`.

Per record (the order `tests/test_alert_evaluate.py::replay` uses): ticks due up to its time, the
record folded into the plant's signals, the plant state settled (a change is evaluated before the
record that caused it), then the record itself.

A plant the engine has no state for, or has not heard from for `reseed_after_s`, is seeded from its
signals (`alerts.plant_state.seed_state`): until then it has no state, and rules limited to plant
states do not apply. A worker starting, restarting after a long stop or taking over a lease thus
finds a burning plant burning, not cold.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError

from alerts.dispatch import RuleBook
from alerts.events import AlertEvent
from alerts.observations import Observation, Tick
from alerts.plant_state import (
    PlantSignals,
    PlantState,
    PlantStateConfig,
    PlantStateTransition,
    observe_signal,
    seed_state,
    settle,
)
from alerts.rule_state import RuleState
from alerts.rules import RuleSet
from wastewatch.records import Batch, Reading, Record

logger = logging.getLogger(__name__)

MAX_CATCH_UP_TICKS = 1000  # after a long stop, tick this many grid steps, then once at the present
RULE, PLANT = "rule", "plant"


class PlantTrack(BaseModel):
    """A plant's operating state and the signals it is derived from (persisted as one JSON row);
    no state while it is being seeded, since `watching_since_ms`."""

    state: PlantState | None
    signals: PlantSignals
    seen_ms: int | None = None  # the worker's time of the plant's last record
    watching_since_ms: int | None = None


@dataclass(slots=True)
class Step:
    events: list[AlertEvent] = field(default_factory=list)
    transitions: list[PlantStateTransition] = field(default_factory=list)

    def extend(self, other: Step) -> None:
        self.events.extend(other.events)
        self.transitions.extend(other.transitions)


def plant_key(plant: str) -> str:
    return f"plant:{plant}"


class Engine:
    def __init__(self, rulesets: Iterable[RuleSet], tick_interval_ms: int) -> None:
        rulesets = list(rulesets)
        self.book = RuleBook([rule for rs in rulesets for rule in rs.rules])
        self.configs: dict[str, PlantStateConfig] = {rs.plant: rs.plant_state for rs in rulesets}
        self._plant_keys = {plant: plant_key(plant) for plant in self.configs}
        self._signal_sensors = {plant: config.sensors for plant, config in self.configs.items()}
        self.states: dict[str, RuleState] = self.book.initial_states()
        self.plants: dict[str, PlantTrack] = {}
        self.tick_interval_ms = tick_interval_ms
        self.next_tick_ms: int | None = None
        self.last_ms: int | None = None
        self._dirty: set[str] = set()
        self._read: set[tuple[str, str]] = set()  # (plant, sensor) of the readings evaluated: their states are dirty too
        # the JSON last committed per key: a state evaluated but unchanged is not written again
        self._saved: dict[str, str] = {}

    # -- persistence ---------------------------------------------------------------------------------

    def restore(self, saved: Mapping[str, tuple[str, str]]) -> int:
        """Load persisted states; a state of a rule that no longer exists, or no longer parses, starts fresh."""
        restored = 0
        for key, (kind, text) in saved.items():
            try:
                if kind == RULE and key in self.states:
                    self.states[key] = RuleState.model_validate_json(text)
                    self._saved[key] = text
                    restored += 1
                elif kind == PLANT:
                    track = PlantTrack.model_validate_json(text)
                    plant = key[len("plant:"):]
                    if plant in self.configs:
                        self.plants[plant] = track
                        self._saved[key] = text
                        restored += 1
            except ValidationError as exc:
                logger.warning("persisted state unreadable, starting it afresh key=%s error=%s", key, exc.errors()[0]["msg"])
        self.book.regroup()  # states replaced: the book's groups of quiet rules are found afresh
        return restored

    def dirty_items(self) -> list[tuple[str, str, str, str]]:
        """(key, plant, kind, JSON) of every state changed since `clear_dirty` (evaluated, and its JSON
        not the one last committed)."""
        items = []
        saved = self._saved
        dirty = set(self._dirty)
        for where in self._read:
            dirty.update(self.book.keys_read_by(where))
        for key in sorted(dirty):
            if key.startswith("plant:"):
                plant = key[len("plant:"):]
                plant_kind, text = PLANT, self.plants[plant].model_dump_json()
            else:
                state = self.states[key]
                plant, plant_kind, text = state.plant, RULE, state.model_dump_json()
            if saved.get(key) != text:
                items.append((key, plant, plant_kind, text))
        return items

    def clear_dirty(self, committed: Iterable[tuple[str, str, str, str]] = ()) -> None:
        """Forget the changes; `committed` are the `dirty_items` now in the database."""
        for key, _, _, text in committed:
            self._saved[key] = text
        self._dirty.clear()
        self._read.clear()

    # -- time ----------------------------------------------------------------------------------------

    def start_ticks(self, now_ms: int) -> None:
        if self.next_tick_ms is None:
            self.next_tick_ms = now_ms

    def tick_until(self, now_ms: int, step: Step | None = None) -> Step:
        """Ticks on the grid up to `now_ms` (a long gap: the last grid steps, then one at `now_ms`);
        what they cause is added to `step` (a new one by default), which is returned."""
        step = Step() if step is None else step
        if self.next_tick_ms is None or self.next_tick_ms > now_ms:
            return step
        done = 0
        while self.next_tick_ms <= now_ms and done < MAX_CATCH_UP_TICKS:
            step.extend(self._tick(self.next_tick_ms))
            self.next_tick_ms += self.tick_interval_ms
            done += 1
        if self.next_tick_ms <= now_ms:
            step.extend(self._tick(now_ms))
            self.next_tick_ms = now_ms + self.tick_interval_ms
        return step

    def _tick(self, now_ms: int) -> Step:
        step = Step()
        for plant in list(self.plants):
            if self.plants[plant].state is None:
                self._seed(plant, now_ms, step)
            self._settle(plant, now_ms, step)
        self._evaluate(Tick(), now_ms, step)
        return step

    # -- records -------------------------------------------------------------------------------------

    def observe(self, record: Record, now_ms: int, step: Step | None = None) -> Step:
        """Everything one record causes at `now_ms` (never earlier than the last evaluation), added
        to `step` (a new one by default), which is returned."""
        last_ms = self.last_ms
        if last_ms and now_ms < last_ms:
            now_ms = last_ms
        if step is None:
            step = Step()
        if self.next_tick_ms is None:
            self.next_tick_ms = now_ms  # `start_ticks`
        if self.next_tick_ms <= now_ms:
            self.tick_until(now_ms, step)
        plant = record.plant
        config = self.configs.get(plant)
        if config is None:
            return step
        track = self.plants.get(plant)
        if track is None or track.seen_ms is None or now_ms - track.seen_ms >= config.reseed_after_s * 1000:
            # never seen, or not for longer than a start-up hold: whatever the plant did meanwhile
            # went unwatched, so it is placed afresh from its signals
            track = self.plants[plant] = PlantTrack(state=None, signals=PlantSignals(), watching_since_ms=now_ms)
        if track.seen_ms != now_ms:
            track.seen_ms = now_ms  # (a pydantic model's attribute: set only when it changes, as most signals)
        self._dirty.add(self._plant_keys[plant])
        if isinstance(record, Batch) or (isinstance(record, Reading) and record.sensor in self._signal_sensors[plant]):
            # (a reading of another sensor changes no signal: `observe_signal` is not asked)
            signals = observe_signal(track.signals, record, now_ms, config)
            if signals is not track.signals:
                track.signals = signals
        if track.state is None:
            self._seed(plant, now_ms, step)
            if track.state is not None:
                self._settle(plant, now_ms, step)
        else:
            self._settle(plant, now_ms, step)
        self._evaluate(record, now_ms, step)
        return step

    def _seed(self, plant: str, now_ms: int, step: Step) -> None:
        track = self.plants[plant]
        since_ms = track.watching_since_ms if track.watching_since_ms is not None else now_ms
        transition = seed_state(plant, track.signals, now_ms, since_ms, self.configs[plant])
        if transition is None:
            return
        track.state = transition.as_state()
        self._dirty.add(plant_key(plant))
        step.transitions.append(transition)
        self._evaluate(track.state, now_ms, step)

    def _settle(self, plant: str, now_ms: int, step: Step) -> None:
        track = self.plants[plant]
        if track.state is None:
            return
        state, transitions = settle(track.state, track.signals, now_ms, self.configs[plant])
        if not transitions:
            return
        track.state = state
        self._dirty.add(plant_key(plant))
        step.transitions.extend(transitions)
        self._evaluate(state, now_ms, step)

    def _evaluate(self, observation: Observation, now_ms: int, step: Step) -> None:
        last_ms = self.last_ms
        if not last_ms or now_ms > last_ms:
            self.last_ms = now_ms
        # in place: the engine owns its states and hands out only their JSON
        if type(observation) is Reading:
            step.events.extend(self.book.advance_reading(self.states, observation, now_ms, self._read))
        else:
            step.events.extend(self.book.advance(self.states, observation, now_ms, self._dirty))
