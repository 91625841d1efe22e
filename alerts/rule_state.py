"""What the evaluator remembers per (plant, rule, subject): timers, recent values, and the active alert.

Every time is an absolute epoch-ms on the worker's clock, so a state saved half-way through a
tolerance and loaded after a restart completes it on time. `RuleState.model_dump_json()` /
`RuleState.model_validate_json()` round-trip it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from alerts.plant_state import OperatingState


class _LeafState(BaseModel):
    truth: bool = False
    detail: str = Field(default="", description="why the condition holds, for the alert message")
    value: float | None = None


class ThresholdState(_LeafState):
    kind: Literal["threshold"] = "threshold"
    firing: bool = Field(default=False, description="holds against the raise threshold (no hysteresis)")
    time_ms: int | None = Field(default=None, description="data time of `value`; older readings are ignored")


class NoDataState(_LeafState):
    kind: Literal["no_data"] = "no_data"
    watch_since_ms: int = Field(description="silence before the first reading counts from here")
    seen_ms: int | None = None
    offline: bool = False


class FlatlineState(_LeafState):
    kind: Literal["flatline"] = "flatline"
    samples: list[tuple[int, float]] = Field(default_factory=list, description="(data time ms, value)")


class RateState(_LeafState):
    kind: Literal["rate_of_change"] = "rate_of_change"
    time_ms: int | None = None


class RepeatingState(_LeafState):
    kind: Literal["repeating"] = "repeating"
    time_ms: int | None = None
    beyond: bool | None = Field(default=None, description="last sample was on the condition's side")
    crossings_ms: list[int] = Field(default_factory=list)


class InterlockState(_LeafState):
    kind: Literal["feed_interlock"] = "feed_interlock"
    inputs: dict[str, float] = Field(default_factory=dict, description="latest value per sensor")
    hold_since_ms: int | None = None
    hold_complete: bool = False


LeafState = Annotated[
    ThresholdState | NoDataState | FlatlineState | RateState | RepeatingState | InterlockState,
    Field(discriminator="kind"),
]


class RuleState(BaseModel):
    """One (plant, rule, subject): the plant context last seen, tolerance timers and the alert."""

    plant: str
    rule_id: str
    subject: str
    plant_state: OperatingState | None = None
    emission_limit_exceeded: bool = False
    condition_since_ms: int | None = Field(default=None, description="the condition has held since, unbroken")
    recovery_since_ms: int | None = Field(default=None, description="while active: healthy since, unbroken")
    recovery_seen: bool = Field(default=False, description="while active: healthy values seen since the last raise or update")
    active: bool = False
    raised_at_ms: int | None = None
    occurrences: int = 0
    leaves: dict[str, LeafState] = Field(default_factory=dict, description="by condition path (conditions.walk)")

    @property
    def key(self) -> str:
        return alert_key(self.plant, self.rule_id, self.subject)


def alert_key(plant: str, rule_id: str, subject: str) -> str:
    """The identity of an alert: one active alert at most per key."""
    return f"{plant}/{rule_id}/{subject}"
