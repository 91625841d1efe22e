"""Which relational database a deployment uses: `WASTEWATCH_ALERTS_DB_URL` (SQLite or PostgreSQL),
or SQLite in the data directory. Connections only; each owner of tables creates its own."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from wastewatch.relational.base import Database
from wastewatch.relational.errors import DatabaseError
from wastewatch.relational.sqlite import SqliteDatabase
from wastewatch.settings import Settings


def database_path(settings: Settings) -> Path:
    """Where the SQLite database lives: `WASTEWATCH_ALERTS_DB_URL` or data_dir/alerts.sqlite3."""
    if settings.alerts_db_url is None:
        return settings.data_dir / "alerts.sqlite3"
    return sqlite_path(settings.alerts_db_url)


def sqlite_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or not parts.path:
        raise DatabaseError(f"WASTEWATCH_ALERTS_DB_URL must be sqlite:///path or postgresql://…, not {url!r}")
    # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy reads them
    return Path(parts.path[1:])


def is_postgres_url(url: str | None) -> bool:
    return url is not None and urlsplit(url).scheme in ("postgresql", "postgres")


def connect_url(url: str) -> Database:
    """A connection to `postgresql://…` or `sqlite:///path`."""
    if is_postgres_url(url):
        # lazy: psycopg costs a process ~110 ms and ~20 MB, and an SQLite deployment never needs it
        from wastewatch.relational.postgres import PostgresDatabase

        return PostgresDatabase(url)
    return SqliteDatabase(sqlite_path(url))


def connect_database(settings: Settings) -> Database:
    """A connection to the database the settings name (SQLite in the data dir by default)."""
    if settings.alerts_db_url is None:
        return SqliteDatabase(database_path(settings))
    return connect_url(settings.alerts_db_url)
