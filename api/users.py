"""People who log in to the console, apart from machine API keys: a name, a password, a role (the
same four) and an optional plant scope; their sessions.

Passwords are stored as Argon2id hashes (argon2-cffi, RFC 9106's second recommended parameters,
re-hashed at the next login when the parameters change). Unlike an API key's 256 random bits, a
password is chosen by a person, so a stolen hash must be slow to guess: this is what a KDF is for.
An unknown name costs the same hash as a wrong password, so the answer time tells no one which
names exist.

A session is a random token (32 bytes) in an HttpOnly cookie; the database keeps only its SHA-256
(as for API keys: a random token needs no KDF), with the session's own CSRF token, its start and its
last use: it ends after `idle_s` without use or `absolute_s` after its start, whichever comes first,
at logout, and when the user's password changes or the user is disabled. Every login, failed login,
logout and change goes to the API's audit trail (`api_audit`) under the user's name.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.keys import NAME_PATTERN, audit, key_statements
from api.roles import Role
from wastewatch.errors import Conflict, NotFound
from wastewatch.relational import Database, Row
from wastewatch.topics import ID_PATTERN

MIN_PASSWORD = 10
LAST_SEEN_STEP_MS = 30_000  # a session's last use is stored to this step: idle expiry is that much coarser
MAX_PASSWORD = 256  # Argon2 takes any length; this keeps a request from making it hash megabytes
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("no user has this password: it only costs what a real check costs")


def user_statements(id_column: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS console_users (
            id {id_column},
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            plants TEXT,
            password_hash TEXT NOT NULL,
            created_at_ms BIGINT NOT NULL,
            created_by TEXT NOT NULL,
            password_changed_at_ms BIGINT NOT NULL,
            disabled_at_ms BIGINT,
            disabled_by TEXT
        )""",
        f"""CREATE TABLE IF NOT EXISTS console_sessions (
            id {id_column},
            token_hash TEXT NOT NULL UNIQUE,
            user_name TEXT NOT NULL,
            csrf_token TEXT NOT NULL,
            address TEXT NOT NULL,
            started_at_ms BIGINT NOT NULL,
            last_seen_ms BIGINT NOT NULL,
            ended_at_ms BIGINT
        )""",
        "CREATE INDEX IF NOT EXISTS console_sessions_user ON console_sessions (user_name)",
    ]


class UserNotFound(NotFound):
    """No user has this name."""


class UserConflict(Conflict):
    """A user has this name already."""


@dataclass(frozen=True, slots=True)
class User:
    """A user's public record (never the hash)."""

    name: str
    role: Role
    plants: tuple[str, ...] | None  # None: every plant
    created_at_ms: int
    disabled_at_ms: int | None

    @classmethod
    def from_row(cls, row: Row) -> User:
        plants = row.get("plants")
        return cls(row["name"], Role(row["role"]), tuple(str(plants).split(",")) if plants else None,
                   int(row["created_at_ms"]), row["disabled_at_ms"])

    @property
    def active(self) -> bool:
        return self.disabled_at_ms is None

    def may_read(self, plant_id: str) -> bool:
        return self.plants is None or plant_id in self.plants


@dataclass(frozen=True, slots=True)
class Session:
    """A live session: whose, and the CSRF token its forms carry."""

    user: User
    csrf_token: str
    started_at_ms: int


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just started: `token` goes into the cookie and is stored nowhere."""

    session: Session
    token: str


def check_password(name: str, password: str) -> None:
    """Refuse (ValueError) a password too short, too long or equal to the name."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"a password has at most {MAX_PASSWORD} characters")
    if password.strip().lower() == name.strip().lower():
        raise ValueError("a password must not be the user's name")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.script(key_statements(db.dialect.id_column) + user_statements(db.dialect.id_column))  # the audit trail too

    # -- users ----------------------------------------------------------------------------------------

    def add(self, name: str, role: Role, password: str, by: str, now_ms: int, plants: Iterable[str] | None = None) -> User:
        if not re.match(NAME_PATTERN, name):
            raise ValueError(f"user name {name!r} must match {NAME_PATTERN}")
        check_password(name, password)
        scope = None if plants is None else tuple(sorted(set(plants)))
        if scope is not None and (not scope or not all(re.match(ID_PATTERN, p) for p in scope)):
            raise ValueError(f"a user's plants must be one or more plant ids matching {ID_PATTERN}")
        stored = ",".join(scope) if scope is not None else None
        password_hash = _HASHER.hash(password)
        with self.db.transaction():
            if self.db.query_one("SELECT 1 AS x FROM console_users WHERE name = ?", (name,)):
                raise UserConflict(f"a user named {name!r} exists already")
            self.db.execute(
                "INSERT INTO console_users (name, role, plants, password_hash, created_at_ms, created_by, password_changed_at_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)", (name, role.value, stored, password_hash, now_ms, by, now_ms),
            )
            audit(self.db, by, "user_added", name, now_ms, f"role={role.value} plants={stored or '*'}")
        return User(name, role, scope, now_ms, None)

    def set_password(self, name: str, password: str, by: str, now_ms: int) -> None:
        """A new password; the user's sessions end."""
        check_password(name, password)
        password_hash = _HASHER.hash(password)
        with self.db.transaction():
            self._row(name)
            self.db.execute("UPDATE console_users SET password_hash = ?, password_changed_at_ms = ? WHERE name = ?",
                            (password_hash, now_ms, name))
            self._end_sessions(name, now_ms)
            audit(self.db, by, "user_password_set", name, now_ms)

    def disable(self, name: str, by: str, now_ms: int) -> User:
        """The user can no longer log in; the sessions end."""
        with self.db.transaction():
            row = self._row(name)
            if row["disabled_at_ms"] is None:
                self.db.execute("UPDATE console_users SET disabled_at_ms = ?, disabled_by = ? WHERE name = ?", (now_ms, by, name))
                row = {**row, "disabled_at_ms": now_ms}
            self._end_sessions(name, now_ms)
            audit(self.db, by, "user_disabled", name, now_ms)
        return User.from_row(row)

    def list_users(self) -> list[User]:
        return [User.from_row(r) for r in self.db.query("SELECT * FROM console_users ORDER BY name")]

    def get(self, name: str) -> User | None:
        row = self.db.query_one("SELECT * FROM console_users WHERE name = ?", (name,))
        return User.from_row(row) if row else None

    def _row(self, name: str) -> Row:
        row = self.db.query_one("SELECT * FROM console_users WHERE name = ?", (name,))
        if row is None:
            raise UserNotFound(f"no user named {name!r}")
        return row

    # -- logging in -------------------------------------------------------------------------------------

    def authenticate(self, name: str, password: str, now_ms: int, address: str) -> User | None:
        """The active user these credentials name, or None (audited either way); a hash made with
        older parameters is replaced."""
        row = self.db.query_one("SELECT * FROM console_users WHERE name = ?", (name,)) if len(name) <= 64 else None
        stored = str(row["password_hash"]) if row is not None else _DUMMY_HASH
        try:
            ok = len(password) <= MAX_PASSWORD and _HASHER.verify(stored, password) and row is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or row is None or row["disabled_at_ms"] is not None:
            why = "disabled" if ok and row is not None else "wrong name or password"
            with self.db.transaction():
                audit(self.db, name[:64] or "?", "login_failed", name[:64] or "?", now_ms, f"address={address} reason={why}")
            return None
        with self.db.transaction():
            if _HASHER.check_needs_rehash(stored):
                self.db.execute("UPDATE console_users SET password_hash = ? WHERE name = ?", (_HASHER.hash(password), name))
            audit(self.db, name, "login", name, now_ms, f"address={address}")
        return User.from_row(row)

    # -- sessions ---------------------------------------------------------------------------------------

    def start_session(self, user: User, now_ms: int, address: str) -> NewSession:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO console_sessions (token_hash, user_name, csrf_token, address, started_at_ms, last_seen_ms)"
                " VALUES (?, ?, ?, ?, ?, ?)", (_token_hash(token), user.name, csrf, address, now_ms, now_ms),
            )
        return NewSession(Session(user, csrf, now_ms), token)

    def session(self, token: str, now_ms: int, *, idle_s: float, absolute_s: float) -> Session | None:
        """The live session of this cookie token, its last use now (stored when older than
        LAST_SEEN_STEP_MS); None when there is none or it has expired (then it is ended)."""
        if not token or len(token) > 100:
            return None
        row = self.db.query_one("SELECT * FROM console_sessions WHERE token_hash = ? AND ended_at_ms IS NULL",
                                (_token_hash(token),))
        if row is None:
            return None
        user_row = self.db.query_one("SELECT * FROM console_users WHERE name = ?", (row["user_name"],))
        expired = now_ms - int(row["last_seen_ms"]) > idle_s * 1000 or now_ms - int(row["started_at_ms"]) > absolute_s * 1000
        if expired or user_row is None or user_row["disabled_at_ms"] is not None:
            with self.db.transaction():
                self.db.execute("UPDATE console_sessions SET ended_at_ms = ? WHERE id = ?", (now_ms, row["id"]))
            return None
        if now_ms - int(row["last_seen_ms"]) >= LAST_SEEN_STEP_MS:  # not a write for every page and inbox refresh
            with self.db.transaction():
                self.db.execute("UPDATE console_sessions SET last_seen_ms = ? WHERE id = ?", (now_ms, row["id"]))
        return Session(User.from_row(user_row), str(row["csrf_token"]), int(row["started_at_ms"]))

    def end_session(self, token: str, now_ms: int) -> None:
        """Log out: the session of this token ends (nothing happens for an unknown one)."""
        with self.db.transaction():
            row = self.db.query_one("SELECT * FROM console_sessions WHERE token_hash = ? AND ended_at_ms IS NULL",
                                    (_token_hash(token),))
            if row is not None:
                self.db.execute("UPDATE console_sessions SET ended_at_ms = ? WHERE id = ?", (now_ms, row["id"]))
                audit(self.db, str(row["user_name"]), "logout", str(row["user_name"]), now_ms)

    def _end_sessions(self, name: str, now_ms: int) -> None:
        self.db.execute("UPDATE console_sessions SET ended_at_ms = ? WHERE user_name = ? AND ended_at_ms IS NULL", (now_ms, name))


def csrf_matches(session: Session, presented: str | None) -> bool:
    """Whether a form's CSRF token is its session's, compared in constant time."""
    return presented is not None and hmac.compare_digest(session.csrf_token.encode(), presented.encode("utf-8", "replace"))
