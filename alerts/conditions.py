"""What a rule watches for: one model per condition kind, and `all` / `any` combinations of them.

A leaf without `sensor` is bound to each of its rule's `sensors` in turn (one alert per sensor).
Validators raise "field: problem" so load errors can name the field (see `alerts.rules`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Op = Literal[">", ">=", "<", "<="]


def compare(value: float, op: Op, limit: float) -> bool:
    if op == ">":
        return value > limit
    if op == ">=":
        return value >= limit
    if op == "<":
        return value < limit
    return value <= limit


class _Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Condition):
    """`value op threshold`; while the alert is active it recovers only past `recovery_value` (hysteresis)."""

    kind: Literal["threshold"]
    sensor: str | None = None
    op: Op
    value: float
    recovery_value: float | None = None

    @model_validator(mode="after")
    def _recovery_on_healthy_side(self) -> Threshold:
        r = self.recovery_value
        if r is not None and self.op in ("<", "<=") and r < self.value:
            raise ValueError(f"recovery_value: must be >= value ({self.value:g}) for op '{self.op}'")
        if r is not None and self.op in (">", ">=") and r > self.value:
            raise ValueError(f"recovery_value: must be <= value ({self.value:g}) for op '{self.op}'")
        return self

    def bad(self, value: float, active: bool) -> bool:
        limit = self.recovery_value if active and self.recovery_value is not None else self.value
        return compare(value, self.op, limit)


class NoData(_Condition):
    """Nothing from a sensor (or from any of `sensors`) for `max_silence_s`, or `device` reports offline."""

    kind: Literal["no_data"]
    sensor: str | None = None
    sensors: list[str] = Field(default_factory=list, description="silent when none of these reported")
    device: str | None = None
    max_silence_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _watches_something(self) -> NoData:
        if self.max_silence_s is None and self.device is None:
            raise ValueError("max_silence_s: required unless a device's offline status is watched")
        return self


class Flatline(_Condition):
    """The last `window_samples` samples, or the samples over `window_s`, spread no more than `max_spread`."""

    kind: Literal["flatline"]
    sensor: str | None = None
    window_samples: int | None = Field(default=None, ge=2, le=10_000)
    window_s: float | None = Field(default=None, gt=0)
    max_spread: float = Field(default=0.0, ge=0, description="0: an exact repeat")

    @model_validator(mode="after")
    def _one_window(self) -> Flatline:
        if (self.window_samples is None) == (self.window_s is None):
            raise ValueError("window_samples: give exactly one of window_samples or window_s")
        return self


class RateOfChange(_Condition):
    """An implausible jump: |Δvalue/Δt| between consecutive samples above `max_rate_per_s`."""

    kind: Literal["rate_of_change"]
    sensor: str | None = None
    max_rate_per_s: float = Field(gt=0)


class Repeating(_Condition):
    """At least `count` crossings into `value op threshold` within the last `window_s`."""

    kind: Literal["repeating"]
    sensor: str | None = None
    op: Op
    value: float
    count: int = Field(ge=2)
    window_s: float = Field(gt=0)


class Trend(_Condition):
    """The least-squares slope of the samples over the last `window_s` satisfies `slope op rate_per_s`
    (a chamber falling below what its burner should hold: op "<", a negative rate). Judged on data
    timestamps, once the samples cover the window."""

    kind: Literal["trend"]
    sensor: str | None = None
    window_s: float = Field(gt=0)
    op: Op
    rate_per_s: float
    min_samples: int = Field(default=5, ge=2, le=10_000)


class ChargeRate(_Condition):
    """Waste charged too big or too fast (domain.md §3 charge rate, §4.2): one batch above
    `max_batch_kg`, or the rate of the batches over the last `window_s` above `max_kg_h`.

    The rate of discrete batches is the mass charged after the window's first batch over the time
    since it (n batches span n - 1 intervals), judged once they span half the window: a fixed hour
    would count four or five batches of a steady 15-minute plan depending on where it starts.
    """

    kind: Literal["charge_rate"]
    max_kg_h: float = Field(gt=0)
    window_s: float = Field(default=10_800.0, gt=0)
    max_batch_kg: float | None = Field(default=None, gt=0)


class FeedInterlock(_Condition):
    """A batch fed while feeding is not permitted (domain.md §2.1, §4.4, §4.5, §4.12).

    Not permitted: secondary or primary below its minimum, the start-up hold not yet complete, an
    emission limit exceeded (flag from the plant state), or a `requires_running` device stopped.
    """

    kind: Literal["feed_interlock"]
    secondary_sensor: str = "t_secondary"
    primary_sensor: str = "t_primary"
    secondary_min_c: float
    primary_min_c: float
    hold_s: float = Field(ge=0, description="secondary at minimum this long after each start-up")
    requires_running: list[str] = Field(default_factory=list, description="on/off sensors that must read on")
    check_emissions: bool = True


class AllOf(_Condition):
    kind: Literal["all"]
    conditions: list[Condition] = Field(min_length=1)


class AnyOf(_Condition):
    kind: Literal["any"]
    conditions: list[Condition] = Field(min_length=1)


Leaf = Threshold | NoData | Flatline | RateOfChange | Repeating | Trend | ChargeRate | FeedInterlock
Condition = Annotated[
    Threshold | NoData | Flatline | RateOfChange | Repeating | Trend | ChargeRate | FeedInterlock | AllOf | AnyOf,
    Field(discriminator="kind"),
]
CONDITION_KINDS: tuple[str, ...] = (
    "threshold", "no_data", "flatline", "rate_of_change", "repeating", "trend", "charge_rate", "feed_interlock",
    "all", "any",
)
BATCH_KINDS = (FeedInterlock, ChargeRate)  # the leaves a batch record concerns
AllOf.model_rebuild()
AnyOf.model_rebuild()


def walk(condition: Condition, path: str = "c") -> Iterator[tuple[str, Leaf]]:
    """Every leaf with its path ("c", "c.0", "c.1.0", …), the key of its state in a RuleState."""
    if isinstance(condition, (AllOf, AnyOf)):
        for index, child in enumerate(condition.conditions):
            yield from walk(child, f"{path}.{index}")
    else:
        yield path, condition


def leaf_sensors(leaf: Leaf, bound: str | None) -> list[str]:
    """The sensors whose readings a leaf reads, with `bound` standing in for a missing `sensor`."""
    if isinstance(leaf, FeedInterlock):
        return [leaf.secondary_sensor, leaf.primary_sensor, *leaf.requires_running]
    if isinstance(leaf, ChargeRate):
        return []
    own = leaf.sensor or bound
    extra = leaf.sensors if isinstance(leaf, NoData) else []
    return ([own] if own else []) + list(extra)
