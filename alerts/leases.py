"""Leases in the alert database: which worker owns which plant, until when.

A lease is one row (name, owner, expires_at_ms). `claim` takes a free or expired lease, or extends
one the owner already holds, in a single `INSERT … ON CONFLICT DO UPDATE … WHERE` statement: atomic
on SQLite (one writer at a time) and on PostgreSQL (the conflicting row is locked and the condition
re-checked). An owner that stops renewing (killed, hung, cut off) loses the lease when it expires;
a standby's next `claim` then takes it. `holds` inside a commit transaction fences a late writer:
on PostgreSQL it locks the row, so the lease cannot change hands before that commit ends.

Times are the workers' wall clocks (epoch ms): workers sharing leases need synchronised clocks
(NTP); the lease length should be many times the worst clock difference.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from wastewatch.relational import Database


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    owner: str
    acquired_at_ms: int
    expires_at_ms: int


def plant_lease(plant: str) -> str:
    """The lease name of the alert work of one plant (compliance may use `compliance:<plant>`)."""
    return f"alerts:{plant}"


def worker_identity(prefix: str) -> str:
    """A lease owner name unique to this process: prefix, host, pid and a random tail."""
    return f"{prefix}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    def __init__(self, db: Database, owner: str, ttl_s: float, *, wall: Callable[[], float] = time.time) -> None:
        if ttl_s <= 0:
            raise ValueError("a lease needs a positive length")
        self.db, self.owner = db, owner
        self.ttl_ms = round(ttl_s * 1000)
        self._wall = wall

    def now_ms(self) -> int:
        return round(self._wall() * 1000)

    def claim(self, name: str) -> bool:
        """Take the lease if it is free or expired, or extend it if we hold it; whether we hold it now."""
        now_ms = self.now_ms()
        rows = self.db.query(
            """INSERT INTO leases (name, owner, acquired_at_ms, expires_at_ms) VALUES (?, ?, ?, ?)
               ON CONFLICT (name) DO UPDATE SET
                   owner = excluded.owner, expires_at_ms = excluded.expires_at_ms,
                   acquired_at_ms = CASE WHEN leases.owner = excluded.owner THEN leases.acquired_at_ms
                                         ELSE excluded.acquired_at_ms END
               WHERE leases.owner = excluded.owner OR leases.expires_at_ms <= ?
               RETURNING owner""",
            (name, self.owner, now_ms, now_ms + self.ttl_ms, now_ms),
        )
        return bool(rows) and rows[0]["owner"] == self.owner

    renew = claim  # extending a lease we hold is claiming it again; it fails once another took it

    def release(self, name: str) -> None:
        """Give the lease up at once (a clean stop), so a standby need not wait for the expiry."""
        self.db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, self.owner))

    def holds(self, name: str) -> bool:
        """Whether we hold the lease now; call it inside the transaction it fences."""
        row = self.db.query_one(
            f"SELECT owner FROM leases WHERE name = ? AND owner = ? AND expires_at_ms > ?{self.db.dialect.for_update}",
            (name, self.owner, self.now_ms()),
        )
        return row is not None

    def all(self, names: Iterable[str] | None = None) -> list[Lease]:
        rows = self.db.query("SELECT name, owner, acquired_at_ms, expires_at_ms FROM leases ORDER BY name")
        wanted = None if names is None else set(names)
        return [Lease(r["name"], r["owner"], r["acquired_at_ms"], r["expires_at_ms"]) for r in rows
                if wanted is None or r["name"] in wanted]
