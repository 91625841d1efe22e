"""The log channel: one line per notification through `logging`; it cannot fail."""

from __future__ import annotations

import logging

from alerts.notifiers import Channel, Notification, Receipt

logger = logging.getLogger("wastewatch.alerts.notifications")


class LogNotifier:
    name = "log"

    def send(self, notification: Notification) -> Receipt:
        text = notification.text()
        level = logging.WARNING if notification.payload.get("severity") in ("critical", "major") else logging.INFO
        logger.log(level, "%s key=%s", text["subject"], notification.idempotency_key)
        return Receipt(self.name, "logged")

    def close(self) -> None:
        return None


CHANNEL = Channel("log", configured=lambda settings, alerts: True, build=lambda settings, alerts, store: LogNotifier())
