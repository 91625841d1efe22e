"""The relational database shared by the services (the alerts' tables, the API's keys): plain SQL
through one small interface, on SQLite or PostgreSQL. Each owner of tables creates and upgrades its
own (`alerts.schema`, `api.keys`) through `Database.script` and `Database.add_column`.

    base.py      Database (transaction(), execute, query, script, add_column), Dialect, Row
    sqlite.py    SqliteDatabase
    postgres.py  PostgresDatabase (psycopg; loaded only for a postgresql:// URL)
    connect.py   connect_database(settings), connect_url(url)

Exceptions:
    DatabaseError   the database could not be opened, or a statement failed
"""

from __future__ import annotations

from wastewatch.relational.base import Database, Dialect, Params, Row
from wastewatch.relational.connect import connect_database, connect_url
from wastewatch.relational.errors import DatabaseError
from wastewatch.relational.sqlite import SqliteDatabase

__all__ = [
    "Database",
    "DatabaseError",
    "Dialect",
    "Params",
    "Row",
    "SqliteDatabase",
    "connect_database",
    "connect_url",
]
