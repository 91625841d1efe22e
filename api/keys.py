"""API keys in the alert database: issued once, stored only as a SHA-256 hash, checked in constant time.

A key reads `ww_<key id>_<secret>`: the key id (public, 8 hex digits) finds the row, the secret
(32 random bytes, URL-safe base64) proves possession. Why SHA-256 and not a slow KDF (bcrypt, scrypt,
Argon2): those exist to make guessing a *human-chosen* password from a stolen hash expensive. A key
of 256 random bits cannot be guessed whatever the hash costs, so a fast hash loses nothing, and it
keeps every authenticated request cheap (a KDF would add tens of milliseconds to each one).

A key may be scoped to plants (`plants`): it then reads those plants only, everywhere in the API.
A key without a scope, as every key issued before scopes existed, reads every plant.

Plain portable SQL through `wastewatch.relational.Database`, so keys move to PostgreSQL with the alerts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from api.roles import Role
from wastewatch.errors import Conflict, NotFound
from wastewatch.relational import Database, Row
from wastewatch.topics import ID_PATTERN

KEY_PATTERN = re.compile(r"^ww_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$"


def key_statements(id_column: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS api_keys (
            id {id_column},
            key_id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            key_hash TEXT NOT NULL,
            created_at_ms BIGINT NOT NULL,
            created_by TEXT NOT NULL,
            revoked_at_ms BIGINT,
            revoked_by TEXT,
            plants TEXT
        )""",
        # one live key per name, so the audit trail's actor names one key holder
        "CREATE UNIQUE INDEX IF NOT EXISTS api_keys_live_name ON api_keys (name) WHERE revoked_at_ms IS NULL",
        f"""CREATE TABLE IF NOT EXISTS api_audit (
            id {id_column},
            at_ms BIGINT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )""",
    ]


def audit(db: Database, actor: str, action: str, target: str, now_ms: int, detail: str = "") -> None:
    """Append one entry to the API's audit trail (keys, console users and their logins; alert actions
    go to the alert trail)."""
    db.execute("INSERT INTO api_audit (at_ms, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
               (now_ms, actor, action, target, detail))


class KeyNotFound(NotFound):
    """No live key has this name or key id."""


class KeyConflict(Conflict):
    """A live key already has this name."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key's public record (never the secret, never the hash)."""

    key_id: str
    name: str
    role: Role
    created_at_ms: int
    created_by: str
    revoked_at_ms: int | None
    revoked_by: str | None
    plants: tuple[str, ...] | None = None
    """The plants this key reads; None: every plant."""

    @classmethod
    def from_row(cls, row: Row) -> ApiKey:
        plants = row.get("plants")
        return cls(row["key_id"], row["name"], Role(row["role"]), int(row["created_at_ms"]), row["created_by"],
                   row["revoked_at_ms"], row["revoked_by"], tuple(str(plants).split(",")) if plants else None)

    def may_read(self, plant_id: str) -> bool:
        return self.plants is None or plant_id in self.plants

    def visible(self, plant_ids: Iterable[str]) -> list[str]:
        """Those of `plant_ids` this key reads, in their order."""
        return [p for p in plant_ids if self.may_read(p)]


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: `secret_key` is shown once and stored nowhere."""

    key: ApiKey
    secret_key: str


def hash_key(secret_key: str) -> str:
    return hashlib.sha256(secret_key.encode("utf-8")).hexdigest()


class KeyStore:
    """Issue, revoke, list and verify keys; every issue and revocation goes to the `api_audit` trail."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.script(key_statements(db.dialect.id_column))
        # a key table from before scopes gets its `plants` column (NULL: every plant, as those keys could)
        db.add_column("api_keys", "plants", "TEXT")

    def issue(self, name: str, role: Role, by: str, now_ms: int, plants: Iterable[str] | None = None) -> IssuedKey:
        """A new key; `plants` scopes it to those plant ids (None: every plant). Ids are checked by the caller
        against its catalogue; here only their form."""
        if not re.match(NAME_PATTERN, name):
            raise ValueError(f"key name {name!r} must match {NAME_PATTERN}")
        scope = None if plants is None else tuple(sorted(set(plants)))
        if scope is not None and (not scope or not all(re.match(ID_PATTERN, p) for p in scope)):
            raise ValueError(f"a key's plants must be one or more plant ids matching {ID_PATTERN}")
        stored = ",".join(scope) if scope is not None else None
        key_id = secrets.token_hex(4)
        secret_key = f"ww_{key_id}_{secrets.token_urlsafe(32)}"
        with self.db.transaction():
            if self.db.query_one("SELECT 1 AS x FROM api_keys WHERE name = ? AND revoked_at_ms IS NULL", (name,)):
                raise KeyConflict(f"a live key named {name!r} exists already; revoke it first")
            self.db.execute(
                "INSERT INTO api_keys (key_id, name, role, key_hash, created_at_ms, created_by, plants) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key_id, name, role.value, hash_key(secret_key), now_ms, by, stored),
            )
            self.audit(by, "key_issued", name, now_ms, f"key_id={key_id} role={role.value} plants={stored or '*'}")
        key = ApiKey(key_id, name, role, now_ms, by, None, None, scope)
        return IssuedKey(key, secret_key)

    def revoke(self, name_or_key_id: str, by: str, now_ms: int) -> ApiKey:
        with self.db.transaction():
            row = self.db.query_one(
                "SELECT * FROM api_keys WHERE (name = ? OR key_id = ?) AND revoked_at_ms IS NULL", (name_or_key_id, name_or_key_id)
            )
            if row is None:
                raise KeyNotFound(f"no live key named or with key id {name_or_key_id!r}")
            self.db.execute("UPDATE api_keys SET revoked_at_ms = ?, revoked_by = ? WHERE id = ?", (now_ms, by, row["id"]))
            self.audit(by, "key_revoked", row["name"], now_ms, f"key_id={row['key_id']}")
        return ApiKey.from_row({**row, "revoked_at_ms": now_ms, "revoked_by": by})

    def list_keys(self, *, include_revoked: bool = False) -> list[ApiKey]:
        sql = "SELECT * FROM api_keys" + ("" if include_revoked else " WHERE revoked_at_ms IS NULL") + " ORDER BY id"
        return [ApiKey.from_row(r) for r in self.db.query(sql)]

    def get(self, key_id: str) -> ApiKey | None:
        row = self.db.query_one("SELECT * FROM api_keys WHERE key_id = ?", (key_id,))
        return ApiKey.from_row(row) if row else None

    def verify(self, presented: str) -> ApiKey | None:
        """The live key the presented secret belongs to, or None."""
        match = KEY_PATTERN.match(presented)
        if match is None:
            return None
        row = self.db.query_one("SELECT * FROM api_keys WHERE key_id = ? AND revoked_at_ms IS NULL", (match.group(1),))
        if row is None:
            return None
        if not hmac.compare_digest(hash_key(presented), str(row["key_hash"])):
            return None
        return ApiKey.from_row(row)

    def audit(self, actor: str, action: str, target: str, now_ms: int, detail: str = "") -> None:
        audit(self.db, actor, action, target, now_ms, detail)

    def audit_trail(self, limit: int = 100) -> list[Row]:
        return self.db.query("SELECT * FROM api_audit ORDER BY id DESC LIMIT ?", (limit,))
