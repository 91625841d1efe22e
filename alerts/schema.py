"""The alert database's tables: alerts, their append-only audit trail, rule states, the outbox,
deliveries, and the leases by which workers own plants.

Times are epoch milliseconds (BIGINT); flags are 0/1 integers; JSON is TEXT. `create_schema` is
idempotent (CREATE … IF NOT EXISTS), so every process may call it at start; it upgrades a
version-1 database (no outbox.plant, no leases) in place. `open_database` is the alert database
ready to use: the connection the settings name, with these tables.
"""

from __future__ import annotations

from wastewatch.relational import Database, connect_database
from wastewatch.settings import Settings

SCHEMA_VERSION = 2


def statements(id_column: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS alerts (
            id {id_column},
            plant TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            subject TEXT NOT NULL,
            severity TEXT NOT NULL,
            category TEXT NOT NULL,
            source TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            active INTEGER NOT NULL,
            acknowledged INTEGER NOT NULL DEFAULT 0,
            ack_by TEXT,
            ack_at_ms BIGINT,
            ack_comment TEXT,
            assignee TEXT,
            first_seen_ms BIGINT NOT NULL,
            raised_at_ms BIGINT NOT NULL,
            last_seen_ms BIGINT NOT NULL,
            cleared_at_ms BIGINT,
            clear_reason TEXT,
            occurrences INTEGER NOT NULL DEFAULT 1,
            value DOUBLE PRECISION,
            message TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            notified INTEGER NOT NULL DEFAULT 1,
            flapping INTEGER NOT NULL DEFAULT 0,
            escalation_level INTEGER NOT NULL DEFAULT 0
        )""",
        # one active alert per (plant, rule, subject): the database enforces it, not only the code
        "CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_active ON alerts (plant, rule_id, subject) WHERE active = 1",
        "CREATE INDEX IF NOT EXISTS alerts_by_key ON alerts (plant, rule_id, subject, raised_at_ms)",
        f"""CREATE TABLE IF NOT EXISTS alert_transitions (
            id {id_column},
            alert_id BIGINT NOT NULL REFERENCES alerts (id),
            at_ms BIGINT NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            comment TEXT,
            detail TEXT NOT NULL DEFAULT '{{}}'
        )""",
        "CREATE INDEX IF NOT EXISTS transitions_by_alert ON alert_transitions (alert_id, id)",
        """CREATE TABLE IF NOT EXISTS rule_states (
            state_key TEXT PRIMARY KEY,
            plant TEXT NOT NULL,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at_ms BIGINT NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS outbox (
            id {id_column},
            plant TEXT,
            alert_id BIGINT REFERENCES alerts (id),
            transition_id BIGINT REFERENCES alert_transitions (id),
            kind TEXT NOT NULL,
            audience TEXT NOT NULL,
            channel TEXT NOT NULL,
            chain TEXT NOT NULL,
            level INTEGER NOT NULL DEFAULT 0,
            idempotency_key TEXT NOT NULL UNIQUE,
            payload TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at_ms BIGINT NOT NULL,
            created_at_ms BIGINT NOT NULL,
            done_at_ms BIGINT,
            last_error TEXT,
            digest_id BIGINT
        )""",
        "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, id)",
        "CREATE INDEX IF NOT EXISTS outbox_by_channel ON outbox (channel, status, digest_id)",
        f"""CREATE TABLE IF NOT EXISTS deliveries (
            id {id_column},
            outbox_id BIGINT NOT NULL REFERENCES outbox (id),
            channel TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            at_ms BIGINT NOT NULL,
            ok INTEGER NOT NULL,
            retryable INTEGER NOT NULL DEFAULT 0,
            receipt TEXT NOT NULL,
            duration_ms DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS deliveries_by_channel ON deliveries (channel, ok, at_ms)",
        "CREATE INDEX IF NOT EXISTS deliveries_by_outbox ON deliveries (outbox_id)",
        # who owns what: one row per lease name (e.g. "alerts:kotim"), held until expires_at_ms
        """CREATE TABLE IF NOT EXISTS leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            acquired_at_ms BIGINT NOT NULL,
            expires_at_ms BIGINT NOT NULL
        )""",
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    ]


# version 1 → 2: the outbox row names its plant, so the sender of the plant's owner delivers it
UPGRADE_TO_2 = [
    "ALTER TABLE outbox ADD COLUMN plant TEXT",
    "UPDATE outbox SET plant = (SELECT a.plant FROM alerts a WHERE a.id = outbox.alert_id) WHERE plant IS NULL",
]
INDEXES_2 = ["CREATE INDEX IF NOT EXISTS outbox_pending_by_plant ON outbox (status, plant, id)"]


def create_schema(db: Database) -> None:
    """Create the tables that are missing, upgrade an older version, record the version."""
    db.script(statements(db.dialect.id_column))
    with db.transaction():
        row = db.query_one(f"SELECT version FROM schema_version{db.dialect.for_update}")
        if row is None:
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        elif int(row["version"]) < 2:
            for statement in UPGRADE_TO_2:
                db.execute(statement)
            db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
    db.script(INDEXES_2)


def open_database(settings: Settings) -> Database:
    """The alert database the settings name, with its schema created or upgraded."""
    db = connect_database(settings)
    create_schema(db)
    return db
