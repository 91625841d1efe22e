"""Client-side pacing for messaging services that limit how often one may send: a minimum interval
per recipient and one for the whole channel, waited out (in the channel's own sender thread) before
each message, so the service's limits are kept instead of being hit and answered with 429s."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    """`wait(recipient)` returns when a message to `recipient` keeps both intervals: at least
    `interval_for(recipient)` seconds since the last message to it, and `overall_s` since the last
    message of the channel."""

    def __init__(
        self, interval_for: Callable[[str], float], overall_s: float, *,
        clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval_for, self._overall_s = interval_for, overall_s
        self._clock, self._sleep = clock, sleep
        self._last: dict[str, float] = {}
        self._last_any: float | None = None
        self._lock = threading.Lock()

    def wait(self, recipient: str) -> float:
        """Sleep until the next message to `recipient` may go; the seconds slept."""
        with self._lock:
            now = self._clock()
            due = now
            if recipient in self._last:
                due = max(due, self._last[recipient] + self._interval_for(recipient))
            if self._last_any is not None:
                due = max(due, self._last_any + self._overall_s)
            slept = max(0.0, due - now)
            if slept:
                self._sleep(slept)
            sent = max(now, due)
            self._last[recipient] = self._last_any = sent
            return slept
