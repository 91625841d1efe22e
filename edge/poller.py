"""Polling one source on its own schedule: retries, timeouts, the edge's clock, the device's health.

`samples(source, clock, health)` is an async generator of `Sample`s: one per successful poll, every
`period_s` from its start (a poll that overruns its period makes the next one start at once, and
missed periods are not made up). Each attempt is bounded by the source's own timeout; after
`retries` more failed attempts the poll counts as an error, the device goes offline in the health,
and the next poll tries again. Every device runs in its own task, so one that hangs or fails
delays no other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

from edge.clock import EdgeClock
from edge.health import EdgeHealth
from edge.sources import PushSource, Readout, Sample, Source, SourceError

logger = logging.getLogger(__name__)

RETRY_PAUSE_S = 0.1
GUARD_FACTOR = 10  # a source's read that outlives 10 × its timeout is cut off here (a bug of the source)


async def read_with_retries(source: Source) -> Readout:
    """One poll: the first attempt and up to `source.retries` more; the last error is raised."""
    error = SourceError("no attempt")
    for attempt in range(source.retries + 1):
        if attempt:
            await asyncio.sleep(RETRY_PAUSE_S)
        try:
            async with asyncio.timeout(GUARD_FACTOR * source.timeout_s + 1):
                return await source.read()
        except SourceError as exc:
            error = exc
        except TimeoutError:
            error = SourceError(f"no answer within {GUARD_FACTOR * source.timeout_s + 1:.1f} s")
            await source.close()
        except Exception as exc:  # a bug of a source (or of pymodbus) costs that poll, never the device's task
            logger.exception("reading %s failed unexpectedly", source.device)
            error = SourceError(f"unexpected {type(exc).__name__}: {exc}"[:300])
            await source.close()
    raise error


async def samples(source: Source, clock: EdgeClock, health: EdgeHealth) -> AsyncIterator[Sample]:
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    while True:
        started = time.monotonic()
        try:
            readout = await read_with_retries(source)
        except SourceError as exc:
            health.failed(source.device, time.monotonic() - started, str(exc))
        else:
            ts_ms = clock.stamp()
            health.polled(source.device, time.monotonic() - started, ts_ms, getattr(source, "nonfinite", 0), bool(readout.values))
            if readout.values:
                yield Sample(source.device, ts_ms, readout.values, readout.status)
        next_at += source.period_s
        now = loop.time()
        if next_at < now:  # overran: start again now, on a fresh schedule
            next_at = now
        await asyncio.sleep(next_at - now)


class _Pushed:
    """A push source's sink: each change stamped with the edge's clock and queued; presence in the health."""

    def __init__(self, source: PushSource, clock: EdgeClock, health: EdgeHealth, put: Callable[[Sample], None]) -> None:
        self.source, self.clock, self.health, self.put = source, clock, health, put

    def subscribed(self, latency_s: float) -> None:
        self.health.polled(self.source.device, latency_s, self.clock.stamp(), getattr(self.source, "nonfinite", 0), False)

    def changed(self, readout: Readout) -> None:
        ts_ms = self.clock.stamp()
        self.health.polled(self.source.device, 0.0, ts_ms, getattr(self.source, "nonfinite", 0), bool(readout.values))
        if readout.values:
            self.put(Sample(self.source.device, ts_ms, readout.values, readout.status))

    def lost(self, error: str, latency_s: float) -> None:
        self.health.failed(self.source.device, latency_s, error)


async def pushed(source: PushSource, clock: EdgeClock, health: EdgeHealth, put: Callable[[Sample], None]) -> None:
    """Run a push source until cancelled: its changes become samples (stamped here), its presence the health's."""
    await source.run(_Pushed(source, clock, health, put))
