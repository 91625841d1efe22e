"""Failed-authentication limiting per client: a token bucket per client address, in memory.

In memory is enough for one API process; several processes behind a load balancer each keep their
own buckets (a client gets at most N times the burst), which still stops guessing at any useful rate.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

MAX_CLIENTS = 10_000
"""Buckets kept at most; full buckets are dropped first, so memory stays bounded under a spray of addresses."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at_s: float


class FailureLimiter:
    """`burst` failures at once, then `per_min` more per minute; a client with no tokens left is refused."""

    def __init__(self, burst: int, per_min: float) -> None:
        self.burst = float(burst)
        self.rate_per_s = per_min / 60.0
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _refilled(self, client: str, now_s: float) -> _Bucket:
        bucket = self._buckets.get(client)
        if bucket is None:
            return _Bucket(self.burst, now_s)
        bucket.tokens = min(self.burst, bucket.tokens + (now_s - bucket.at_s) * self.rate_per_s)
        bucket.at_s = now_s
        return bucket

    def retry_after_s(self, client: str, now_s: float) -> float | None:
        """Seconds until this client may try again, or None when it may try now."""
        with self._lock:
            bucket = self._refilled(client, now_s)
            if bucket.tokens >= 1.0:
                return None
            return (1.0 - bucket.tokens) / self.rate_per_s

    def record_failure(self, client: str, now_s: float) -> None:
        with self._lock:
            bucket = self._refilled(client, now_s)
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
            self._buckets[client] = bucket
            if len(self._buckets) > MAX_CLIENTS:
                self._prune(now_s)

    def _prune(self, now_s: float) -> None:
        for client in [c for c, b in self._buckets.items() if self._refilled(c, now_s).tokens >= self.burst]:
            del self._buckets[client]
        while len(self._buckets) > MAX_CLIENTS:  # still too many: forget the oldest
            del self._buckets[next(iter(self._buckets))]
