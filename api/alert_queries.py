"""Finding alerts by the filters the API offers: parameterised, portable SQL on `alerts.store`'s table."""

from __future__ import annotations

from dataclasses import dataclass

from alerts.store import AlertRecord
from wastewatch.relational import Database


@dataclass(frozen=True, slots=True)
class AlertFilter:
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


def find_alerts(db: Database, flt: AlertFilter) -> list[AlertRecord]:
    """Matching alerts, newest raised first. Column names are fixed here; only values are parameters."""
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
    return [AlertRecord.from_row(r) for r in db.query(sql, (*params, flt.limit, flt.offset))]
