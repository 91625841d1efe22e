"""Who may do what: every route's declared role checked for every role, allowed and refused, generated
from the app's OpenAPI; keys hashed, revocable, never logged; failed-auth limiting; headers and CORS."""

from __future__ import annotations

import hashlib
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.lifecycle import Lifecycle
from alerts.routing import parse_routes
from api.app import UndeclaredRole, _declare_roles
from api.roles import ROLE_ORDER, Role
from launch.cli import main
from tests.api_support import NOW_MS, Api, run_api, seed_plant_day
from tests.test_alert_lifecycle import T0, raised
from wastewatch.plant import PlantCatalog
from wastewatch.store.sqlite import SqliteStore

OPEN_OPERATIONS = {("get", "/health"), ("get", "/ready")}
PATH_VALUES = {"plant_id": "kotim", "sensor_id": "t_secondary", "alert_id": "1", "period": "2026-11"}
BODIES = {
    ("post", "/api/v1/alerts/{alert_id}/ack"): {},
    ("post", "/api/v1/alerts/{alert_id}/comments"): {"text": "checked the burner"},
    ("put", "/api/v1/alerts/{alert_id}/assignee"): {"assignee": "budi"},
}


@pytest.fixture
def api(catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    store = SqliteStore(tmp_path / "ts.sqlite3")
    seed_plant_day(store)
    for served in run_api(store, catalog, tmp_path, auth_failures_burst=1000):
        with served.ctx.alert_db.transaction():
            Lifecycle(served.ctx.alert_db, parse_routes("operators=log", ["regulatory"], ["log"]), [], catalog).apply(raised(T0))
        yield served
    store.close()


def operations(api: Api) -> list[tuple[str, str, Role | None]]:
    found = []
    for path, item in api.app.openapi()["paths"].items():
        for method, op in item.items():
            role = op.get("x-required-role")
            found.append((method, path, Role(role) if role else None))
    return found


def call(api: Api, method: str, path: str, headers: dict[str, str], counter: list[int]) -> int:
    counter[0] += 1
    url = path
    for name, value in PATH_VALUES.items():
        url = url.replace("{" + name + "}", value)
    body = BODIES.get((method, path))
    if path == "/api/v1/keys" and method == "post":
        body = {"name": f"issued-{counter[0]}", "role": "evaluator"}
    if "{key_id}" in path:  # revoke a fresh key each time, never one the matrix uses
        url = url.replace("{key_id}", api.ctx.keys.issue(f"victim-{counter[0]}", Role.EVALUATOR, "test", 0).key.key_id)
    response = api.client.request(method.upper(), url, headers=headers, json=body)
    assert response.status_code < 500, (method, url, response.text)
    return response.status_code


def test_every_route_declares_a_role_and_every_role_is_allowed_or_refused(api: Api) -> None:
    ops = operations(api)
    assert len(ops) >= 18
    counter = [0]
    for method, path, required in ops:
        if (method, path) in OPEN_OPERATIONS:
            assert required is None
            assert call(api, method, path, {}, counter) in (200, 503)
            continue
        assert path.startswith("/api/v1/"), path
        assert required is not None, f"{method} {path} declares no role"
        assert call(api, method, path, {}, counter) == 401, (method, path)
        assert call(api, method, path, {"Authorization": "Bearer ww_00000000_" + "x" * 43}, counter) == 401
        for role in ROLE_ORDER:
            status = call(api, method, path, api.auth(role), counter)
            if role.allows(required):
                assert status not in (401, 403), (role, method, path, status)
            else:
                assert status == 403, (role, method, path, status)


def test_the_matrix_knows_the_roles_the_brief_gives() -> None:
    assert [r.value for r in ROLE_ORDER] == ["evaluator", "agency", "operator", "admin"]


def test_a_route_without_a_role_is_refused_at_start() -> None:
    router = APIRouter()

    @router.get("/open")
    def open_route() -> dict[str, str]:
        return {}

    with pytest.raises(UndeclaredRole, match="/open declares no role"):
        _declare_roles(router)


def test_docs_and_schema_are_open_and_name_each_role(api: Api) -> None:
    assert api.client.get("/docs").status_code == 200
    schema = api.client.get("/openapi.json").json()
    assert schema["paths"]["/api/v1/alerts/{alert_id}/ack"]["post"]["x-required-role"] == "operator"
    assert "Role: admin or above." in schema["paths"]["/api/v1/keys"]["get"]["description"]


def test_keys_are_stored_as_sha256_only_and_revocation_works(api: Api) -> None:
    response = api.client.post("/api/v1/keys", headers=api.auth(Role.ADMIN), json={"name": "dlh-kotim", "role": "agency"})
    assert response.status_code == 201
    secret, key_id = response.json()["secret_key"], response.json()["key"]["key_id"]
    rows = api.ctx.alert_db.query("SELECT * FROM api_keys WHERE key_id = ?", (key_id,))
    assert rows[0]["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(v) for v in rows[0].values())
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/api/v1/alerts", headers=headers).status_code == 200
    assert api.client.post("/api/v1/keys", headers=api.auth(Role.ADMIN), json={"name": "dlh-kotim", "role": "agency"}).status_code == 409
    assert api.client.delete(f"/api/v1/keys/{key_id}", headers=api.auth(Role.ADMIN)).status_code == 200
    assert api.client.get("/api/v1/alerts", headers=headers).status_code == 401
    assert api.client.delete(f"/api/v1/keys/{key_id}", headers=api.auth(Role.ADMIN)).status_code == 404
    entries = api.client.get("/api/v1/audit", headers=api.auth(Role.ADMIN)).json()["entries"]
    trail = [(e["actor"], e["action"], e["target"]) for e in entries]
    assert ("admin-key", "key_issued", "dlh-kotim") in trail and ("admin-key", "key_revoked", "dlh-kotim") in trail


def test_a_failed_authentication_never_logs_the_key(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    wrong = api.keys[Role.ADMIN][:-4] + "AAAA"
    with caplog.at_level(logging.DEBUG):
        assert api.client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    assert "authentication failed" in caplog.text
    assert wrong not in caplog.text and wrong[-20:] not in caplog.text


def test_failed_authentications_are_rate_limited_per_client_but_a_valid_key_always_passes(catalog: PlantCatalog, tmp_path: Path) -> None:
    """Many callers share one address (NAT, a proxy): one guessing there must not lock the others out."""
    store = SqliteStore(tmp_path / "ts.sqlite3")
    for api in run_api(store, catalog, tmp_path, auth_failures_burst=3, auth_failures_per_min=1):
        bad = {"Authorization": "Bearer ww_00000000_" + "y" * 43}
        assert [api.client.get("/api/v1/plants", headers=bad).status_code for _ in range(4)] == [401, 401, 401, 429]
        limited = api.client.get("/api/v1/plants", headers=bad)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert api.client.get("/api/v1/plants").status_code == 429  # no key at all counts as a failure too
        for role in ROLE_ORDER:  # the address is limited, yet every valid key is served
            assert api.client.get("/api/v1/plants", headers=api.auth(role)).status_code == 200, role
        assert api.client.get("/api/v1/plants", headers=bad).status_code == 429  # a success does not reset the failures
        api.ctx.clock = lambda: NOW_MS / 1000 + 120  # two minutes later: two failures regained
        assert [api.client.get("/api/v1/plants", headers=bad).status_code for _ in range(3)] == [401, 401, 429]
    store.close()


def test_security_headers_and_cors_closed_by_default(api: Api) -> None:
    response = api.client.get("/api/v1/plants", headers=api.auth(Role.EVALUATOR))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    preflight = api.client.options("/api/v1/plants", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_opens_only_to_the_configured_origins(catalog: PlantCatalog, tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ts.sqlite3")
    for api in run_api(store, catalog, tmp_path, cors_origins=["https://dashboard.kotim.example"]):
        ok = {"Origin": "https://dashboard.kotim.example", "Access-Control-Request-Method": "GET"}
        assert api.client.options("/api/v1/plants", headers=ok).headers["access-control-allow-origin"] == ok["Origin"]
        other = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
        assert "access-control-allow-origin" not in api.client.options("/api/v1/plants", headers=other).headers
    store.close()


def test_keys_cli_issues_once_lists_and_revokes(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASTEWATCH_DATA_DIR", str(tmp_path / "data"))
    assert main(["keys", "issue", "--name", "operator-budi", "--role", "operator"]) == 0
    issued = capsys.readouterr().out
    secret = issued.strip().splitlines()[-1]
    assert secret.startswith("ww_") and len(secret) == 55
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert "operator-budi" in listed and "operator" in listed and secret not in listed
    assert main(["keys", "issue", "--name", "operator-budi", "--role", "admin"]) == 1
    assert "exists already" in capsys.readouterr().out
    assert main(["keys", "revoke", "operator-budi"]) == 0
    assert main(["keys", "list"]) == 0
    assert capsys.readouterr().out.strip().endswith("no keys")


def test_authentication_comes_before_any_other_answer(api: Api) -> None:
    """Without a key (or with too low a role) a caller learns nothing from 404s or 422s."""
    for method, path, _ in operations(api):
        if (method, path) in OPEN_OPERATIONS or method != "get":
            continue
        bad = path.replace("{plant_id}", "no-such-plant").replace("{sensor_id}", "nope").replace("{alert_id}", "999999")
        url = bad.replace("{period}", "2026-99") + "?start=garbage&period=2026-99&limit=-5"
        assert api.client.get(url).status_code == 401, (method, url)
        assert api.client.get(url, headers={"Authorization": "Bearer ww_00000000_" + "x" * 43}).status_code == 401


# -- hostile bodies: a body limit before parsing, the key checked before the body and the query ------------




def raw_request(api: Api, head: str, body_parts: list[bytes] = [], timeout_s: float = 20) -> tuple[int, bytes]:  # noqa: B006
    """Send a request by hand (a declared length the body never reaches, chunks), read the status line."""
    with socket.create_connection(("127.0.0.1", int(str(api.client.base_url).rsplit(":", 1)[1])), timeout=timeout_s) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        for part in body_parts:
            try:
                sock.sendall(part)
            except OSError:  # the server answered and closed: read what it said
                break
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer


def test_a_huge_declared_body_without_a_key_is_refused_before_it_is_read(api: Api) -> None:
    head = "POST /api/v1/keys HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: 200000000\n"
    status, answer = raw_request(api, head, [b"{" * 65536])  # the server answers without waiting for 200 MB
    assert status == 401, answer


def test_a_huge_declared_body_with_a_key_is_a_413_before_it_is_read(api: Api) -> None:
    head = (f"POST /api/v1/keys HTTP/1.1\nHost: x\nAuthorization: Bearer {api.keys[Role.ADMIN]}\n"
            "Content-Type: application/json\nContent-Length: 200000000\n")
    status, answer = raw_request(api, head, [b"{" * 65536])
    assert status == 413, answer


def test_a_chunked_body_past_the_limit_is_a_413(api: Api) -> None:
    limit = api.api.max_body_bytes
    head = (f"POST /api/v1/alerts/1/comments HTTP/1.1\nHost: x\nAuthorization: Bearer {api.keys[Role.ADMIN]}\n"
            "Content-Type: application/json\nTransfer-Encoding: chunked\n")
    chunk = b"x" * 8192
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (limit // len(chunk) + 2)  # past the limit, never finished
    status, answer = raw_request(api, head, parts)
    assert status == 413, answer
    # within the limit a chunked body is read as usual
    ok = api.client.post("/api/v1/alerts/1/comments", headers={**api.auth(Role.OPERATOR), "Content-Type": "application/json"},
                         content=iter([b'{"text": ', b'"chunked"}']))
    assert ok.status_code == 201, ok.text


def test_a_body_just_over_the_limit_is_a_413_and_one_at_the_limit_is_read(api: Api) -> None:
    limit = api.api.max_body_bytes
    url, headers = "/api/v1/alerts/1/comments", {**api.auth(Role.OPERATOR), "Content-Type": "application/json"}
    over = api.client.post(url, headers=headers, content=b" " * (limit + 1))
    assert over.status_code == 413 and f"{limit} bytes" in over.json()["detail"]
    body = b'{"text": "at the limit"}'
    assert api.client.post(url, headers=headers, content=body + b" " * (limit - len(body))).status_code == 201


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
       query=st.text(max_size=40), method=st.sampled_from(["POST", "PUT"]))
def test_without_a_key_a_malformed_body_or_query_is_a_401(api: Api, body: bytes, query: str, method: str) -> None:
    path = "/api/v1/alerts/1/comments" if method == "POST" else "/api/v1/alerts/1/assignee"
    for headers in ({}, {"Authorization": "Bearer ww_00000000_" + "x" * 43}, {"Authorization": "Basic Zm9vOmJhcg=="}):
        response = api.client.request(method, path, params={"limit": query, "since": query}, content=body,
                                      headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 401, (headers, body, response.text)
        assert response.headers["www-authenticate"] == "Bearer"


def test_an_unreachable_key_database_is_a_503_not_a_500(api: Api, tmp_path: Path) -> None:
    from alerts.schema import open_database
    from api.keys import KeyStore
    from wastewatch.settings import Settings

    gone = open_database(Settings(data_dir=tmp_path / "gone", alerts_db_url=None))
    keys, api.ctx.keys = api.ctx.keys, KeyStore(gone)
    gone.close()  # every key check now fails in the database
    try:
        response = api.client.get("/api/v1/plants", headers=api.auth(Role.ADMIN))
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        assert "alert database is unavailable" in response.json()["detail"] and "closed" not in response.text
    finally:
        api.ctx.keys = keys
    assert api.client.get("/api/v1/plants", headers=api.auth(Role.ADMIN)).status_code == 200
