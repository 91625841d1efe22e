"""The hand-off from the MQTT network threads to the alert worker's processing thread.

A `queue.Queue` costs a lock round and a condition notification per message on both sides, and
wakes a waiting consumer for every message. The inbox appends under one lock, wakes the consumer
only when it is waiting, and hands it everything queued at once (`take`), as the ingest hands its
writer whole batches. Bounded: a producer finding it full waits for the consumer, so a slow worker
holds back the broker (TCP back-pressure) instead of growing without limit.
"""

from __future__ import annotations

import threading
from typing import Any


class Inbox:
    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("an inbox holds at least one item")
        self._items: list[Any] = []
        self._maxsize = maxsize
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._space = threading.Condition(self._lock)
        self._consumer_waiting = False
        self._producers_waiting = 0

    def put(self, item: Any) -> None:
        """Queue `item`, waiting while the inbox is full."""
        with self._lock:
            while len(self._items) >= self._maxsize:
                self._producers_waiting += 1
                try:
                    self._space.wait()
                finally:
                    self._producers_waiting -= 1
            self._items.append(item)
            if self._consumer_waiting:
                self._arrived.notify()

    def take(self, timeout_s: float | None = None) -> list[Any]:
        """Everything queued, oldest first; with none queued, wait up to `timeout_s` (None: until
        something comes; 0: not at all) and return what came, perhaps nothing."""
        with self._lock:
            if not self._items and timeout_s != 0:
                self._consumer_waiting = True
                try:
                    self._arrived.wait_for(lambda: self._items, timeout_s)
                finally:
                    self._consumer_waiting = False
            items, self._items = self._items, []
            if self._producers_waiting:
                self._space.notify_all()
            return items

    def empty(self) -> bool:
        return not self._items
