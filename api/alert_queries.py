"""Finding alerts by the filters the API offers: `alerts.queries` holds the SQL on the alerts table
(one place for it); this module keeps the API's names for it."""

from __future__ import annotations

from alerts.queries import AlertFilter
from alerts.store import AlertRecord, AlertStore
from wastewatch.relational import Database

__all__ = ["AlertFilter", "find_alerts"]


def find_alerts(db: Database, flt: AlertFilter) -> list[AlertRecord]:
    """Matching alerts, newest raised first."""
    return AlertStore(db).find(flt)
