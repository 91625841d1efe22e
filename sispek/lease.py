"""One uploader at a time per database: a lease row that the running uploader renews every pass.

Two `wastewatch sispek run` processes on one database (a restart overlapping the old process, a second
replica by mistake) must not both send the outbox's rows: only the lease's holder queues and sends.
A holder that stops renewing (killed) loses the lease `ttl_ms` after its last renewal. A holder that
stalls past its lease while a request is in flight may see that request's rows sent once more by the
next holder, with the same stack and time (the server keeps one record per stack and time).
"""

from __future__ import annotations

import os
import socket
import uuid

from wastewatch.relational import Database

LEASE = "uploader"


def holder_id() -> str:
    """This process, unique across restarts and hosts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class UploaderLease:
    def __init__(self, db: Database, holder: str, ttl_ms: int) -> None:
        self.db, self.holder, self.ttl_ms = db, holder, ttl_ms

    def acquire(self, now_ms: int) -> bool:
        """Take or renew the lease; whether this process holds it now."""
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO sispek_lease (name, holder, until_ms) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
                " SET holder = excluded.holder, until_ms = excluded.until_ms"
                " WHERE sispek_lease.holder = excluded.holder OR sispek_lease.until_ms <= ?",
                (LEASE, self.holder, now_ms + self.ttl_ms, now_ms),
            )
            row = self.db.query_one("SELECT holder FROM sispek_lease WHERE name = ?", (LEASE,))
        return row is not None and row["holder"] == self.holder

    def release(self) -> None:
        """Give the lease up at once (a clean stop), so the next uploader need not wait for it to lapse."""
        self.db.execute("UPDATE sispek_lease SET until_ms = 0 WHERE name = ? AND holder = ?", (LEASE, self.holder))

    def holder_now(self) -> str | None:
        row = self.db.query_one("SELECT holder, until_ms FROM sispek_lease WHERE name = ?", (LEASE,))
        return None if row is None else str(row["holder"])
