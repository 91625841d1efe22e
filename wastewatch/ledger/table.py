"""The `ledger_days` table in the relational database: one row per sealed plant day, appended, never
rewritten (no statement here updates or deletes one, and a trigger refuses it on both databases).

    ledger_days  id, plant, day (YYYY-MM-DD, the plant's local day), root, previous_chain, chain,
                 leaves (JSON [[kind, key, hash] or [kind, key, hash, target, replaced, replacement], …]),
                 leaf_count, watermarks (JSON {table: highest id} of the trails when sealed), sealed_at_ms
                 UNIQUE (plant, day) and UNIQUE (plant, previous_chain): a day is sealed once, the chain never forks
"""

from __future__ import annotations

import json
from datetime import date

from wastewatch.ledger.check import SealedDay
from wastewatch.ledger.leaves import Leaf
from wastewatch.relational import Database, Row

APPEND_ONLY = "ledger_days is append-only"


def ledger_statements(db: Database) -> list[str]:
    statements = [
        f"""CREATE TABLE IF NOT EXISTS ledger_days (
            id {db.dialect.id_column},
            plant TEXT NOT NULL,
            day TEXT NOT NULL,
            root TEXT NOT NULL,
            previous_chain TEXT NOT NULL,
            chain TEXT NOT NULL,
            leaves TEXT NOT NULL,
            leaf_count INTEGER NOT NULL,
            watermarks TEXT NOT NULL,
            sealed_at_ms BIGINT NOT NULL,
            UNIQUE (plant, day),
            UNIQUE (plant, previous_chain)
        )""",
    ]
    if db.dialect.name == "postgresql":
        return statements + [
            f"""CREATE OR REPLACE FUNCTION ledger_days_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$""",
            """CREATE OR REPLACE TRIGGER ledger_days_append_only BEFORE UPDATE OR DELETE ON ledger_days
            FOR EACH ROW EXECUTE FUNCTION ledger_days_append_only()""",
        ]
    return statements + [
        f"""CREATE TRIGGER IF NOT EXISTS ledger_days_no_update BEFORE UPDATE ON ledger_days
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS ledger_days_no_delete BEFORE DELETE ON ledger_days
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
    ]


def create_ledger_table(db: Database) -> None:
    db.script(ledger_statements(db))


def _sealed(row: Row) -> SealedDay:
    unreadable, marks = "", {}
    try:
        leaves = tuple(Leaf.from_json(item) for item in json.loads(row["leaves"]))
        marks = {str(k): int(v) for k, v in json.loads(row["watermarks"]).items()}
    except (ValueError, TypeError, AttributeError) as exc:  # a row written around this module: verify names it
        leaves, unreadable = (), f"its leaf list or watermarks are unreadable: {exc}"
    return SealedDay(str(row["plant"]), date.fromisoformat(row["day"]), str(row["root"]), str(row["previous_chain"]),
                     str(row["chain"]), leaves, int(row["sealed_at_ms"]), unreadable, marks)


def sealed_days(db: Database, plant: str, first: date | None = None, last: date | None = None) -> list[SealedDay]:
    """The plant's sealed days in [first, last] (all without bounds), in day order."""
    sql, params = "SELECT * FROM ledger_days WHERE plant = ?", [plant]
    if first is not None:
        sql, params = sql + " AND day >= ?", [*params, first.isoformat()]
    if last is not None:
        sql, params = sql + " AND day <= ?", [*params, last.isoformat()]
    return [_sealed(row) for row in db.query(sql + " ORDER BY day", params)]


def day_roots(db: Database, plant: str, first: date, last: date) -> list[tuple[date, str, str]]:
    """(day, root, chain hash) of the plant's sealed days in [first, last], in day order, without their
    leaves: what a report prints (the period's last chain hash is the last row's)."""
    rows = db.query("SELECT day, root, chain FROM ledger_days WHERE plant = ? AND day >= ? AND day <= ? ORDER BY day",
                    (plant, first.isoformat(), last.isoformat()))
    return [(date.fromisoformat(r["day"]), str(r["root"]), str(r["chain"])) for r in rows]


def latest_root(db: Database, plant: str) -> tuple[date, str, str] | None:
    """(day, root, chain hash) of the plant's last sealed day, without its leaves (the public page's line)."""
    row = db.query_one("SELECT day, root, chain FROM ledger_days WHERE plant = ? ORDER BY day DESC LIMIT 1", (plant,))
    return None if row is None else (date.fromisoformat(row["day"]), str(row["root"]), str(row["chain"]))


def last_sealed(db: Database, plant: str) -> SealedDay | None:
    row = db.query_one("SELECT * FROM ledger_days WHERE plant = ? ORDER BY day DESC LIMIT 1", (plant,))
    return _sealed(row) if row is not None else None


def append_day(db: Database, day: SealedDay) -> None:
    """Append a sealed day; a day already sealed or a second successor of one chain hash raises `DatabaseError`."""
    db.execute(
        "INSERT INTO ledger_days (plant, day, root, previous_chain, chain, leaves, leaf_count, watermarks, sealed_at_ms)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (day.plant, day.day.isoformat(), day.root, day.previous, day.chain,
         json.dumps([leaf.to_json() for leaf in day.leaves], separators=(",", ":")), len(day.leaves),
         json.dumps(dict(day.watermarks), sort_keys=True), day.sealed_at_ms),
    )
