"""The outbox sender: delivers pending rows, in order per alert and channel, with capped exponential
back-off, failover along the route's chain, rate limits per channel and audience and "N more
suppressed" digests. Each channel has its own thread, so a dead or slow channel (a webhook timing
out) delays no other.

Severity: a notification of a critical alert (a feed interlock, a cold secondary chamber) is never
rate-limited nor digested, and never waits behind lower-severity ones: each pass takes the critical
rows first, and a pass busy with other rows starts over as soon as a new critical row is pending.
The rate limit (`rate_limit_count` per `rate_limit_window_s`) is a budget for the other rows, per
channel and audience; critical deliveries do not use it up.

Every attempt is a `deliveries` row written in the same transaction as the outbox row's new status,
so after a crash the sender resumes with what is still pending. A crash between a successful send
and that commit sends the row once more, with the same idempotency key: receivers drop the repeat.
With workers partitioned by plant, each sender delivers only the rows of the plants its worker owns
(`plants`), so two senders never hold the same row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from alerts.notifiers import Notifier, NotifierError, Receipt
from alerts.notifiers.registry import INTERNAL
from alerts.outbox import Delivery, Outbox, OutboxRow, Plants, idempotency_key
from alerts.templates import digest_payload
from wastewatch.relational import Database, DatabaseError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SenderPolicy:
    retry_base_s: float = 1.0
    retry_max_s: float = 300.0
    failover_after_attempts: int = 3
    rate_limit_count: int = 20
    rate_limit_window_s: float = 600.0
    language: str = "id"

    def backoff_ms(self, attempt: int) -> int:
        """Delay before the next attempt after `attempt` failures: base · 2^(attempt-1), capped."""
        delay_s: float = min(self.retry_max_s, self.retry_base_s * 2.0 ** max(0, attempt - 1))
        return round(delay_s * 1000)


class OutboxSender:
    def __init__(
        self, db: Database, notifiers: Mapping[str, Notifier], policy: SenderPolicy | None = None, *,
        wall: Callable[[], float] = time.time, poll_s: float = 0.2, plants: Callable[[], Plants] | None = None,
    ) -> None:
        self.db, self.outbox = db, Outbox(db)
        self.notifiers = dict(notifiers)
        self.policy = policy or SenderPolicy()
        self._wall, self._poll_s = wall, poll_s
        self._plants = plants or (lambda: None)
        self._stop = threading.Event()
        self._wakes = {channel: threading.Event() for channel in self.notifiers}
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """One thread per channel, so a slow or dead channel never delays another."""
        unconfigured = {r.channel for r in self.outbox.pending(plants=self._plants())} - set(self.notifiers)
        for channel in sorted(unconfigured):  # left from an earlier configuration: fail them over now
            self.run_once(channel)
        for channel in self.notifiers:
            thread = threading.Thread(target=self._loop, args=(channel,), name=f"alerts-sender-{channel}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout_s)
        for notifier in self.notifiers.values():
            try:
                notifier.close()
            except Exception:
                logger.exception("closing a notifier failed notifier=%s", notifier.name)

    def wake(self) -> None:
        """New rows are committed: look now instead of at the next poll."""
        for event in self._wakes.values():
            event.set()

    def _loop(self, channel: str) -> None:
        wake = self._wakes[channel]
        while not self._stop.is_set():
            wake.clear()
            try:
                self.run_once(channel)
            except DatabaseError:
                logger.exception("outbox pass failed, retrying channel=%s", channel)
            except Exception:
                logger.exception("outbox pass failed unexpectedly, retrying channel=%s", channel)
            wake.wait(self._poll_s)

    # -- one pass ----------------------------------------------------------------------------------

    def run_once(self, channel: str | None = None) -> int:
        """Attempt every due row (of `channel`, or all) whose lane is not held up by an earlier row;
        the number of attempts."""
        blocked: set[tuple[int | str, str]] = set()
        attempts = 0
        plants = self._plants()
        rows = self.outbox.pending(channel, plants=plants)
        newest = max((r.id for r in rows), default=0)
        spent: dict[tuple[str, str], int] = {}  # (channel, audience): rate-limited deliveries in the window, counted once a pass
        for row in rows:
            if self._stop.is_set():
                break
            if row.lane in blocked:
                continue
            now_ms = self._now_ms()
            if row.next_attempt_at_ms > now_ms:
                blocked.add(row.lane)  # a later row of this alert must not overtake it
                continue
            if self._rate_limited(row, now_ms, spent):
                with self.db.transaction():
                    self.outbox.finish(row.id, "suppressed", now_ms, "rate limit")
                logger.info("notification suppressed by rate limit channel=%s key=%s", row.channel, row.idempotency_key)
                continue
            attempts += 1
            if not self._attempt(row):
                blocked.add(row.lane)
            elif (row.channel, row.audience) in spent and row.kind != "digest" and not row.critical:
                spent[(row.channel, row.audience)] += 1
            if not row.critical and self._critical_waiting(row.channel, newest, plants):
                if row.channel in self._wakes:
                    self._wakes[row.channel].set()  # the new pass starts at once, the critical row first
                break
        for digest_channel in [channel] if channel is not None else list(self.notifiers):
            self._make_digest(digest_channel, plants)
        return attempts

    def _now_ms(self) -> int:
        return round(self._wall() * 1000)

    def _rate_limited(self, row: OutboxRow, now_ms: int, spent: dict[tuple[str, str], int]) -> bool:
        """Whether the row's channel and audience have used up their budget (never for a critical row)."""
        if row.channel in INTERNAL or row.kind == "digest" or row.critical:
            return False
        budget = (row.channel, row.audience)
        if budget not in spent:
            spent[budget] = self._sent_in_window(row.channel, row.audience, now_ms)
        return spent[budget] >= self.policy.rate_limit_count

    def _sent_in_window(self, channel: str, audience: str, now_ms: int) -> int:
        window_ms = round(self.policy.rate_limit_window_s * 1000)
        return self.outbox.limited_sent_since(channel, audience, now_ms - window_ms)

    def _budget_spent(self, channel: str, audience: str, now_ms: int) -> bool:
        return self._sent_in_window(channel, audience, now_ms) >= self.policy.rate_limit_count

    def _critical_waiting(self, channel: str, newest: int, plants: Plants) -> bool:
        """A row of a critical alert for `channel` committed after this pass read its rows."""
        return channel not in INTERNAL and self.outbox.critical_pending_after(channel, newest, plants)

    def _attempt(self, row: OutboxRow) -> bool:
        notifier = self.notifiers.get(row.channel)
        started = time.monotonic()
        retryable, receipt, retry_after_s = True, "", None
        try:
            if notifier is None:
                raise NotifierError(f"channel {row.channel} is not configured", retryable=False)
            result: Receipt | None = notifier.send(row.notification())
            receipt = result.detail if result else "sent"
            ok, retryable = True, False
        except NotifierError as exc:
            ok, retryable, receipt, retry_after_s = False, exc.retryable, str(exc), exc.retry_after_s
        except Exception as exc:  # a notifier bug must not stop the others: record it and retry later
            logger.exception("notifier failed unexpectedly channel=%s", row.channel)
            ok, receipt = False, f"unexpected {exc.__class__.__name__}: {exc}"
        now_ms = self._now_ms()
        attempt = row.attempts + 1
        delivery = Delivery(row.id, row.channel, attempt, now_ms, ok, retryable, receipt, (time.monotonic() - started) * 1000)
        with self.db.transaction():
            self.outbox.record(delivery)
            if ok:
                self.outbox.finish(row.id, "sent", now_ms)
            else:
                self._after_failure(row, attempt, retryable, receipt, now_ms, retry_after_s)
        if ok:
            logger.info("notification sent channel=%s kind=%s key=%s", row.channel, row.kind, row.idempotency_key)
        return ok

    def _next_level(self, row: OutboxRow) -> int | None:
        """The next configured channel of the row's chain (a channel since removed is skipped)."""
        return next((lvl for lvl in range(row.level + 1, len(row.chain)) if row.chain[lvl] in self.notifiers), None)

    def _after_failure(
        self, row: OutboxRow, attempt: int, retryable: bool, error: str, now_ms: int, retry_after_s: float | None = None
    ) -> None:
        level = self._next_level(row)
        if level is not None and (not retryable or attempt >= self.policy.failover_after_attempts):
            next_channel = row.chain[level]
            self.outbox.finish(row.id, "failed_over", now_ms, error)
            ref = f"t{row.transition_id}" if row.transition_id is not None else f"o{row.id}"
            self.outbox.add(
                plant=row.plant, alert_id=row.alert_id, transition_id=row.transition_id, kind=row.kind, audience=row.audience,
                chain=row.chain, level=level, key=idempotency_key(ref, next_channel), payload=row.payload,
                now_ms=now_ms,
            )
            if next_channel in self._wakes:
                self._wakes[next_channel].set()
            logger.warning("channel failed, failing over from=%s to=%s key=%s error=%s", row.channel, next_channel,
                           row.idempotency_key, error)
        elif not retryable:
            self.outbox.finish(row.id, "failed", now_ms, error)
            logger.error("notification failed permanently channel=%s key=%s error=%s", row.channel, row.idempotency_key, error)
        else:
            # the service's own "retry after" (a rate limit) is waited out, however short the back-off
            delay_ms = max(self.policy.backoff_ms(attempt), round((retry_after_s or 0.0) * 1000))
            self.outbox.retry_at(row.id, now_ms + delay_ms, error)
            logger.warning("notification failed, retrying channel=%s attempt=%s in_ms=%s error=%s", row.channel, attempt,
                           delay_ms, error)

    def _make_digest(self, channel: str, plants: Plants) -> None:
        """For each audience whose budget on the channel has room again, one digest row listing what
        the rate limit held back for it."""
        if channel in INTERNAL or not self.outbox.has_undigested(channel, plants):
            return  # the usual pass: nothing held back, so no count and no write transaction
        now_ms = self._now_ms()
        ready = {a for a in self.outbox.undigested_audiences(channel, plants) if not self._budget_spent(channel, a, now_ms)}
        if not ready:
            return  # every audience with rows held back is still over its budget
        with self.db.transaction():
            by_audience: dict[str, list[OutboxRow]] = {}
            for row in self.outbox.undigested(channel, plants):
                by_audience.setdefault(row.audience, []).append(row)
            for audience, held in by_audience.items():
                if audience not in ready:
                    continue
                payload = digest_payload(channel, [r.payload for r in held], language=self.policy.language, at_ms=now_ms)
                digest_id = self.outbox.add(
                    plant=held[0].plant, alert_id=None, transition_id=None, kind="digest", audience=audience, chain=(channel,),
                    level=0, key=idempotency_key(f"digest{held[0].id}", channel), payload=payload, now_ms=now_ms,
                )
                self.outbox.mark_digested([r.id for r in held], digest_id)
        if channel in self._wakes:
            self._wakes[channel].set()
