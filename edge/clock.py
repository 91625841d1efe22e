"""The edge's clock: every reading is stamped with the edge's own wall clock, never the device's.

Stamps are strictly increasing (one clock for every device of the edge), so no two samples share a
timestamp (the store would keep only one of them) and none is written before one already taken.
The wall clock is checked against the monotonic clock at every stamp:

- a **backwards** step (the wall clock set back by more than `BACKWARD_TOLERANCE_MS`, an NTP step or
  a hand) is logged and counted; until the wall clock passes the last stamp again, the edge *holds*
  the last timestamp and stamps each sample 1 ms after the previous one. Such samples keep their
  order and are never overwritten, but their time is not when they were read: they are counted
  (`held`) and the health says the clock is held;
- a **forward** step larger than `clock_jump_limit_s` is logged and counted; the stamps follow the
  new wall time (it is usually the correction of a clock that was behind, and it keeps the order).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

BACKWARD_TOLERANCE_MS = 100  # NTP slews (≤ 0.5 ms/s) never come near this between two polls


@dataclass
class ClockState:
    """What the health reports about the clock."""

    backward_jumps: int = 0
    forward_jumps: int = 0
    held: int = 0  # samples stamped while the wall clock was behind the last stamp
    holding: bool = False
    last_jump_ms: int = 0  # size of the last jump (negative: backwards)


class EdgeClock:
    """Strictly increasing epoch-millisecond stamps from the wall clock, jumps detected against the monotonic one."""

    def __init__(
        self,
        jump_limit_s: float = 60.0,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jump_limit_ms = jump_limit_s * 1000
        self._wall = wall
        self._monotonic = monotonic
        self._offset_ms: float | None = None  # wall - monotonic at the previous stamp
        self.last_ms = 0
        self.state = ClockState()

    def stamp(self) -> int:
        wall_ms = self._wall() * 1000
        offset = wall_ms - self._monotonic() * 1000
        if self._offset_ms is not None:
            step = offset - self._offset_ms
            if step < -BACKWARD_TOLERANCE_MS:
                self.state.backward_jumps += 1
                self.state.last_jump_ms = round(step)
                logger.warning("the wall clock went back %.3f s: holding the last timestamp until it catches up", -step / 1000)
            elif step > self.jump_limit_ms:
                self.state.forward_jumps += 1
                self.state.last_jump_ms = round(step)
                logger.warning("the wall clock jumped forward %.3f s (limit %.0f s): stamps follow it", step / 1000, self.jump_limit_ms / 1000)
        self._offset_ms = offset
        now = int(wall_ms)
        if now <= self.last_ms:
            # behind the last stamp: by a millisecond or two when devices are polled at once, by the
            # jump after the wall clock went back (held: counted and reported)
            if self.last_ms - now >= BACKWARD_TOLERANCE_MS:
                self.state.held += 1
                self.state.holding = True
            now = self.last_ms + 1
        elif self.state.holding:
            self.state.holding = False
            logger.info("the wall clock has caught up with the last timestamp: stamps follow it again")
        self.last_ms = now
        return now

    def resume_after(self, last_ms: int) -> None:
        """Never stamp at or before `last_ms` (the newest stamp in the queue, after a restart)."""
        self.last_ms = max(self.last_ms, last_ms)
