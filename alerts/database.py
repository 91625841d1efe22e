"""Not the database any more (that is `wastewatch.relational`): only `alerts/worker.py`, changed at
the same time by the MQTT session work, still imports these two names from here. When it imports
`from wastewatch.relational import Database, DatabaseError`, delete this module."""

from __future__ import annotations

from wastewatch.relational import Database
from wastewatch.relational import DatabaseError as AlertDatabaseError

__all__ = ["AlertDatabaseError", "Database"]
