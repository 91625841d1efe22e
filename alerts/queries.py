"""The reads of the `alerts` table that others make: the API's filtered listing, and the alerts the
alert-response and downtime summaries count. Their SQL lives here, beside `alerts.store` (the
lifecycle's statements), so the table's columns are spelled in the alerts package only; the API
imports these functions and never writes SQL on the table itself.

Each function takes any object with `query(sql, params)` (`wastewatch.relational.Database` is one)
and returns plain rows; `alerts.store.AlertStore` turns the listing's rows into `AlertRecord`s.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from wastewatch.relational import Row


class AlertRows(Protocol):
    """What is read from the alert database (`wastewatch.relational.Database` is one): plain SQL rows."""

    def query(self, sql: str, params: Sequence[Any] = ...) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """The API's alert filters; None: not filtered on that column."""

    plant: str | None = None
    active: bool | None = None
    acknowledged: bool | None = None
    severity: str | None = None
    category: str | None = None
    rule_id: str | None = None
    assignee: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    limit: int = 100
    offset: int = 0
    plants: tuple[str, ...] | None = None
    """Only alerts of these plants (a scoped key's); None: any plant."""


def filtered_rows(db: AlertRows, flt: AlertFilter) -> list[Row]:
    """Whole alert rows matching `flt`, newest raised first. Column names are fixed here; only values
    are parameters."""
    terms: list[str] = []
    params: list[object] = []
    for column, value in (("plant", flt.plant), ("severity", flt.severity), ("category", flt.category),
                          ("rule_id", flt.rule_id), ("assignee", flt.assignee)):
        if value is not None:
            terms.append(f"{column} = ?")
            params.append(value)
    if flt.plants is not None:
        terms.append(f"plant IN ({', '.join('?' for _ in flt.plants)})" if flt.plants else "1 = 0")
        params.extend(flt.plants)
    for column, flag in (("active", flt.active), ("acknowledged", flt.acknowledged)):
        if flag is not None:
            terms.append(f"{column} = ?")
            params.append(int(flag))
    if flt.since_ms is not None:
        terms.append("raised_at_ms >= ?")
        params.append(flt.since_ms)
    if flt.until_ms is not None:
        terms.append("raised_at_ms < ?")
        params.append(flt.until_ms)
    where = (" WHERE " + " AND ".join(terms)) if terms else ""
    sql = f"SELECT * FROM alerts{where} ORDER BY raised_at_ms DESC, id DESC LIMIT ? OFFSET ?"
    return db.query(sql, (*params, flt.limit, flt.offset))


def raised_rows(db: AlertRows, plant: str, start_ms: int, end_ms: int, categories: Collection[str]) -> list[Row]:
    """Critical alerts and alerts of `categories` raised in [start_ms, end_ms), oldest first: id,
    rule_id, severity, category, title, raised_at_ms, ack_at_ms, ack_by (the alert-response summary)."""
    cats = sorted(categories)
    marks = ",".join("?" for _ in cats) or "NULL"
    return db.query(
        "SELECT id, rule_id, severity, category, title, raised_at_ms, ack_at_ms, ack_by FROM alerts "
        f"WHERE plant = ? AND raised_at_ms >= ? AND raised_at_ms < ? AND (severity = 'critical' OR category IN ({marks})) "
        "ORDER BY raised_at_ms, id",
        (plant, start_ms, end_ms, *cats),
    )


def open_rows(db: AlertRows, plant: str, severities: Sequence[str], start_ms: int, end_ms: int) -> list[Row]:
    """Alerts of `severities` open at some time in [start_ms, end_ms): id, raised_at_ms, cleared_at_ms,
    rule_id, title, severity (the causes of downtime in the uptime summary)."""
    marks = ",".join("?" for _ in severities)
    return db.query(
        f"SELECT id, raised_at_ms, cleared_at_ms, rule_id, title, severity FROM alerts WHERE plant = ? "
        f"AND severity IN ({marks}) AND raised_at_ms < ? AND (cleared_at_ms IS NULL OR cleared_at_ms > ?)",
        (plant, *severities, end_ms, start_ms),
    )
