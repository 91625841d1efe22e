"""The evaluation clock: the wall clock, or a clock that follows the data (replays, the demo).

A worker reads `clock()` (epoch seconds) for every evaluation. With a `DataClock` the worker also
reports each record's time to it (`observe`), so tolerances run on the plant's time even when a day
is replayed in minutes; `idle_speed` > 0 lets time run on while no newer data arrives, so a plant
that falls silent is still noticed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class DataClock:
    def __init__(self, *, idle_speed: float = 0.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.idle_speed = idle_speed
        self._monotonic = monotonic
        self._latest_ms: int | None = None
        self._seen_at = 0.0
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        """False until the first record: before it, the clock does not know the time."""
        return self._latest_ms is not None

    def observe(self, time_ms: int) -> None:
        with self._lock:
            if self._latest_ms is None or time_ms > self._now_ms():
                self._latest_ms, self._seen_at = time_ms, self._monotonic()

    def __call__(self) -> float:
        with self._lock:
            return self._now_ms() / 1000

    def _now_ms(self) -> int:
        if self._latest_ms is None:
            return 0
        return self._latest_ms + round((self._monotonic() - self._seen_at) * self.idle_speed * 1000)
