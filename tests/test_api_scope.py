"""Keys scoped to plants: in a deployment of several plants, a key issued for some reads only those.

Every plant-scoped operation of the app's OpenAPI is tried with a key scoped to another plant (a 404,
as for a plant that does not exist), lists are filtered, alerts of other plants are not found. A key
without a scope (every key issued before scopes existed) reads every plant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter

from alerts.lifecycle import Lifecycle
from alerts.routing import parse_routes
from alerts.schema import open_database
from api.app import UndeclaredRole, _declare_roles
from api.deps import EvaluatorKey
from api.keys import KeyStore
from api.roles import Role
from launch.cli import main
from tests.api_support import NOW_MS, Api, run_api, seed_plant_day
from tests.test_alert_lifecycle import T0, raised
from wastewatch.plant import PlantCatalog
from wastewatch.relational import Database, connect_url
from wastewatch.settings import Settings
from wastewatch.store.sqlite import SqliteStore

PATH_VALUES = {"sensor_id": "t_secondary", "period": "2026-11"}
QUARTERLY = ("/cems",)  # routes whose period is a quarter (the quarterly CEMS report)


@pytest.fixture
def two_plants(catalog: PlantCatalog) -> PlantCatalog:
    kotim = catalog.get("kotim")
    assert kotim is not None
    return PlantCatalog([kotim, kotim.model_copy(update={"id": "seruyan", "name": "Seruyan", "sparkplug": []})])


@pytest.fixture
def api(two_plants: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    store = SqliteStore(tmp_path / "ts.sqlite3")
    seed_plant_day(store)
    for served in run_api(store, two_plants, tmp_path):
        lifecycle = Lifecycle(served.ctx.alert_db, parse_routes("operators=log", ["regulatory"], ["log"]), [], two_plants)
        with served.ctx.alert_db.transaction():
            lifecycle.apply(raised(T0))  # alert 1: kotim
            lifecycle.apply(raised(T0 + 60_000).model_copy(update={"plant": "seruyan"}))  # alert 2: seruyan
        for role in (Role.EVALUATOR, Role.AGENCY, Role.OPERATOR, Role.ADMIN):
            issued = served.ctx.keys.issue(f"seruyan-{role.value}", role, "test", NOW_MS, plants=["seruyan"])
            served.keys[f"seruyan-{role.value}"] = issued.secret_key  # type: ignore[index]
        yield served
    store.close()


def scoped(api: Api, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.keys[f'seruyan-{role.value}']}"}  # type: ignore[index]


def plant_operations(api: Api) -> list[tuple[str, str, Role]]:
    return [(method, path, Role(op["x-required-role"]))
            for path, item in api.app.openapi()["paths"].items() for method, op in item.items()
            if "{plant_id}" in path]


def url_of(path: str, plant: str) -> str:
    url = path.replace("{plant_id}", plant)
    for name, value in PATH_VALUES.items():
        url = url.replace("{" + name + "}", "2026-Q4" if name == "period" and path.endswith(QUARTERLY) else value)
    return url


MANIFESTS_CSV = b"manifest number,generator,waste code,declared kg,shipped\n"  # a header alone: a valid, empty upload
BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("post", "/api/v1/plants/{plant_id}/manifests"): {"files": {"file": ("m.csv", MANIFESTS_CSV, "text/csv")}},
    **{("get", f"/api/v1/plants/{{plant_id}}/manifests{tail}"): {"params": {"month": "2026-11"}}
       for tail in ("", "/statement", "/statement/pdf")},
}


def test_every_plant_scoped_operation_refuses_another_plant(api: Api) -> None:
    ops = plant_operations(api)
    assert len(ops) >= 11
    for method, path, required in ops:
        headers, body = scoped(api, required), BODIES.get((method, path), {})
        other = api.client.request(method.upper(), url_of(path, "kotim"), headers=headers, **body)  # type: ignore[arg-type]
        assert other.status_code == 404, (method, path, other.status_code, other.text)
        assert other.json()["detail"] == "no plant 'kotim'; known: seruyan"  # as for a plant that does not exist
        own = api.client.request(method.upper(), url_of(path, "seruyan"), headers=headers, **body)  # type: ignore[arg-type]
        assert own.status_code == 200, (method, path, own.status_code, own.text)
        unscoped = api.client.request(method.upper(), url_of(path, "kotim"), headers=api.auth(required), **body)  # type: ignore[arg-type]
        assert unscoped.status_code == 200, (method, path, unscoped.status_code, unscoped.text)


def test_lists_are_filtered_to_the_keys_plants(api: Api) -> None:
    assert [p["id"] for p in api.client.get("/api/v1/plants", headers=scoped(api, Role.EVALUATOR)).json()["plants"]] == ["seruyan"]
    assert [p["id"] for p in api.get("/api/v1/plants").json()["plants"]] == ["kotim", "seruyan"]
    alerts = api.client.get("/api/v1/alerts", headers=scoped(api, Role.AGENCY)).json()["alerts"]
    assert [(a["id"], a["plant"]) for a in alerts] == [(2, "seruyan")]
    assert [a["id"] for a in api.get("/api/v1/alerts").json()["alerts"]] == [2, 1]
    assert api.client.get("/api/v1/alerts?plant=kotim", headers=scoped(api, Role.AGENCY)).status_code == 404
    assert api.client.get("/api/v1/alerts?plant=seruyan", headers=scoped(api, Role.AGENCY)).status_code == 200
    csv_rows = api.client.get("/api/v1/alerts?format=csv", headers=scoped(api, Role.AGENCY)).text.splitlines()
    assert len(csv_rows) == 2 and ",seruyan," in csv_rows[1]


def test_alerts_of_another_plant_are_not_found_and_cannot_be_acted_on(api: Api) -> None:
    operator = scoped(api, Role.OPERATOR)
    assert api.client.get("/api/v1/alerts/1", headers=operator).status_code == 404
    assert api.client.get("/api/v1/alerts/2", headers=operator).status_code == 200
    for method, url, body in (("POST", "/api/v1/alerts/1/ack", {}), ("POST", "/api/v1/alerts/1/comments", {"text": "x"}),
                              ("PUT", "/api/v1/alerts/1/assignee", {"assignee": "budi"})):
        response = api.client.request(method, url, headers=operator, json=body)
        assert response.status_code == 404 and response.json()["detail"] == "no alert 1", (url, response.text)
    detail = api.get("/api/v1/alerts/1").json()
    assert detail["alert"]["acknowledged"] is False and len(detail["trail"]) == 1  # nothing was done to it
    assert api.client.post("/api/v1/alerts/2/ack", headers=operator, json={}).status_code == 200


def test_keys_are_issued_with_a_scope_by_route_and_a_scoped_key_cannot_manage_keys(api: Api) -> None:
    admin = api.auth(Role.ADMIN)
    issued = api.client.post("/api/v1/keys", headers=admin, json={"name": "dlh-seruyan", "role": "agency", "plants": ["seruyan"]})
    assert issued.status_code == 201 and issued.json()["key"]["plants"] == ["seruyan"]
    secret = issued.json()["secret_key"]
    assert [p["id"] for p in api.client.get("/api/v1/plants", headers={"Authorization": f"Bearer {secret}"}).json()["plants"]] == ["seruyan"]
    listed = {k["name"]: k["plants"] for k in api.client.get("/api/v1/keys", headers=admin).json()["keys"]}
    assert listed["dlh-seruyan"] == ["seruyan"] and listed["admin-key"] is None
    unknown = api.client.post("/api/v1/keys", headers=admin, json={"name": "x", "role": "agency", "plants": ["atlantis"]})
    assert unknown.status_code == 422 and "atlantis" in unknown.json()["detail"]
    assert api.client.post("/api/v1/keys", headers=admin, json={"name": "y", "role": "agency", "plants": []}).status_code == 422
    trail = api.client.get("/api/v1/audit", headers=admin).json()["entries"]
    assert any(e["target"] == "dlh-seruyan" and "plants=seruyan" in e["detail"] for e in trail)
    for method, url in (("GET", "/api/v1/keys"), ("GET", "/api/v1/audit"), ("POST", "/api/v1/keys")):
        refused = api.client.request(method, url, headers=scoped(api, Role.ADMIN), json={"name": "z", "role": "admin"})
        assert refused.status_code == 403 and "scoped" in refused.json()["detail"], (method, url, refused.text)


def test_keys_cli_issues_a_scoped_key(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASTEWATCH_DATA_DIR", str(tmp_path / "data"))
    assert main(["keys", "issue", "--name", "dlh-kotim", "--role", "agency", "--plant", "kotim"]) == 0
    assert "plants=kotim" in capsys.readouterr().out
    assert main(["keys", "issue", "--name", "dlh-atlantis", "--role", "agency", "--plant", "atlantis"]) == 1
    assert "atlantis" in capsys.readouterr().out
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert "dlh-kotim" in listed and "plants=kotim" in listed and "dlh-atlantis" not in listed


OLD_KEY_TABLE = """CREATE TABLE api_keys (id {id_column}, key_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    role TEXT NOT NULL, key_hash TEXT NOT NULL, created_at_ms BIGINT NOT NULL, created_by TEXT NOT NULL,
    revoked_at_ms BIGINT, revoked_by TEXT)"""


@pytest.fixture(params=["sqlite", "postgresql"])
def old_key_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = open_database(Settings(data_dir=tmp_path / "data", alerts_db_url=None))
    else:
        postgres = request.getfixturevalue("postgres")
        db = connect_url(postgres.create_database("api_keys_upgrade"))
    try:
        yield db
    finally:
        db.close()
        if request.param == "postgresql":
            postgres.drop_database("api_keys_upgrade")


def test_a_key_table_from_before_scopes_gets_the_column_and_its_keys_read_every_plant(old_key_db: Database) -> None:
    from api.keys import hash_key

    db = old_key_db
    db.script([OLD_KEY_TABLE.format(id_column=db.dialect.id_column)])
    old = "ww_0123abcd_" + "k" * 43
    db.execute("INSERT INTO api_keys (key_id, name, role, key_hash, created_at_ms, created_by) VALUES (?, ?, ?, ?, ?, ?)",
               ("0123abcd", "old-agency", "agency", hash_key(old), 0, "test"))
    keys = KeyStore(db)
    key = keys.verify(old)
    assert key is not None and key.plants is None and key.may_read("kotim") and key.may_read("seruyan")
    assert KeyStore(db).verify(old) == key  # opening it again changes nothing
    scoped_key = keys.issue("dlh-kotim", Role.AGENCY, "test", NOW_MS, plants=["kotim"])
    assert keys.verify(scoped_key.secret_key).plants == ("kotim",)  # type: ignore[union-attr]


def test_a_route_naming_a_plant_without_the_scope_check_is_refused_at_start() -> None:
    router = APIRouter()

    @router.get("/plants/{plant_id}/leak")
    def leak(plant_id: str, key: EvaluatorKey) -> dict[str, str]:
        return {}

    with pytest.raises(UndeclaredRole, match="without the Plant dependency"):
        _declare_roles(router)
