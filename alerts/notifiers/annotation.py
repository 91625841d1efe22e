"""The internal annotation channel: alert events and plant-state changes into the time-series store.

Going through the outbox means an InfluxDB outage delays these points instead of losing them or
holding up evaluation. A point rejected by the store (4xx) is permanent and never retried.
"""

from __future__ import annotations

from alerts.notifiers import Channel, Notification, NotifierError, Receipt
from wastewatch.points import Point, Store, StoreError, StoreRejected


class AnnotationNotifier:
    name = "annotation"

    def __init__(self, store: Store) -> None:
        self.store = store

    def send(self, notification: Notification) -> Receipt:
        p = notification.payload
        point = Point(str(p["measurement"]), dict(p["tags"]), dict(p["fields"]), int(p["time_ms"]))
        try:
            self.store.write([point])
        except StoreRejected as exc:
            raise NotifierError(f"store rejected the point: {exc}", retryable=False) from exc
        except StoreError as exc:  # unavailable (or a failure we cannot classify): retried
            raise NotifierError(f"store unavailable: {exc}") from exc
        return Receipt(self.name, f"{point.measurement} written")

    def close(self) -> None:
        return None


CHANNEL = Channel(
    "annotation", configured=lambda settings, alerts: True,
    build=lambda settings, alerts, store: AnnotationNotifier(store) if store is not None else None, internal=True,
)
