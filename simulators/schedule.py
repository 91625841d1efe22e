"""Operating schedules: when the plant should be hot and when it may be fed, by local plant time.

The plant state machine (operation.py) follows the schedule but gates feeding on temperatures, so
a schedule says what the operator *intends*; the plant decides what is *allowed*.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """How the operator charges the chamber: one batch of about `mass_kg` every `interval_s`."""

    interval_s: float = 900.0
    interval_jitter_s: float = 45.0
    mass_kg: float = 65.0
    mass_spread_kg: float = 10.0


class OperatingSchedule(Protocol):
    """The operator's intent at a local time: keep the chambers hot, and feed waste."""

    @property
    def batches(self) -> BatchPlan: ...

    @property
    def hold_s(self) -> float:
        """How long the secondary chamber must hold its minimum before the first batch."""
        ...

    def hot(self, local: datetime) -> bool: ...

    def feeding(self, local: datetime) -> bool: ...


def _within(moment: time, start: time, end: time) -> bool:
    """`start <= moment < end` on a clock face; a window may run past midnight."""
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


@dataclass(frozen=True, slots=True)
class DailySchedule:
    """Pre-heat from `preheat_at`, feed until `feed_stop_at`, burn out for `burnout_s`, then cool overnight."""

    preheat_at: time = time(5, 0)
    feed_stop_at: time = time(21, 0)
    burnout_s: float = 3600.0
    hold_s: float = 900.0
    batches: BatchPlan = BatchPlan()

    def _hot_until(self) -> time:
        seconds = (self.feed_stop_at.hour * 3600 + self.feed_stop_at.minute * 60 + round(self.burnout_s)) % 86400
        return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)

    def hot(self, local: datetime) -> bool:
        return _within(local.time(), self.preheat_at, self._hot_until())

    def feeding(self, local: datetime) -> bool:
        return _within(local.time(), self.preheat_at, self.feed_stop_at)


@dataclass(frozen=True, slots=True)
class ContinuousSchedule:
    """Hot and feeding around the clock: 7.2 t/day is 300 kg/h only when run continuously."""

    hold_s: float = 900.0
    batches: BatchPlan = BatchPlan()

    def hot(self, local: datetime) -> bool:
        return True

    def feeding(self, local: datetime) -> bool:
        return True


SCHEDULE_NAMES: tuple[str, ...] = ("daily", "continuous")


def schedule_named(name: str) -> OperatingSchedule:
    """The default schedule of each kind, by name (`daily` or `continuous`)."""
    if name == "daily":
        return DailySchedule()
    if name == "continuous":
        return ContinuousSchedule()
    raise ValueError(f"unknown schedule {name!r}; known: {', '.join(SCHEDULE_NAMES)}")
