"""The uploader's two steps, each safe to repeat and to interrupt:

- `queue_closed(now)`: for each stack, every period (an hour) closed since its cursor becomes its
  5-minute records in the outbox, with the cursor moved in the same transaction. A first start, or a
  restart after a long stop, queues at most the retry window back. Once per closed period it also
  looks at the whole retry window again for slots that got valid readings late (the plant's gateway
  back-filling after its own outage): those become new rows. A record already queued is never
  changed by readings that arrive after it (SISPEK's correction call, if any, is unknown).
- `send_due(now)`: for each stack, its oldest pending rows (at most `batch_max`) go in one request,
  in slot order, so a back-fill after an outage arrives in time order. Success: every row sent with
  the server's receipt. A retryable failure: every row waits base · 2^(attempts-1) s, capped, and
  holds back the stack's later rows. A rejection (4xx) of several rows: each is sent alone, so one
  bad record fails alone, without retries. A row unsent past the retry window is marked failed and
  reported (an ERROR line; `wastewatch sispek status` lists it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from sispek.averages import SLOT_MS, five_minute_records
from sispek.client import Receipt, SispekError
from sispek.outbox import PENDING, Attempt, OutboxRow, SispekOutbox
from sispek.reader import read_readings
from sispek.stacks import StackMapping
from wastewatch.points import Store
from wastewatch.relational import Database

logger = logging.getLogger(__name__)
_HOUR_MS = 3_600_000
_MAX_REQUESTS_A_PASS = 10_000  # a bound, never reached: two weeks of hourly batches are 336


class Submitter(Protocol):
    def submit(self, id_cerobong: str, records: Sequence[dict[str, object]]) -> Receipt: ...


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    interval_s: int = 3600
    settle_s: int = 120
    retry_window_h: int = 24
    retry_base_s: float = 30.0
    retry_max_s: float = 1800.0
    batch_max: int = 12
    send_sentinels: bool = False

    def backoff_ms(self, attempt: int) -> int:
        """The wait after `attempt` failed attempts: base · 2^(attempt-1), capped at retry_max_s."""
        return round(min(self.retry_max_s, self.retry_base_s * 2.0 ** max(0, attempt - 1)) * 1000)

    @property
    def window_ms(self) -> int:
        return self.retry_window_h * _HOUR_MS


class Uploader:
    def __init__(self, db: Database, store: Store, client: Submitter, stacks: Sequence[StackMapping],
                 zones: Mapping[str, ZoneInfo], policy: UploadPolicy | None = None, *,
                 wall: Callable[[], float] = time.time) -> None:
        self.outbox = SispekOutbox(db)
        self.store, self.client, self.stacks = store, client, list(stacks)
        self.zones = dict(zones)
        self.policy = policy or UploadPolicy()
        self._wall = wall
        self._rescanned_to: dict[str, int] = {}  # per stack: the closed period the late-data scan last reached

    def now_ms(self) -> int:
        return round(self._wall() * 1000)

    # -- queueing ------------------------------------------------------------------------------

    def queue_closed(self) -> int:
        """Queue every period closed (and settled) since each stack's cursor, then, once per closed
        period, the slots of the retry window that got valid readings late (a plant's back-fill after
        its own outage); the number of new rows."""
        now = self.now_ms()
        period = self.policy.interval_s * 1000
        closed_to = (now - self.policy.settle_s * 1000) // period * period
        earliest = (now - self.policy.window_ms) // period * period
        added = 0
        for stack in self.stacks:
            start = max(self.outbox.cursor(stack.plant, stack.id_cerobong) or earliest, earliest)
            for begin in range(start, closed_to, period):
                added += self._queue_range(stack, begin, begin + period, now)
            if self._rescanned_to.get(stack.id_cerobong, 0) < closed_to:
                first = -(-(now - self.policy.window_ms) // SLOT_MS) * SLOT_MS  # the oldest slot not yet past the window
                late = self._queue_range(stack, first, closed_to, now) if first < closed_to else 0
                if late:
                    logger.info("sispek late records queued stack=%s count=%s", stack.id_cerobong, late)
                added += late
                self._rescanned_to[stack.id_cerobong] = closed_to
        if added:
            logger.info("sispek records queued count=%s", added)
        return added

    def _queue_range(self, stack: StackMapping, start_ms: int, end_ms: int, now_ms: int) -> int:
        samples = read_readings(self.store, stack.plant, stack.sensors, start_ms, end_ms)
        records = five_minute_records(stack, samples, start_ms, end_ms, self.zones[stack.plant],
                                      send_sentinels=self.policy.send_sentinels)
        return self.outbox.queue(stack.plant, stack.id_cerobong, records, end_ms, now_ms)

    # -- sending -------------------------------------------------------------------------------

    def send_due(self) -> int:
        """Expire rows past the retry window, then send each stack's due rows, oldest first; the number sent."""
        self._expire(self.now_ms())
        sent = 0
        for id_cerobong in self.outbox.stacks_pending():
            for _ in range(_MAX_REQUESTS_A_PASS):
                rows = self.outbox.pending(id_cerobong, self.policy.batch_max)
                now = self.now_ms()
                batch = rows[: next((i for i, r in enumerate(rows) if r.next_attempt_at_ms > now), len(rows))]
                if not batch:
                    break  # nothing pending, or the oldest row waits out its back-off: the later rows wait with it
                delivered = self._deliver(id_cerobong, batch)
                sent += delivered
                if delivered < len(batch):
                    break
        return sent

    def _expire(self, now_ms: int) -> None:
        expired = self.outbox.expire(now_ms - self.policy.window_ms, now_ms)
        by_stack: dict[str, list[OutboxRow]] = {}
        for row in expired:
            by_stack.setdefault(row.id_cerobong, []).append(row)
        for id_cerobong, rows in by_stack.items():
            logger.error("sispek records unsent after %s h, marked failed stack=%s count=%s first_slot_ms=%s last_error=%s",
                         self.policy.retry_window_h, id_cerobong, len(rows), rows[0].slot_ms, rows[-1].last_error)

    def _deliver(self, id_cerobong: str, rows: list[OutboxRow]) -> int:
        """One request for `rows`; the number delivered (rows rejected as a batch are tried one by one)."""
        started = time.monotonic()
        try:
            receipt = self.client.submit(id_cerobong, [r.payload for r in rows])
        except SispekError as exc:
            self._failed(rows, exc, (time.monotonic() - started) * 1000)
            if not exc.retryable and len(rows) > 1:  # one bad record must not fail the others: each alone
                fresh = [self.outbox.get(row.id) for row in rows]
                return sum(self._deliver(id_cerobong, [row]) for row in fresh if row is not None and row.status == PENDING)
            return 0
        except Exception as exc:  # a client bug must not stop the uploader: record it and retry later
            logger.exception("sispek submit failed unexpectedly stack=%s", id_cerobong)
            self._failed(rows, SispekError(f"unexpected {exc.__class__.__name__}: {exc}", retryable=True),
                         (time.monotonic() - started) * 1000)
            return 0
        now = self.now_ms()
        duration = (time.monotonic() - started) * 1000
        with self.outbox.db.transaction():
            for row in rows:
                self.outbox.record(Attempt(row.id, row.attempts + 1, now, True, False, receipt.status, receipt.text, duration))
                self.outbox.sent(row.id, now, receipt.text)
        logger.info("sispek records sent stack=%s count=%s first_slot_ms=%s", id_cerobong, len(rows), rows[0].slot_ms)
        return len(rows)

    def _failed(self, rows: list[OutboxRow], exc: SispekError, duration_ms: float) -> None:
        now = self.now_ms()
        error = str(exc)[:2000]
        with self.outbox.db.transaction():
            for row in rows:
                attempt = row.attempts + 1
                self.outbox.record(Attempt(row.id, attempt, now, False, exc.retryable, exc.status, error, duration_ms))
                if exc.retryable:
                    self.outbox.retry_at(row.id, now + self.policy.backoff_ms(attempt), error)
                elif len(rows) == 1:
                    self.outbox.failed(row.id, now, error)
        if exc.retryable:
            logger.warning("sispek submit failed, retrying stack=%s count=%s attempt=%s in_ms=%s error=%s", rows[0].id_cerobong,
                           len(rows), rows[0].attempts + 1, self.policy.backoff_ms(rows[0].attempts + 1), error)
        elif len(rows) == 1:
            logger.error("sispek record rejected, not retried stack=%s slot_ms=%s error=%s", rows[0].id_cerobong, rows[0].slot_ms, error)
