"""Hostile input against the running API: every operation of its own OpenAPI schema, every query and
path parameter sent extreme and malformed values, bodies too. Never a 5xx, and the server stays live: a
valid request still answers 200 after each operation's run.

Two passes per operation: a sweep (each parameter alone, once per value of `EXTREMES`, the others left
valid, so every known-bad value reaches every parameter), then Hypothesis combining generated values
in all parameters and bodies at once.

Bounded for CI (WASTEWATCH_HOSTILE_EXAMPLES examples per operation, default 8, derandomised); for a long
run set it higher, e.g. `WASTEWATCH_HOSTILE_EXAMPLES=2000 pytest tests/test_api_hostile.py` (random
then, a new search each run)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.lifecycle import Lifecycle
from alerts.routing import parse_routes
from api.roles import Role
from tests.api_support import Api, run_api, seed_plant_day
from tests.helpers import hostile_examples
from tests.test_alert_lifecycle import T0, raised
from wastewatch.plant import PlantCatalog
from wastewatch.store.sqlite import SqliteStore

EXAMPLES = hostile_examples(8)
LONG_RUN = "WASTEWATCH_HOSTILE_EXAMPLES" in os.environ

EXTREMES = [
    "", " ", "now", "-0s", "-1s", "-999999w", "-999999d", "-999999s", "+5d", "5d", "-5y", "-1.5h", "0m", "999999w",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31T23:59:59Z", "2200-01-01T00:00:01Z",
    "2026-11-28T10:00:00", "2026-11-28T10:00:00+99:00", "2026-11-28T25:61:61Z", "2026-11-28", "0000-00-00T00:00:00Z",
    "0001", "0001-01", "0001-Q1", "0001-01-01", "9999", "9999-12", "9999-Q4", "9999-12-31", "2026-13", "2026-00",
    "2026-Q0", "2026-Q9", "2026-02-30", "1970", "2199-12", "2200", "-2026", "20260", "2026-1",
    "-1", "0", "1", "9" * 30, "-" + "9" * 30, str(2**63), str(-(2**63) - 1), str(2**62 + 1), "1e309", "-1e309", "NaN",
    "inf", "-inf", "1.5", "0x10", "１２", "٣", "true", "false", "null", "None", "[]", "{}", "[1,2]",
    "%00", "\x00", "\u202e", "\ufeff", "'; DROP TABLE alerts; --", "\" OR 1=1 --", "../../etc/passwd", "/",
    "<script>alert(1)</script>", "=cmd|'/C calc'!A", "${jndi:ldap://x}", "{{7*7}}", "a" * 1500, "ü" * 300,
    "csv", "json", "pdf", "html", "xml", "text/csv", "kotim", "KOTIM", "t_secondary", "critical", "major", "info",
    "30s", "5m", "1h", "1d", "1w", "1s", "mean", "median", "valid", "day", "week", "facility", "waste_code", "en", "id",
]
HOSTILE = st.one_of(
    st.sampled_from(EXTREMES),
    st.text(max_size=60),
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(repr),
    st.builds(lambda n, u: f"-{n}{u}", st.integers(0, 10**7), st.sampled_from("smhdwy")),
    st.builds(lambda n, u: f"{n}{u}", st.integers(0, 10**7), st.sampled_from("smhdwy")),
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(0, 9999), st.integers(0, 99)),
    st.builds(lambda y, m, d, off: f"{y:04d}-{m:02d}-{d:02d}T00:00:00{off}", st.integers(1, 9999), st.integers(1, 12),
              st.integers(1, 28), st.sampled_from(["Z", "+14:00", "-14:00", "+23:59", "-23:59"])),
)
VALID_PATH = {"plant_id": "kotim", "sensor_id": "t_secondary", "alert_id": "1", "period": "2026-11", "key_id": "0000abcd"}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40) | HOSTILE,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10) | st.sampled_from(
        ["text", "comment", "assignee", "name", "role", "plants"]), inner, max_size=4),
    max_leaves=12,
)
BODY_FIELDS = {"text": HOSTILE, "comment": HOSTILE | st.none(), "assignee": HOSTILE | st.none(), "name": HOSTILE,
               "role": st.sampled_from(["evaluator", "agency", "admin", "root", ""]) | HOSTILE,
               "plants": st.none() | st.lists(HOSTILE, max_size=3) | HOSTILE}


@pytest.fixture(scope="module")
def served(catalog: PlantCatalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp: Path = tmp_path_factory.mktemp("api-hostile")
    store = SqliteStore(tmp / "ts.sqlite3")
    seed_plant_day(store)
    for api in run_api(store, catalog, tmp, auth_failures_burst=1_000_000):
        with api.ctx.alert_db.transaction():
            Lifecycle(api.ctx.alert_db, parse_routes("operators=log", ["regulatory"], ["log"]), [], catalog).apply(raised(T0))
        yield api
    store.close()


def _operations() -> list[tuple[str, str]]:
    """Every operation of the app's schema (read from a throwaway app: parametrisation happens before fixtures)."""
    from fastapi.openapi.utils import get_openapi

    from api.app import API_PREFIX
    from api.routes import ROUTERS, health

    routes = list(health.router.routes)
    for router in ROUTERS:
        routes += [r for r in router.routes]
    paths = get_openapi(title="x", version="1", routes=routes)["paths"]
    found = [(m, p if p in ("/health", "/ready") else API_PREFIX + p) for p, item in paths.items() for m in item]
    return sorted(found)


OPERATIONS = _operations()


def _parameters(schema: dict[str, Any], method: str, path: str) -> list[dict[str, Any]]:
    return list(schema["paths"][path][method].get("parameters", []))


def _alive(api: Api) -> None:
    assert api.client.get("/health").status_code == 200
    readings = api.client.get("/api/v1/plants/kotim/sensors/t_secondary/readings", params={"period": "2026-11-28"},
                              headers=api.auth(Role.ADMIN))
    assert readings.status_code == 200 and len(readings.json()["points"]) == 360


def test_the_schema_covers_every_operation(served: Api) -> None:
    schema = served.client.get("/openapi.json").json()
    assert sorted((m, p) for p, item in schema["paths"].items() for m in item) == OPERATIONS
    assert len(OPERATIONS) >= 20


def _send(api: Api, method: str, url: str, **request: Any) -> httpx.Response | None:
    try:
        return api.client.request(method.upper(), url, **request)
    except httpx.InvalidURL:
        return None  # the client refuses to send it: nothing reached the server


def _valid_url(path: str, admin_key_id: str) -> str:
    for name, value in VALID_PATH.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_every_extreme_value_in_every_parameter_alone_is_never_a_5xx(served: Api, method: str, path: str) -> None:
    schema = served.client.get("/openapi.json").json()
    params = _parameters(schema, method, path)
    admin_key_id = served.ctx.keys.verify(served.keys[Role.ADMIN]).key_id  # type: ignore[union-attr]
    body = {"post": {"text": "checked", "comment": "ok", "name": "sweep", "role": "evaluator"}, "put": {"assignee": "budi"}}
    for p in params:
        for value in EXTREMES:
            url, query = _valid_url(path, admin_key_id), {}
            if p["in"] == "path":
                if p["name"] == "key_id" and value == admin_key_id:
                    continue
                url = path.replace("{" + p["name"] + "}", quote(value, safe=""))
                url = _valid_url(url, admin_key_id)
            elif p["in"] == "query":
                query[p["name"]] = value
            else:
                continue
            response = _send(served, method, url, params=query, headers=served.auth(Role.ADMIN), json=body.get(method))
            if response is not None:
                assert response.status_code < 500, (method, url, query, response.status_code, response.text[:500])
    _alive(served)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_hostile_parameters_never_get_a_5xx_and_the_server_stays_live(served: Api, method: str, path: str) -> None:
    schema = served.client.get("/openapi.json").json()
    params = _parameters(schema, method, path)
    has_body = "requestBody" in schema["paths"][path][method]
    admin_key_id = served.ctx.keys.verify(served.keys[Role.ADMIN]).key_id  # type: ignore[union-attr]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        url, query = path, {}
        for p in params:
            name = p["name"]
            if p["in"] == "path":
                value = data.draw(st.just(VALID_PATH.get(name, "x")) | HOSTILE, label=name)
                if name == "key_id" and value == admin_key_id:
                    value = VALID_PATH["key_id"]
                url = url.replace("{" + name + "}", quote(value, safe=""))
            elif p["in"] == "query" and data.draw(st.booleans(), label=f"send {name}"):
                query[name] = data.draw(HOSTILE, label=name)
        request: dict[str, Any] = {"params": query, "headers": dict(served.auth(Role.ADMIN))}
        if data.draw(st.booleans(), label="csv"):
            request["headers"]["Accept"] = "text/csv"
        if has_body:
            body = data.draw(st.one_of(st.fixed_dictionaries({}, optional=BODY_FIELDS), JSON, st.binary(max_size=200)), label="body")
            if isinstance(body, bytes):
                request["content"], request["headers"]["Content-Type"] = body, "application/json"
            else:
                request["json"] = body
        response = _send(served, method, url, **request)
        if response is None:
            return
        assert response.status_code < 500, (method, url, query, response.status_code, response.text[:500])
        assert response.status_code != 401, (method, url, response.text)  # the key was valid all along

    run()
    _alive(served)
