"""API keys for admins: list, issue (the secret is in this one answer only, optionally scoped to plants),
revoke; the audit trail of both. A key scoped to plants cannot manage keys: it could issue itself a wider one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from api.deps import AdminKey, Context
from api.keys import ApiKey
from api.schemas import AuditEntry, AuditTrail, KeyIn, KeyIssuedOut, KeyList, KeyOut, to_time


def _unscoped(key: AdminKey) -> ApiKey:
    if key.plants is not None:
        raise HTTPException(403, f"the key {key.name!r} is scoped to plants ({', '.join(key.plants)}); managing keys needs an unscoped admin key")
    return key


UnscopedAdmin = Annotated[ApiKey, Depends(_unscoped)]
router = APIRouter(tags=["keys"])


def key_out(k: ApiKey) -> KeyOut:
    return KeyOut(key_id=k.key_id, name=k.name, role=k.role, created_at=to_time(k.created_at_ms), created_by=k.created_by,
                  revoked_at=to_time(k.revoked_at_ms) if k.revoked_at_ms is not None else None, revoked_by=k.revoked_by,
                  plants=list(k.plants) if k.plants is not None else None)


@router.get("/keys", response_model=KeyList)
def list_keys(ctx: Context, key: UnscopedAdmin, include_revoked: Annotated[bool, Query()] = False) -> KeyList:
    return KeyList(keys=[key_out(k) for k in ctx.keys.list_keys(include_revoked=include_revoked)])


@router.post("/keys", response_model=KeyIssuedOut, status_code=201)
def issue_key(body: KeyIn, ctx: Context, key: UnscopedAdmin) -> KeyIssuedOut:
    """`plants` scopes the new key: it reads those plants only (404 for any other, lists filtered)."""
    unknown = [p for p in body.plants or [] if ctx.catalog.get(p) is None]
    if unknown:
        raise HTTPException(422, f"no plant {', '.join(map(repr, unknown))}; known: {', '.join(ctx.catalog.ids)}")
    issued = ctx.keys.issue(body.name, body.role, key.name, ctx.now_ms(), plants=body.plants)
    return KeyIssuedOut(key=key_out(issued.key), secret_key=issued.secret_key)


@router.delete("/keys/{key_id}", response_model=KeyOut)
def revoke_key(key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{8}$")], ctx: Context, key: UnscopedAdmin) -> KeyOut:
    return key_out(ctx.keys.revoke(key_id, key.name, ctx.now_ms()))


@router.get("/audit", response_model=AuditTrail)
def audit_trail(ctx: Context, key: UnscopedAdmin, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AuditTrail:
    """Key issues and revocations, newest first (alert actions are in each alert's own trail)."""
    return AuditTrail(entries=[
        AuditEntry(at=to_time(int(r["at_ms"])), actor=str(r["actor"]), action=str(r["action"]), target=str(r["target"]),
                   detail=str(r["detail"]))
        for r in ctx.keys.audit_trail(limit)
    ])
