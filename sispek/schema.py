"""The uploader's tables in the shared relational database (SQLite or PostgreSQL).

    sispek_outbox     one row per plant, stack and 5-minute slot (the idempotency key is unique):
                      pending → sent | failed (rejected by the server, or unsent past the retry window)
    sispek_attempts   every attempt at a row: when, ok, retryable, the HTTP status and the server's receipt
    sispek_cursor     per plant and stack, the end of the last period queued (a restart queues from there)
    sispek_lease      which uploader process may queue and send now (`sispek.lease`)

Times are epoch milliseconds (BIGINT); flags are 0/1 integers; JSON is TEXT. `create_schema` is
idempotent, so every process calls it at start.
"""

from __future__ import annotations

from wastewatch.relational import Database


def create_schema(db: Database) -> None:
    db.script([
        f"""CREATE TABLE IF NOT EXISTS sispek_outbox (
            id {db.dialect.id_column},
            plant TEXT NOT NULL,
            id_cerobong TEXT NOT NULL,
            slot_ms BIGINT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            payload TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at_ms BIGINT NOT NULL DEFAULT 0,
            created_at_ms BIGINT NOT NULL,
            done_at_ms BIGINT,
            last_error TEXT,
            receipt TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS sispek_outbox_due ON sispek_outbox (status, id_cerobong, slot_ms)",
        f"""CREATE TABLE IF NOT EXISTS sispek_attempts (
            id {db.dialect.id_column},
            outbox_id BIGINT NOT NULL REFERENCES sispek_outbox (id),
            attempt INTEGER NOT NULL,
            at_ms BIGINT NOT NULL,
            ok INTEGER NOT NULL,
            retryable INTEGER NOT NULL,
            http_status INTEGER,
            receipt TEXT NOT NULL,
            duration_ms DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS sispek_attempts_by_row ON sispek_attempts (outbox_id, id)",
        """CREATE TABLE IF NOT EXISTS sispek_cursor (
            plant TEXT NOT NULL,
            id_cerobong TEXT NOT NULL,
            queued_to_ms BIGINT NOT NULL,
            PRIMARY KEY (plant, id_cerobong)
        )""",
        """CREATE TABLE IF NOT EXISTS sispek_lease (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            until_ms BIGINT NOT NULL
        )""",
    ])
