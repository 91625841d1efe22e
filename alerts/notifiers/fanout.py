"""One notification to several recipients of a service without multi-recipient messages (Telegram
chats, WhatsApp numbers), with the outbox's once-per-recipient promise: a retry of the same
notification (same idempotency key) goes only to the recipients it has not reached yet.

What was reached is remembered in memory (the newest `max_keys` notifications). A crash between a
partial send and the retry sends again to those already reached, as a crash between a send and its
commit does on every channel."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from alerts.notifiers import Notification, NotifierError, Receipt

SendOne = Callable[[str, Notification], str]  # (recipient, notification) -> the service's receipt, or NotifierError


class Fanout:
    def __init__(self, channel: str, recipients: Sequence[str], send_one: SendOne, *, max_keys: int = 10_000) -> None:
        if not recipients:
            raise ValueError(f"the {channel} channel needs at least one recipient")
        self.channel, self.recipients, self._send_one, self._max_keys = channel, list(recipients), send_one, max_keys
        self._reached: OrderedDict[str, dict[str, str]] = OrderedDict()  # idempotency key -> recipient -> receipt

    def send(self, notification: Notification) -> Receipt:
        """Send to every recipient not yet reached; a receipt naming each, or a `NotifierError` naming
        those that failed (retryable when any of them may succeed later)."""
        key = notification.idempotency_key
        reached = self._reached.setdefault(key, {})
        self._reached.move_to_end(key)
        while len(self._reached) > self._max_keys:
            self._reached.popitem(last=False)
        failures: list[tuple[str, NotifierError]] = []
        for recipient in self.recipients:
            if recipient in reached:
                continue
            try:
                reached[recipient] = self._send_one(recipient, notification)
            except NotifierError as exc:
                failures.append((recipient, exc))
        if failures:
            waits = [e.retry_after_s for _, e in failures if e.retry_after_s is not None]
            done = f" (reached {len(reached)} of {len(self.recipients)})" if reached else ""
            raise NotifierError(
                "; ".join(f"{recipient}: {exc}" for recipient, exc in failures) + done,
                retryable=any(e.retryable for _, e in failures), retry_after_s=max(waits) if waits else None,
            )
        self._reached.pop(key, None)
        return Receipt(self.channel, ", ".join(f"{recipient}: {reached[recipient]}" for recipient in self.recipients))
