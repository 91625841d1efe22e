"""The console in a real browser (Debian's headless Chromium through chromedriver), against the API
served on the real stores and the real alert worker: log in; an alert the worker raises appears in
the inbox without a reload; acknowledge it with a comment and see the audit entry; no request leaves
the server's origin; an evaluator cannot acknowledge; a user scoped to another plant sees nothing;
axe-core finds no serious or critical problem on the login page, the inbox and the alert's page.
Screenshots at phone and desktop widths go to .artifacts/console/ (or $WASTEWATCH_TEST_ARTIFACTS)."""

from __future__ import annotations

import re
from contextlib import closing

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from alerts.schema import open_database
from alerts.store import AlertStore
from api.app import create_app
from api.roles import Role
from api.settings import ApiSettings
from api.users import UserStore
from tests.api_support import ServedApp
from tests.console_browser import assert_accessible, console_browser, fresh, needs_chromium, screenshots, waiting
from tests.test_alert_phone import run_worker
from wastewatch.plant import PlantCatalog
from wastewatch.points import Store
from wastewatch.settings import Settings

PASSWORD = "tungku-sampit-2026"
pytestmark = needs_chromium


@pytest.fixture
def browser(console_browser: WebDriver) -> WebDriver:
    """The session's one Chromium (tests/console_browser.py), as a new visitor's."""
    return fresh(console_browser)


def log_in(driver: WebDriver, base: str, name: str) -> None:
    driver.get(f"{base}/console/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    waiting(driver, 10).until(lambda d: "/console/" in d.current_url and "login" not in d.current_url)


def off_origin_requests(driver: WebDriver, base: str) -> list[str]:
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") or []
    return [u for u in urls if not str(u).startswith(base + "/")]


def test_an_operator_sees_the_workers_alert_arrive_and_acknowledges_it_in_the_browser(
    browser: WebDriver, settings_for, tmp_path, mosquitto, catalog: PlantCatalog, influx_store: Store,
):  # type: ignore[no-untyped-def]
    component, clock, t0 = run_worker(settings_for, tmp_path, mosquitto, catalog, "operators=log;agency=log", {}, raise_it=False)
    settings = component.settings
    db = open_database(settings)
    users = UserStore(db)
    users.add("budi", Role.OPERATOR, PASSWORD, "test", t0, plants=["kotim"])
    users.add("eva", Role.EVALUATOR, PASSWORD, "test", t0)
    users.add("lain", Role.AGENCY, PASSWORD, "test", t0, plants=["other"])
    app = create_app(settings, ApiSettings(), store=influx_store, catalog=catalog, alert_db=db)
    try:
        with ServedApp(app) as served:
            base = served.url
            browser.get(f"{base}/console/login")
            assert_accessible(browser, "the login page")
            log_in(browser, base, "budi")
            browser.get(f"{base}/console/alerts?lang=en")
            assert_accessible(browser, "the empty inbox")
            browser.execute_script("window.__notReloaded = true")
            clock.now_ms = t0 + 60_000  # the tolerance is over: the worker raises the alert
            waiting(browser, 30).until(lambda d: "#" in d.find_element(By.ID, "inbox-rows").text)
            assert browser.execute_script("return window.__notReloaded") is True  # it came without a reload
            row = browser.find_element(By.ID, "inbox-rows").text
            assert "critical" in row.lower() and "active, unacknowledged" in row and "kotim" in row
            assert_accessible(browser, "the inbox with an alert")
            screenshots(browser, "inbox")
            browser.find_element(By.CSS_SELECTOR, "#inbox-rows a").click()
            waiting(browser, 10).until(lambda d: d.find_elements(By.ID, "ack"))
            alert_id = int(re.search(r"/console/alerts/(\d+)", browser.current_url).group(1))  # type: ignore[union-attr]
            browser.find_element(By.ID, "ack-comment").send_keys("burner relit, watching the chamber")
            browser.find_element(By.ID, "ack").click()
            waiting(browser, 10).until(lambda d: "Alert acknowledged." in d.page_source)
            trail = browser.find_element(By.ID, "trail").text
            status = browser.find_element(By.ID, "alert-status").text
            assert_accessible(browser, "an alert's page")
            screenshots(browser, "alert")
            off_origin = off_origin_requests(browser, base)
            with closing(_session(base, "eva")) as evaluator, closing(_session(base, "lain")) as outsider:
                evaluator_inbox = evaluator.get("/console/alerts")
                evaluator_post = evaluator.post(f"/console/alerts/{alert_id}/comment", headers={"Origin": base},
                                                data={"csrf": _csrf(evaluator, "/console/"), "comment": "not mine to say"})
                outsider_page = outsider.get(f"/console/alerts/{alert_id}")
                outsider_rows = outsider.get("/console/alerts/rows")
    finally:
        component.stop()
        db.close()
    assert "acknowledged · budi: burner relit, watching the chamber" in trail and status == "active, acknowledged"
    assert off_origin == []
    assert evaluator_inbox.status_code == 403 and evaluator_post.status_code == 403
    assert outsider_page.status_code == 404 and f"#{alert_id}" not in outsider_rows.text
    stored = alert_trail(settings, alert_id)
    assert ("acknowledged", "budi") in stored and ("commented", "eva") not in stored


def alert_trail(settings: Settings, alert_id: int) -> list[tuple[str, str]]:
    db = open_database(settings)
    try:
        return [(t.kind, t.actor) for t in AlertStore(db).transitions(alert_id)]
    finally:
        db.close()


def _session(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    answer = client.post("/console/login", data={"name": name, "password": PASSWORD}, headers={"Origin": base})
    assert answer.status_code == 303, answer.text
    return client


def _csrf(client: httpx.Client, path: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)
