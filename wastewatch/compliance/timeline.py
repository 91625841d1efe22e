"""The plant's operating-state timeline over time, with abnormal-operation intervals overlaid, and
the effective operating time it implies (V1: waste is being incinerated)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from wastewatch.compliance.quality import QualityCode
from wastewatch.operating_state import OperatingState

STATE_LOOKBACK_DAYS: tuple[int, ...] = (1, 7, 31, 366)
"""How far back to look for the state a range starts in: a continuous plant may not change state for weeks."""


class StateChange(Protocol):
    """A change of operating state (the alert worker's `PlantStateTransition` is one)."""

    @property
    def to_state(self) -> OperatingState: ...

    @property
    def at_ms(self) -> int: ...

# [A] why a window outside effective operating time has no value: heating up or burning out empty
# chambers is start-up/shut-down; a hot plant waiting for waste, or a cold one, has no waste.
IDLE_CODES: Mapping[OperatingState | None, QualityCode] = {
    OperatingState.PREHEAT: QualityCode.STARTUP_SHUTDOWN,
    OperatingState.SHUTDOWN: QualityCode.STARTUP_SHUTDOWN,
    OperatingState.BURNOUT: QualityCode.STARTUP_SHUTDOWN,
    OperatingState.READY: QualityCode.NO_WASTE,
    OperatingState.COLD: QualityCode.NO_WASTE,
    OperatingState.BURNING: QualityCode.NO_WASTE,
    None: QualityCode.NO_WASTE,
}


@dataclass(frozen=True, slots=True)
class Interval:
    """[start_ms, end_ms); an open interval (still running) has end_ms None."""

    start_ms: int
    end_ms: int | None = None

    def overlap_ms(self, start_ms: int, end_ms: int) -> int:
        end = end_ms if self.end_ms is None else min(self.end_ms, end_ms)
        return max(0, end - max(self.start_ms, start_ms))


@dataclass(frozen=True)
class OperatingTimeline:
    """State changes as (since_ms, state), sorted; before the first change the state is unknown (None)."""

    changes: tuple[tuple[int, OperatingState], ...]
    abnormal: tuple[Interval, ...] = ()
    _times: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.changes, key=lambda c: c[0]))
        object.__setattr__(self, "changes", ordered)
        object.__setattr__(self, "_times", tuple(t for t, _ in ordered))

    @classmethod
    def from_transitions(
        cls, initial: tuple[int, OperatingState], transitions: Iterable[StateChange], abnormal: Iterable[Interval] = ()
    ) -> OperatingTimeline:
        changes = [initial] + [(t.at_ms, t.to_state) for t in transitions]
        return cls(tuple(changes), tuple(abnormal))

    def state_at(self, time_ms: int) -> OperatingState | None:
        i = bisect_right(self._times, time_ms)
        return self.changes[i - 1][1] if i else None

    def durations_ms(self, start_ms: int, end_ms: int) -> dict[OperatingState | None, int]:
        """How long the plant spent in each state within [start_ms, end_ms)."""
        spent: dict[OperatingState | None, int] = {}
        cursor = start_ms
        state = self.state_at(start_ms)
        for t in self._times[bisect_right(self._times, start_ms) :]:
            if t >= end_ms:
                break
            spent[state] = spent.get(state, 0) + t - cursor
            cursor, state = t, self.state_at(t)
        spent[state] = spent.get(state, 0) + end_ms - cursor
        return spent

    def effective_ms(self, start_ms: int, end_ms: int, effective: frozenset[OperatingState]) -> int:
        return sum(ms for state, ms in self.durations_ms(start_ms, end_ms).items() if state in effective)

    def idle_code(self, start_ms: int, end_ms: int) -> QualityCode:
        """The quality code of a window without effective operating time: its longest state decides."""
        spent = self.durations_ms(start_ms, end_ms)
        longest = max(spent.items(), key=lambda item: (item[1], str(item[0])))[0]
        return IDLE_CODES[longest]

    def abnormal_overlap_ms(self, start_ms: int, end_ms: int) -> int:
        return sum(interval.overlap_ms(start_ms, end_ms) for interval in self.abnormal)
