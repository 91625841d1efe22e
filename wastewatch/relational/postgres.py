"""The relational database on PostgreSQL: the same interface as `SqliteDatabase`, on one psycopg connection.

The shared SQL uses `?` placeholders; they are rewritten to `%s` once per statement text. Outside a
transaction the connection autocommits; `transaction()` is BEGIN … COMMIT at READ COMMITTED, and
where the SQLite version relies on BEGIN IMMEDIATE excluding every other writer, the statements
lock the rows they read (`Dialect.for_update`). A connection that broke is reopened by the next
statement outside a transaction; inside one, the error ends the transaction like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from wastewatch.relational.base import POSTGRES, Database, Params, Row
from wastewatch.relational.errors import DatabaseError

# one number for the schema lock: two processes creating the tables at once would otherwise collide
# on PostgreSQL's catalogue (CREATE … IF NOT EXISTS is not atomic against a concurrent CREATE)
SCHEMA_LOCK_KEY = 0x77617374  # "wast"


def to_pyformat(sql: str) -> str:
    """`?` placeholders to psycopg's `%s` (a literal `%` doubled); our SQL has no `?` inside strings."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresDatabase(Database):
    dialect = POSTGRES
    _begin = "BEGIN"

    def __init__(self, url: str, *, connect_timeout_s: int = 10) -> None:
        super().__init__()
        self.url = url
        self._connect_timeout_s = connect_timeout_s
        self._sql: dict[str, str] = {}
        self._conn = self._connect()

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            return psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=self._connect_timeout_s)
        except psycopg.Error as exc:
            raise DatabaseError(f"cannot open the alert database {self._safe_url()}: {exc}") from exc

    def _safe_url(self) -> str:
        """The URL without a password, for messages."""
        head, _, tail = self.url.rpartition("@")
        return f"{head.split(':', 2)[0]}:…@{tail}" if head.count(":") >= 2 else self.url

    def _rollback(self) -> None:
        try:
            self._conn.execute("ROLLBACK")
        except psycopg.Error:
            pass  # a broken connection rolled back already; the next statement reconnects

    def execute(self, sql: str, params: Params = ()) -> int:
        with self._lock:
            return self._run(sql, params).rowcount

    def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        with self._lock:
            text = self._prepare(sql)
            try:
                with self._conn.cursor() as cursor:
                    cursor.executemany(text, [tuple(row) for row in rows])
            except psycopg.Error as exc:
                raise DatabaseError(f"{exc} in: {' '.join(sql.split())[:200]}") from exc

    def insert(self, sql: str, params: Params = ()) -> int:
        with self._lock:
            row = self._run(sql, params).fetchone()
            return int(next(iter(row.values()))) if row is not None else 0

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        with self._lock:
            return self._run(sql, params).fetchall()

    def script(self, statements: Sequence[str]) -> None:
        with self.transaction():
            self._run("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK_KEY,))
            for statement in statements:
                self._run(statement, ())

    def add_column(self, table: str, column: str, column_type: str) -> None:
        self.script([f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {column_type}"])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _prepare(self, sql: str) -> str:
        """The statement in psycopg's placeholders, on a live connection (reopened outside a transaction)."""
        if self._depth == 0 and self._conn.closed:
            self._conn = self._connect()
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = to_pyformat(sql)
        return text

    def _run(self, sql: str, params: Params) -> psycopg.Cursor[dict[str, Any]]:
        text = self._prepare(sql)
        try:
            return self._conn.execute(text, tuple(params))
        except psycopg.Error as exc:
            raise DatabaseError(f"{exc} in: {' '.join(sql.split())[:200]}") from exc
