"""Alert response: the exceedance and critical alerts raised in a period and how fast they were
acknowledged, from the alert database (read by `alerts.queries`)."""

from __future__ import annotations

import statistics
from collections.abc import Collection
from dataclasses import dataclass

from alerts.queries import AlertRows, raised_rows

__all__ = ["RESPONSE_CATEGORIES", "AlertResponse", "AlertResponseItem", "AlertRows", "alert_response"]


RESPONSE_CATEGORIES: frozenset[str] = frozenset({"regulatory"})
"""Categories counted besides every critical alert: emission-limit exceedances."""


@dataclass(frozen=True, slots=True)
class AlertResponseItem:
    alert_id: int
    rule_id: str
    severity: str
    category: str
    title: str
    raised_at_ms: int
    ack_at_ms: int | None
    ack_by: str | None

    @property
    def ack_after_s(self) -> float | None:
        return (self.ack_at_ms - self.raised_at_ms) / 1000 if self.ack_at_ms is not None else None


@dataclass(frozen=True, slots=True)
class AlertResponse:
    plant: str
    start_ms: int
    end_ms: int
    alerts: tuple[AlertResponseItem, ...]
    acknowledged: int
    unacknowledged: int
    median_ack_s: float | None
    max_ack_s: float | None


def alert_response(
    db: AlertRows, plant_id: str, start_ms: int, end_ms: int, *, categories: Collection[str] = RESPONSE_CATEGORIES
) -> AlertResponse:
    """Critical alerts and alerts of `categories` raised in [start_ms, end_ms), with acknowledgement times."""
    rows = raised_rows(db, plant_id, start_ms, end_ms, categories)
    items = tuple(
        AlertResponseItem(
            int(r["id"]), str(r["rule_id"]), str(r["severity"]), str(r["category"]), str(r["title"] or r["rule_id"]),
            int(r["raised_at_ms"]), None if r["ack_at_ms"] is None else int(r["ack_at_ms"]), r["ack_by"],
        )
        for r in rows
    )
    waits = [i.ack_after_s for i in items if i.ack_after_s is not None]
    return AlertResponse(
        plant_id, start_ms, end_ms, items, len(waits), len(items) - len(waits),
        statistics.median(waits) if waits else None, max(waits) if waits else None,
    )
