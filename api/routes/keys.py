"""API keys for admins: list, issue (the secret is in this one answer only), revoke; the audit trail of both."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import AdminKey, Context
from api.keys import ApiKey
from api.schemas import AuditEntry, AuditTrail, KeyIn, KeyIssuedOut, KeyList, KeyOut, to_time

router = APIRouter(tags=["keys"])


def key_out(k: ApiKey) -> KeyOut:
    return KeyOut(key_id=k.key_id, name=k.name, role=k.role, created_at=to_time(k.created_at_ms), created_by=k.created_by,
                  revoked_at=to_time(k.revoked_at_ms) if k.revoked_at_ms is not None else None, revoked_by=k.revoked_by)


@router.get("/keys", response_model=KeyList)
def list_keys(ctx: Context, key: AdminKey, include_revoked: Annotated[bool, Query()] = False) -> KeyList:
    return KeyList(keys=[key_out(k) for k in ctx.keys.list_keys(include_revoked=include_revoked)])


@router.post("/keys", response_model=KeyIssuedOut, status_code=201)
def issue_key(body: KeyIn, ctx: Context, key: AdminKey) -> KeyIssuedOut:
    issued = ctx.keys.issue(body.name, body.role, key.name, ctx.now_ms())
    return KeyIssuedOut(key=key_out(issued.key), secret_key=issued.secret_key)


@router.delete("/keys/{key_id}", response_model=KeyOut)
def revoke_key(key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{8}$")], ctx: Context, key: AdminKey) -> KeyOut:
    return key_out(ctx.keys.revoke(key_id, key.name, ctx.now_ms()))


@router.get("/audit", response_model=AuditTrail)
def audit_trail(ctx: Context, key: AdminKey, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AuditTrail:
    """Key issues and revocations, newest first (alert actions are in each alert's own trail)."""
    return AuditTrail(entries=[
        AuditEntry(at=to_time(int(r["at_ms"])), actor=str(r["actor"]), action=str(r["action"]), target=str(r["target"]),
                   detail=str(r["detail"]))
        for r in ctx.keys.audit_trail(limit)
    ])
