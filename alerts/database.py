"""The relational database moved to `wastewatch.relational`, the alert tables' opening to
`alerts.schema.open_database`; these names stay here only until their importers are updated."""

from __future__ import annotations

from alerts.schema import open_database
from wastewatch.relational import Database, Params, Row, connect_database, connect_url
from wastewatch.relational import DatabaseError as AlertDatabaseError

__all__ = ["AlertDatabaseError", "Database", "Params", "Row", "connect_database", "connect_url", "open_database"]
