"""The admins' console pages against the real API: an admin adds a user who then logs in, resets a
password, disables the user (whose session ends), issues a key (shown once, it works on the API) and
revokes it (the API then answers 401); every change is in the audit trail under the admin's name.
Everyone else gets a 403; a post without the session's CSRF token or from another origin changes
nothing; Hypothesis forms never get a 5xx. In Chromium the pages pass axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from api.keys import KeyStore
from api.roles import Role
from api.users import UserStore
from tests.api_support import NOW_MS, Api, run_api
from tests.console_browser import assert_accessible, console_browser, fresh, log_in, needs_chromium, screenshots, waiting
from wastewatch.plant import PlantCatalog
from wastewatch.points import Store

PASSWORD = "tungku-sampit-2026"
USERS, KEYS = "/console/admin/users", "/console/admin/keys"


@pytest.fixture
def api(influx_store: Store, catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    for generated in run_api(influx_store, catalog, tmp_path):
        users = UserStore(generated.ctx.alert_db)
        users.add("adi", Role.ADMIN, PASSWORD, "test", NOW_MS)
        users.add("budi", Role.OPERATOR, PASSWORD, "test", NOW_MS)
        users.add("sempit", Role.ADMIN, PASSWORD, "test", NOW_MS, plants=["kotim"])
        yield generated


def base_of(api: Api) -> str:
    return str(api.client.base_url).rstrip("/")


@contextmanager
def signed_in(api: Api, name: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_of(api), timeout=60) as client:
        answer = client.post("/console/login", data={"name": name, "password": password}, headers={"Origin": base_of(api)})
        assert answer.status_code == 303, answer.text
        yield client


def csrf(client: httpx.Client, path: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def post(api: Api, client: httpx.Client, path: str, token: str | None, **fields: str | list[str]) -> httpx.Response:
    data = {**fields, **({"csrf": token} if token is not None else {})}
    return client.post(path, data=data, headers={"Origin": base_of(api)})


def trail(api: Api) -> list[tuple[str, str, str]]:
    return [(str(r["actor"]), str(r["action"]), str(r["target"])) for r in KeyStore(api.ctx.alert_db).audit_trail(500)]


def test_an_admin_adds_a_user_who_logs_in_then_resets_and_disables_them(api: Api) -> None:
    with signed_in(api, "adi") as adi:
        token = csrf(adi, USERS)
        added = post(api, adi, f"{USERS}/add", token, name="sari dlh", role="agency", plants=["kotim"], password="sari-password-2026")
        assert added.status_code == 303 and added.headers["location"].endswith("done=added")
        listing = adi.get(USERS, params={"lang": "en", "done": "added"})
        assert "User added." in listing.text and "sari dlh" in listing.text and "agency officer" in listing.text
        with signed_in(api, "sari dlh", "sari-password-2026") as sari:
            assert sari.get("/console/").status_code == 200
            reset = post(api, adi, f"{USERS}/password", token, name="sari dlh", password="another-password-26")
            assert reset.status_code == 303
            assert sari.get("/console/").status_code == 303  # a new password ends the sessions
        with signed_in(api, "sari dlh", "another-password-26") as sari:
            assert sari.get("/console/").status_code == 200
            disabled = post(api, adi, f"{USERS}/disable", token, name="sari dlh")
            assert disabled.status_code == 303
            assert sari.get("/console/").status_code == 303  # disabled: the session has ended
        refused = adi.post("/console/login", data={"name": "sari dlh", "password": "another-password-26"},
                           headers={"Origin": base_of(api)})
        assert refused.status_code == 401
        weak = post(api, adi, f"{USERS}/add", token, name="tono", role="operator", password="short")
        twice = post(api, adi, f"{USERS}/add", token, name="budi", role="operator", password="budi-password-2026")
        myself = post(api, adi, f"{USERS}/disable", token, name="adi")
        nobody = post(api, adi, f"{USERS}/disable", token, name="nobody")
        unknown_plant = post(api, adi, f"{USERS}/add", token, name="tono", role="operator", plants=["atlantis"], password="tono-password-2026")
    assert weak.status_code == 422 and "Kata sandi harus 10 sampai 256 karakter" in weak.text
    assert twice.status_code == 409 and myself.status_code == 409 and nobody.status_code == 404 and unknown_plant.status_code == 422
    stored = UserStore(api.ctx.alert_db).get("sari dlh")
    assert stored is not None and stored.plants == ("kotim",) and stored.role is Role.AGENCY and not stored.active
    assert UserStore(api.ctx.alert_db).get("tono") is None
    entries = trail(api)
    for action in ("user_added", "user_password_set", "user_disabled"):
        assert ("adi", action, "sari dlh") in entries, action


def test_an_admin_issues_a_key_shown_once_that_works_until_revoked(api: Api) -> None:
    with signed_in(api, "adi") as adi:
        token = csrf(adi, KEYS)
        issued = post(api, adi, f"{KEYS}/issue", token, name="dlh-kotim", role="agency", plants=["kotim"], lang="en")
        secret = re.search(r'<code id="secret-key">(ww_[0-9a-f]{8}_[A-Za-z0-9_-]{43})</code>', issued.text)
        assert issued.status_code == 200 and secret and "shown this once" in issued.text
        assert issued.headers["cache-control"] == "no-store"
        key = {"Authorization": f"Bearer {secret.group(1)}"}
        assert api.client.get("/api/v1/plants/kotim/sensors", headers=key).status_code == 200
        assert api.client.get("/api/v1/plants/other/sensors", headers=key).status_code == 404  # scoped to kotim
        listing = adi.get(KEYS)
        assert secret.group(1) not in listing.text and "dlh-kotim" in listing.text  # never shown again
        key_id = secret.group(1)[3:11]
        duplicate = post(api, adi, f"{KEYS}/issue", token, name="dlh-kotim", role="agency")
        revoked = post(api, adi, f"{KEYS}/revoke", token, key_id=key_id)
        again = post(api, adi, f"{KEYS}/revoke", token, key_id=key_id)
    assert duplicate.status_code == 409 and revoked.status_code == 303 and again.status_code == 404
    assert api.client.get("/api/v1/plants/kotim/sensors", headers=key).status_code == 401
    entries = trail(api)
    assert ("adi", "key_issued", "dlh-kotim") in entries and ("adi", "key_revoked", "dlh-kotim") in entries


def test_non_admins_get_403_and_forms_without_csrf_or_from_elsewhere_change_nothing(api: Api) -> None:
    with signed_in(api, "budi") as budi, signed_in(api, "sempit") as scoped, signed_in(api, "adi") as adi:
        budi_token = csrf(budi, "/console/")
        for client, token in ((budi, budi_token), (scoped, csrf(scoped, "/console/"))):
            assert client.get(USERS).status_code == 403 and client.get(KEYS).status_code == 403
            assert post(api, client, f"{USERS}/add", token, name="x-user", role="admin", password="x-password-2026").status_code == 403
            assert post(api, client, f"{KEYS}/issue", token, name="x-key", role="admin").status_code == 403
        token = csrf(adi, USERS)
        no_csrf = post(api, adi, f"{USERS}/add", None, name="x-user", role="admin", password="x-password-2026")
        wrong_csrf = post(api, adi, f"{KEYS}/issue", "forged", name="x-key", role="admin")
        other_session = post(api, adi, f"{KEYS}/issue", budi_token, name="x-key", role="admin")
        elsewhere = adi.post(f"{USERS}/disable", data={"csrf": token, "name": "budi"}, headers={"Origin": "https://evil.example"})
        no_origin = adi.post(f"{USERS}/disable", data={"csrf": token, "name": "budi"})
    assert [r.status_code for r in (no_csrf, wrong_csrf, other_session, elsewhere, no_origin)] == [403] * 5
    assert api.client.get(USERS).status_code == 303  # not logged in: the login page
    assert UserStore(api.ctx.alert_db).get("x-user") is None and UserStore(api.ctx.alert_db).get("budi").active  # type: ignore[union-attr]
    assert [k for k in api.ctx.keys.list_keys() if k.name == "x-key"] == []


@pytest.fixture
def adi(api: Api) -> Iterator[tuple[httpx.Client, str]]:
    with signed_in(api, "adi") as client:
        yield client, csrf(client, USERS)


FIELDS = st.dictionaries(
    st.sampled_from(["name", "role", "password", "plants", "key_id", "lang", "other"]),
    st.sampled_from(["budi", "adi", "admin", "kotim", "", "00000000"]) | st.text(max_size=80)
    | st.binary(max_size=40).map(lambda b: b.decode("latin-1")), max_size=5,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(["users/add", "users/password", "users/disable", "keys/issue", "keys/revoke", "users/x", "keys"]),
       fields=FIELDS)
def test_hostile_admin_forms_never_get_a_5xx(api: Api, adi: tuple[httpx.Client, str], action: str, fields: dict[str, str]) -> None:
    client, token = adi
    answer = client.post(f"/console/admin/{action}", data={**fields, "csrf": token}, headers={"Origin": base_of(api)})
    assert answer.status_code in (200, 303, 403, 404, 405, 409, 422), (action, fields, answer.status_code, answer.text[:300])
    assert client.get(USERS).status_code == 200  # the admin is still signed in and served


@needs_chromium
def test_the_admin_pages_in_the_browser_pass_axe_and_work(api: Api, console_browser: WebDriver) -> None:
    base = base_of(api)
    driver = fresh(console_browser)
    log_in(driver, base, "adi", PASSWORD, "en")
    driver.get(f"{base}{USERS}?lang=en")
    assert_accessible(driver, "the users page")
    driver.find_element(By.ID, "new-name").send_keys("rina")
    driver.find_element(By.ID, "new-password").send_keys("rina-password-2026")
    driver.find_element(By.ID, "add-user").click()
    waiting(driver, 10).until(lambda d: "User added." in d.page_source)
    assert "rina" in driver.find_element(By.ID, "users").text
    assert_accessible(driver, "the users page after adding")
    screenshots(driver, "admin-users")
    driver.get(f"{base}{KEYS}")
    driver.find_element(By.ID, "key-name").send_keys("grafana")
    driver.find_element(By.ID, "issue-key").click()
    waiting(driver, 10).until(lambda d: d.find_elements(By.ID, "secret-key"))
    assert driver.find_element(By.ID, "secret-key").text.startswith("ww_")
    assert_accessible(driver, "the keys page with a new key")
    screenshots(driver, "admin-keys")


def test_every_page_header_leads_each_role_to_its_pages(api: Api) -> None:
    """The header's links: operators see plants, alerts and summaries; admins also the admin pages."""
    with signed_in(api, "budi") as budi, signed_in(api, "adi") as adi:
        for path in ("/console/", "/console/alerts", "/console/summary"):
            operator, admin = budi.get(path).text, adi.get(path).text
            nav = re.compile(r'<nav aria-label="console">(.*?)</nav>')
            operator_links = re.findall(r'href="([^"?]+)', nav.search(operator).group(1))  # type: ignore[union-attr]
            admin_links = re.findall(r'href="([^"?]+)', nav.search(admin).group(1))  # type: ignore[union-attr]
            assert operator_links == ["/console/", "/console/plants", "/console/alerts", "/console/summary"], path
            assert admin_links == operator_links + ["/console/admin/users"], path
