"""What the evaluator remembers per (plant, rule, subject): timers, recent values, and the active alert.

Every time is an absolute epoch-ms on the worker's clock, so a state saved half-way through a
tolerance and loaded after a restart completes it on time. `RuleState.model_dump_json()` /
`RuleState.model_validate_json()` round-trip it.

Plain slotted dataclasses, not pydantic models: the evaluator reads and writes these fields a dozen
times per reading, and pydantic's validated `__setattr__` and `model_copy` were most of its cost.
Pydantic checks them only at the persistence boundary (a `TypeAdapter`, same JSON as before).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from alerts.plant_state import OperatingState


@dataclass(slots=True, kw_only=True)
class _LeafState:
    truth: bool = False
    detail: str = ""  # why the condition holds, for the alert message
    value: float | None = None


@dataclass(slots=True, kw_only=True)
class ThresholdState(_LeafState):
    kind: Literal["threshold"] = "threshold"
    firing: bool = False  # holds against the raise threshold (no hysteresis)
    time_ms: int | None = None  # data time of `value`; older readings are ignored


@dataclass(slots=True, kw_only=True)
class NoDataState(_LeafState):
    kind: Literal["no_data"] = "no_data"
    watch_since_ms: int  # silence before the first reading counts from here
    seen_ms: int | None = None
    offline: bool = False


@dataclass(slots=True, kw_only=True)
class FlatlineState(_LeafState):
    kind: Literal["flatline"] = "flatline"
    samples: list[tuple[int, float]] = field(default_factory=list)  # (data time ms, value)


@dataclass(slots=True, kw_only=True)
class RateState(_LeafState):
    kind: Literal["rate_of_change"] = "rate_of_change"
    time_ms: int | None = None


@dataclass(slots=True, kw_only=True)
class RepeatingState(_LeafState):
    kind: Literal["repeating"] = "repeating"
    time_ms: int | None = None
    beyond: bool | None = None  # last sample was on the condition's side
    crossings_ms: list[int] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class TrendState(_LeafState):
    kind: Literal["trend"] = "trend"
    samples: list[tuple[int, float]] = field(default_factory=list)  # (data time ms, value)


@dataclass(slots=True, kw_only=True)
class ChargeState(_LeafState):
    kind: Literal["charge_rate"] = "charge_rate"
    batches: list[tuple[int, float]] = field(default_factory=list)  # (data time ms, mass kg) within the window


@dataclass(slots=True, kw_only=True)
class InterlockState(_LeafState):
    kind: Literal["feed_interlock"] = "feed_interlock"
    inputs: dict[str, float] = field(default_factory=dict)  # latest value per sensor
    hold_since_ms: int | None = None
    hold_complete: bool = False


LeafState = Annotated[
    ThresholdState | NoDataState | FlatlineState | RateState | RepeatingState | TrendState | ChargeState | InterlockState,
    Field(discriminator="kind"),
]


@dataclass(slots=True, kw_only=True)
class RuleState:
    """One (plant, rule, subject): the plant context last seen, tolerance timers and the alert."""

    plant: str
    rule_id: str
    subject: str
    plant_state: OperatingState | None = None
    emission_limit_exceeded: bool = False
    condition_since_ms: int | None = None  # the condition has held since, unbroken
    recovery_since_ms: int | None = None  # while active: healthy since, unbroken
    recovery_seen: bool = False  # while active: healthy values seen since the last raise or update
    active: bool = False
    raised_at_ms: int | None = None
    occurrences: int = 0
    suppressed: bool = False  # the active alert is a consequence of a root alert's fault: never sent
    cleared_at_ms: int | None = None  # when the last alert that was sent cleared
    leaves: dict[str, LeafState] = field(default_factory=dict)  # by condition path (conditions.walk)

    @property
    def key(self) -> str:
        return alert_key(self.plant, self.rule_id, self.subject)

    def private_copy(self) -> RuleState:
        """A copy the evaluator may change in place without the caller seeing it: the leaf states
        are copied too, and leaves replace (never change in place) their lists and dicts."""
        twin = copy.copy(self)
        twin.leaves = {path: copy.copy(leaf) for path, leaf in self.leaves.items()}
        return twin

    def model_dump(self) -> dict[str, Any]:
        result: dict[str, Any] = _adapter().dump_python(self)
        return result

    def model_dump_json(self) -> str:
        """The JSON `model_validate_json` reads. A state with sample windows has each leaf written by its
        kind's serialiser, byte for byte the union's, which costs twice as much on a long window (the
        engine writes every state it changed at every commit)."""
        for leaf in self.leaves.values():
            if type(leaf) in _WINDOWED:
                break
        else:
            return _adapter().dump_json(self).decode()
        adapters = _leaf_adapters()
        parts = []
        for path, leaf in self.leaves.items():
            adapter = adapters.get(type(leaf))
            if adapter is None:
                return _adapter().dump_json(self).decode()  # not a leaf state: the union says how it goes
            parts.append(_json_key(path) + adapter.dump_json(leaf))
        head = _adapter().dump_json(self, exclude=_LEAVES)
        return (head[:-1] + b',"leaves":{' + b",".join(parts) + b"}}").decode()

    @classmethod
    def model_validate_json(cls, text: str | bytes) -> RuleState:
        """A persisted state; raises pydantic's `ValidationError` when it does not parse."""
        return _adapter().validate_json(text)


@cache
def _adapter() -> TypeAdapter[RuleState]:
    return TypeAdapter(RuleState)


_LEAVES = {"leaves"}
_WINDOWED = (FlatlineState, TrendState)
_LEAF_TYPES = (ThresholdState, NoDataState, FlatlineState, RateState, RepeatingState, TrendState, ChargeState, InterlockState)


@cache
def _leaf_adapters() -> dict[type, TypeAdapter[Any]]:
    return {leaf_type: TypeAdapter(leaf_type) for leaf_type in _LEAF_TYPES}


@lru_cache(maxsize=1024)
def _json_key(path: str) -> bytes:
    return json.dumps(path, ensure_ascii=False).encode() + b":"


def alert_key(plant: str, rule_id: str, subject: str) -> str:
    """The identity of an alert: one active alert at most per key."""
    return f"{plant}/{rule_id}/{subject}"
