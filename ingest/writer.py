"""The durable write path: store → (on outage) spool, bad points isolated and dead-lettered.

`DurableWriter.write` returns only once every point is durable (in the store, in the spool, or
dead-lettered with its reason); only then may the messages behind it be acknowledged.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence

from ingest.deadletters import DeadLetterStore
from ingest.metrics import IngestMetrics
from ingest.spool import Spool
from wastewatch.points import Point, Store, StoreRejected, StoreUnavailable
from wastewatch.store.lineprotocol import encode_point

logger = logging.getLogger(__name__)

SPOOL_WARN_LEVELS = (0.5, 0.8, 0.95)


def _describe(point: Point) -> str:
    """The point as line protocol, or its repr when it cannot be encoded as such."""
    try:
        return encode_point(point)
    except (ValueError, TypeError):
        return repr(point)


class Backoff:
    """Capped exponential back-off with full jitter; honours a server's Retry-After."""

    def __init__(self, base_s: float = 0.2, cap_s: float = 30.0, rng: random.Random | None = None) -> None:
        self.base_s, self.cap_s, self.failures = base_s, cap_s, 0
        self._rng = rng or random.Random()

    def next_delay(self, retry_after_s: float | None = None) -> float:
        self.failures += 1
        delay = self._rng.uniform(0, min(self.cap_s, self.base_s * 2 ** min(self.failures, 20)))
        return max(delay, retry_after_s or 0.0)

    def reset(self) -> None:
        self.failures = 0


class DurableWriter:
    """Writes batches so that each point ends up in the store, the spool or the dead letters."""

    def __init__(
        self,
        store: Store,
        spool: Spool,
        dead_letters: DeadLetterStore,
        metrics: IngestMetrics,
        *,
        retry_budget_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        stop: threading.Event | None = None,
    ) -> None:
        self.store, self.spool, self.dead_letters, self.metrics = store, spool, dead_letters, metrics
        self.retry_budget_s = retry_budget_s
        self._clock = clock
        self._stop = stop or threading.Event()
        self._drain_backoff = Backoff()
        self._next_drain_at = 0.0
        self._full_warned = False
        self._warned_level = 0.0

    def write(self, points: Sequence[Point]) -> None:
        """Make `points` durable. Blocks (back-pressure) while the store is down and the spool is full."""
        if not points:
            return
        if self.spool.batches:
            self.drain()
        if not self.spool.batches and self._write_with_retry(points):
            return
        while not self.spool.append(points):
            if not self._full_warned:
                logger.warning("spool full, not acknowledging until the store returns bytes=%s", self.spool.bytes)
                self._full_warned = True
            self.metrics.spool_full.set(1)
            if self._stop.wait(min(1.0, self._drain_backoff.cap_s)):
                raise InterruptedError("stopped while the spool was full")
            self.drain(force=True)
            if not self.spool.batches and self._write_with_retry(points):
                break
        self.metrics.spool_full.set(0)
        self._full_warned = False
        self._update_spool_gauges()
        self._warn_fill_level()

    def drain(self, force: bool = False) -> None:
        """Write spooled batches to the store, oldest first, until it fails or the spool is empty."""
        if not self.spool.batches or (not force and self._clock() < self._next_drain_at):
            return
        while (head := self.spool.oldest()) is not None:
            batch_id, points = head
            try:
                self._write_isolating(points)
            except StoreUnavailable as exc:
                delay = self._drain_backoff.next_delay(exc.retry_after_s)
                self._next_drain_at = self._clock() + delay
                logger.info("store still unavailable, spool drain retry_in_s=%.1f depth=%s", delay, self.spool.batches)
                break
            if not self.spool.remove(batch_id):
                delay = self._drain_backoff.next_delay(None)
                self._next_drain_at = self._clock() + delay
                logger.warning("spool batch written but the disk is too full to delete it, retry_in_s=%.1f", delay)
                break
            self._drain_backoff.reset()
            logger.debug("spool batch drained id=%s points=%s", batch_id, len(points))
        self._update_spool_gauges()

    def _write_with_retry(self, points: Sequence[Point]) -> bool:
        """True when written; False when the store stayed unavailable for the retry budget."""
        backoff = Backoff(base_s=0.05, cap_s=1.0)
        deadline = self._clock() + self.retry_budget_s
        while True:
            try:
                self._write_isolating(points)
                return True
            except StoreUnavailable as exc:
                delay = backoff.next_delay(exc.retry_after_s)
                if self._clock() + delay > deadline:
                    logger.warning("store unavailable, spooling points=%s error=%s", len(points), exc)
                    return False
                self._stop.wait(delay)

    def _write_isolating(self, points: Sequence[Point]) -> None:
        """Write; on a rejection split the batch to find the bad points, dead-letter them, write the rest."""
        started = time.perf_counter()
        try:
            self.store.write(points)
        except StoreRejected as exc:
            # Not an outage: the store refused the data, or cannot carry it (each store raises StoreRejected
            # for a value it cannot encode). Retrying would never succeed: find the bad points, dead-letter them.
            if len(points) == 1:
                line = _describe(points[0])
                payload = line.encode("utf-8", "backslashreplace")
                self.dead_letters.add(int(time.time() * 1000), "(store)", "store_rejected", f"{type(exc).__name__}: {exc}"[:500], payload)
                self.metrics.dead_letters.labels("store_rejected").inc()
                logger.warning("store rejected a point, dead-lettered line=%r error=%s", line[:200], exc)
                return
            middle = len(points) // 2
            self._write_isolating(points[:middle])
            self._write_isolating(points[middle:])
            return
        self.metrics.write_latency.observe(time.perf_counter() - started)
        self.metrics.points_written.inc(len(points))

    def _warn_fill_level(self) -> None:
        """Warn once each time the spool passes 50 %, 80 % and 95 % of its bound."""
        share = self.spool.bytes / self.spool.max_bytes
        level = max((mark for mark in SPOOL_WARN_LEVELS if share >= mark), default=0.0)
        if level > self._warned_level:
            logger.warning(
                "spool filling while the store is down: %d%% of its bound used bytes=%s batches=%s",
                round(share * 100), self.spool.bytes, self.spool.batches,
            )
        self._warned_level = level

    def _update_spool_gauges(self) -> None:
        self.metrics.spool_batches.set(self.spool.batches)
        self.metrics.spool_bytes.set(self.spool.bytes)
