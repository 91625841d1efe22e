"""The relational database on SQLite: one connection in WAL mode, the `Database` interface."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from wastewatch.relational.base import SQLITE, Database, Params, Row
from wastewatch.relational.errors import DatabaseError
from wastewatch.sqlite import open_sqlite


class SqliteDatabase(Database):
    """One SQLite connection in WAL mode. `transaction()` opens a write transaction (BEGIN IMMEDIATE,
    so two writers queue instead of failing half-way, and a read inside it sees what it changes)."""

    dialect = SQLITE
    _begin = "BEGIN IMMEDIATE"

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0) -> None:
        super().__init__()
        self.path = path
        try:
            self._conn = open_sqlite(path, timeout_s=busy_timeout_s)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseError(f"cannot open the alert database {path}: {exc}") from exc

    def _rollback(self) -> None:
        self._conn.rollback()

    def execute(self, sql: str, params: Params = ()) -> int:
        with self._lock:
            return self._run(sql, params).rowcount

    def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        with self._lock:
            try:
                self._conn.executemany(sql, rows)
            except sqlite3.Error as exc:
                raise DatabaseError(f"{exc} in: {' '.join(sql.split())[:200]}") from exc

    def insert(self, sql: str, params: Params = ()) -> int:
        with self._lock:
            row = self._run(sql, params).fetchone()
            return int(row[0]) if row is not None else 0

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        with self._lock:
            return [dict(row) for row in self._run(sql, params).fetchall()]

    def script(self, statements: Sequence[str]) -> None:
        with self.transaction():
            for statement in statements:
                self._run(statement, ())

    def add_column(self, table: str, column: str, column_type: str) -> None:
        # SQLite has no ADD COLUMN IF NOT EXISTS: look first, and when the ALTER fails, look again
        if self._has_column(table, column):
            return
        try:
            self.script([f"ALTER TABLE {table} ADD COLUMN {column} {column_type}"])
        except DatabaseError:  # another process added it first
            if not self._has_column(table, column):
                raise

    def _has_column(self, table: str, column: str) -> bool:
        return any(r["name"] == column for r in self.query(f"PRAGMA table_info({table})"))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _run(self, sql: str, params: Params) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, tuple(params))
        except sqlite3.Error as exc:
            raise DatabaseError(f"{exc} in: {' '.join(sql.split())[:200]}") from exc
