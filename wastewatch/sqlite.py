"""Opening the project's SQLite files the same way everywhere: WAL, autocommit, shared across threads."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal


def open_sqlite(path: Path, *, synchronous: Literal["NORMAL", "FULL"] = "NORMAL", timeout_s: float = 5.0) -> sqlite3.Connection:
    """A WAL-mode connection in autocommit mode that any thread may use (callers hold their own lock).

    With WAL, `NORMAL` makes each commit survive a crash of the process; `FULL` also survives a
    crash of the machine (an fsync per commit), for data that exists nowhere else, like the spool.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), timeout=timeout_s, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    return db
