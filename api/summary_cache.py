"""Computed summaries kept for a short time: a year's compliance summary costs a second of queries,
and dashboards ask for the same range again and again.

Entries live `ttl_s` (WASTEWATCH_API_SUMMARY_CACHE_S, 0 turns it off), so late data (a back-fill,
a recomputation) shows within that time. In memory, per API process, bounded in size.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")
MAX_ENTRIES = 256


class SummaryCache:
    def __init__(self, ttl_s: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T], now_s: float) -> T:
        """The cached value of `key` when younger than ttl_s, else `compute()` (outside the lock) stored."""
        if self.ttl_s <= 0:
            return compute()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now_s - entry[0] < self.ttl_s:
                self._entries.move_to_end(key)
                return entry[1]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._entries[key] = (now_s, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value
