"""People log in to the console: users made with `wastewatch users`, Argon2id hashes, a session
cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) with idle and absolute expiry, CSRF on every
post, login throttled per account and per address, every login and logout in the audit trail."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.schema import open_database
from api.keys import KeyStore
from api.roles import Role
from api.users import UserStore
from tests.api_support import NOW_MS, Api, run_api
from tests.helpers import wait_until
from wastewatch.plant import PlantCatalog
from wastewatch.points import Store
from wastewatch.runtime import free_port
from wastewatch.settings import Settings

PASSWORD = "tungku-sampit-2026"


@pytest.fixture
def api(influx_store: Store, catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    yield from run_api(influx_store, catalog, tmp_path, console_login_burst=3, console_login_per_min=1)


def origin(api: Api) -> dict[str, str]:
    return {"Origin": str(api.client.base_url).rstrip("/")}


def log_in(api: Api, name: str, password: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return api.client.post("/console/login", data={"name": name, "password": password, "next": "/console/"},
                           headers=origin(api) if headers is None else headers)


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def test_a_user_logs_in_sees_the_console_and_logs_out_with_the_csrf_token(api: Api) -> None:
    UserStore(api.ctx.alert_db).add("budi", Role.OPERATOR, PASSWORD, "test", NOW_MS, plants=["kotim"])
    assert api.client.get("/console/").status_code == 303  # not logged in: to the login page
    login = log_in(api, "budi", PASSWORD)
    assert login.status_code == 303 and login.headers["location"] == "/console/"
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    assert "secure" not in cookie  # plain http on loopback; over HTTPS it is Secure (below)
    home = api.client.get("/console/")
    assert home.status_code == 200 and "budi" in home.text and "kotim" in home.text
    assert "default-src 'none'" in home.headers["content-security-policy"]
    token = csrf_of(home)
    # a logout without the token (a forged cross-site post) changes nothing
    refused = api.client.post("/console/logout", data={"csrf": "forged"}, headers=origin(api))
    assert refused.status_code == 403 and api.client.get("/console/").status_code == 200
    out = api.client.post("/console/logout", data={"csrf": token}, headers=origin(api))
    assert out.status_code == 303 and api.client.get("/console/").status_code == 303
    trail = [(r["actor"], r["action"]) for r in KeyStore(api.ctx.alert_db).audit_trail()]
    assert ("budi", "login") in trail and ("budi", "logout") in trail


def test_a_login_over_https_sets_a_secure_cookie_and_one_from_another_site_is_refused(api: Api) -> None:
    UserStore(api.ctx.alert_db).add("sari", Role.AGENCY, PASSWORD, "test", NOW_MS)
    secure = log_in(api, "sari", PASSWORD, {**origin(api), "X-Forwarded-Proto": "https"})
    assert "secure" in secure.headers["set-cookie"].lower()
    api.client.cookies.clear()
    assert log_in(api, "sari", PASSWORD, {"Origin": "https://evil.example"}).status_code == 403
    assert log_in(api, "sari", PASSWORD, {}).status_code == 403  # no Origin nor Referer: not a browser form


def test_wrong_passwords_are_throttled_per_account_even_from_new_addresses_and_audited(api: Api) -> None:
    UserStore(api.ctx.alert_db).add("budi", Role.OPERATOR, PASSWORD, "test", NOW_MS)
    answers = [log_in(api, "budi", f"wrong-guess-{n}").status_code for n in range(4)]
    assert answers == [401, 401, 401, 429]
    # the right password is refused too while the account is throttled (the clock stands still)
    throttled = log_in(api, "budi", PASSWORD)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    assert log_in(api, "nobody", PASSWORD).status_code == 401  # another account is not held back
    failures = [r for r in KeyStore(api.ctx.alert_db).audit_trail() if r["action"] == "login_failed"]
    assert len(failures) == 4 and all("address=127.0.0.1" in r["detail"] for r in failures)


def test_a_session_ends_when_idle_too_long_at_its_absolute_limit_and_when_the_password_changes(api: Api) -> None:
    users = UserStore(api.ctx.alert_db)
    users.add("budi", Role.OPERATOR, PASSWORD, "test", NOW_MS)
    idle_s, absolute_s = api.api.console_idle_s, api.api.console_absolute_s
    now = [NOW_MS / 1000]
    api.ctx.clock = lambda: now[0]

    def session_lives_after(*steps_s: float) -> bool:
        api.client.cookies.clear()
        now[0] = NOW_MS / 1000
        assert log_in(api, "budi", PASSWORD).status_code == 303
        for step in steps_s:
            now[0] += step
            if api.client.get("/console/").status_code != 200:
                return False
        return True

    assert session_lives_after(idle_s - 60, idle_s - 60)  # used within the idle limit: alive
    assert not session_lives_after(idle_s + 60)
    assert not session_lives_after(*[idle_s - 60] * int(absolute_s // (idle_s - 60) + 1))  # used, but too old
    assert session_lives_after(60)
    users.set_password("budi", "a-new-password-2026", "test", round(now[0] * 1000))
    assert api.client.get("/console/").status_code == 303  # the old session is gone
    users.disable("budi", "test", round(now[0] * 1000))
    assert log_in(api, "budi", "a-new-password-2026").status_code == 401


def test_a_weak_password_and_a_redirect_elsewhere_are_refused(api: Api) -> None:
    users = UserStore(api.ctx.alert_db)
    for weak in ["short", "budi-budi"[:4], "Budi"]:
        with pytest.raises(ValueError):
            users.add("budi", Role.OPERATOR, weak, "test", NOW_MS)
    users.add("budi", Role.OPERATOR, PASSWORD, "test", NOW_MS)
    for target in ["https://evil.example/", "//evil.example/console/", "/console/\\evil", "/api/v1/plants"]:
        api.client.cookies.clear()
        answer = api.client.post("/console/login", data={"name": "budi", "password": PASSWORD, "next": target}, headers=origin(api))
        assert answer.status_code == 303 and answer.headers["location"] == "/console/", target


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["name", "password", "next", "lang", "csrf", "other"]),
                       st.text(max_size=300) | st.binary(max_size=50).map(lambda b: b.decode("latin-1")), max_size=5))
def test_hostile_login_forms_get_a_4xx_or_a_redirect_never_a_5xx(api: Api, form: dict[str, str]) -> None:
    api.client.cookies.clear()
    for path in ("/console/login", "/console/logout"):
        answer = api.client.post(path, data=form, headers=origin(api))
        assert answer.status_code in (303, 401, 403, 429), (path, answer.status_code, answer.text[:200])
    assert api.client.get("/console/login", params={"next": form.get("next", ""), "lang": form.get("lang", "")}).status_code == 200


def test_wastewatch_users_then_wastewatch_api_logs_the_user_in(tmp_path: Path, influx_store: Store) -> None:
    """The commands an administrator runs: `wastewatch users add` (password on stdin), `users list`,
    then `wastewatch api`, and a login through it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WASTEWATCH_")}
    port = free_port()
    env = {**clean, "WASTEWATCH_DATA_DIR": str(tmp_path / "data"), "WASTEWATCH_API_PORT": str(port),
           "WASTEWATCH_INFLUX_URL": influx_store.url, "WASTEWATCH_INFLUX_DATABASE": influx_store.database}
    cli = [sys.executable, "-m", "launch.cli"]
    added = subprocess.run([*cli, "users", "add", "sari", "--role", "agency", "--plant", "kotim", "--password-stdin"],
                           input=PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    again = subprocess.run([*cli, "users", "add", "sari", "--role", "agency", "--password-stdin"], input=PASSWORD + "\n",
                           env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "exists already" in again.stderr
    listed = subprocess.run([*cli, "users", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert re.search(r"sari\s+agency\s+active\s+plants=kotim", listed.stdout), listed.stdout
    server = subprocess.Popen([*cli, "api"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _ready(base), timeout_s=30, what="wastewatch api")
        with httpx.Client(base_url=base) as client:
            login = client.post("/console/login", data={"name": "sari", "password": PASSWORD}, headers={"Origin": base})
            home = client.get("/console/")
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert login.status_code == 303 and home.status_code == 200 and "sari" in home.text
    db = open_database(Settings(data_dir=tmp_path / "data"))
    try:
        stored = db.query_one("SELECT password_hash FROM console_users WHERE name = ?", ("sari",))
    finally:
        db.close()
    assert stored is not None and str(stored["password_hash"]).startswith("$argon2id$") and PASSWORD not in str(stored["password_hash"])


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
