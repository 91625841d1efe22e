"""The plant overview and an alert's readings and assignment, on the API served over the real InfluxDB.

Over HTTP: the overview shows the operating state, the chamber temperatures against the P.56
minimums of the plant's profile, the devices online or offline, the newest valid averages against
their limits (unconfirmed ones flagged) and the open alerts, from data written to InfluxDB; a user
scoped to another plant gets the same 404 as for an unknown plant; an alert's page draws its
sensor's readings around it; assigning works with the session's CSRF token only, for operators only,
to console users who see the plant. Hypothesis sends hostile plant ids, query strings and form
fields: never a 5xx. In headless Chromium (the session's one, tests/console_browser.py), against the
real alert worker: the overview refreshes without a reload, the alert's page is assigned through its
form, both pass axe-core; screenshots at phone and desktop widths go to .artifacts/console/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import closing
from html import unescape
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from alerts.lifecycle import Lifecycle
from alerts.routing import parse_routes
from alerts.schema import open_database
from alerts.store import AlertStore
from api.app import create_app
from api.roles import Role
from api.settings import ApiSettings
from api.summaries.profiles import bundled_profiles
from api.users import UserStore
from grafana.build import OUTPUT_DIR
from tests.api_support import NOW_MS, Api, ServedApp, run_api
from tests.console_browser import ARTIFACTS, assert_accessible, console_browser, fresh, log_in, needs_chromium, screenshots, waiting
from tests.helpers import wait_until
from tests.test_alert_lifecycle import raised
from tests.test_alert_phone import run_worker
from tests.test_console_browser import off_origin_requests
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import AverageRecord
from wastewatch.plant import PlantCatalog
from wastewatch.points import Point, Store
from wastewatch.records import DeviceStatus, Reading

PASSWORD = "tungku-sampit-2026"
MIN_MS = 60_000


# -- data ----------------------------------------------------------------------------------------------


def state_point(state: str, at_ms: int) -> Point:
    return Point("plant_state", {"plant": "kotim"}, {"state": state, "from_state": "ready", "reason": "test"}, at_ms)


def average(profile: str, pollutant: str, period: str, start_ms: int, value: float, quality: QualityCode = QualityCode.VALID) -> Point:
    return AverageRecord("kotim", profile, pollutant, period, start_ms, quality, value, value, 0.0, 28, 0, 30, "t").to_point()


def seed_now(store: Store, now_ms: int, *, primary: float = 850.0, secondary: float = 980.0) -> None:
    """Burning for an hour; the primary chamber above 800 °C, the secondary under 1000 °C; the PLC
    online, the CEMS offline, the weighbridge silent; CO compliant, dust above its half-hour limit."""
    points = [state_point("burning", now_ms - 60 * MIN_MS)]
    points += [Reading("kotim", "t_primary", now_ms - 30_000, primary).to_point(),
               Reading("kotim", "t_secondary", now_ms - 30_000, secondary).to_point()]
    points += [DeviceStatus("kotim", "plc", now_ms - 50 * MIN_MS, True).to_point(),
               DeviceStatus("kotim", "cems", now_ms - 20 * MIN_MS, True).to_point(),
               DeviceStatus("kotim", "cems", now_ms - 5 * MIN_MS, False).to_point()]
    half_hour = now_ms - now_ms % (30 * MIN_MS) - 30 * MIN_MS
    points += [average("eu-ied-annex-vi", "co", "30min", half_hour - 30 * MIN_MS, 300.0),  # older: not shown
               average("eu-ied-annex-vi", "co", "30min", half_hour, 20.0),
               average("eu-ied-annex-vi", "dust", "30min", half_hour, 45.0),
               average("eu-ied-annex-vi", "dust", "30min", half_hour + 30 * MIN_MS, 99.0, QualityCode.MAINTENANCE),
               average("id-kep03-1995-unconfirmed", "co", "1h", half_hour - 30 * MIN_MS, 40.0)]
    store.write(points)


@pytest.fixture
def api(influx_store: Store, catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    for served in run_api(influx_store, catalog, tmp_path):
        users = UserStore(served.ctx.alert_db)
        users.add("budi", Role.OPERATOR, PASSWORD, "test", NOW_MS, plants=["kotim"])
        users.add("sari", Role.OPERATOR, PASSWORD, "test", NOW_MS)
        users.add("dlh", Role.AGENCY, PASSWORD, "test", NOW_MS, plants=["kotim"])
        users.add("eva", Role.EVALUATOR, PASSWORD, "test", NOW_MS)
        users.add("lain", Role.OPERATOR, PASSWORD, "test", NOW_MS, plants=["other"])
        yield served


def session(api: Api, name: str) -> httpx.Client:
    client = httpx.Client(base_url=str(api.client.base_url), timeout=30)
    answer = client.post("/console/login", data={"name": name, "password": PASSWORD}, headers=origin(api))
    assert answer.status_code == 303, answer.text
    return client


def origin(api: Api) -> dict[str, str]:
    return {"Origin": str(api.client.base_url).rstrip("/")}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def row_of(html: str, attribute: str, value: str, before: str = "") -> str:
    """The text of the table row or list item carrying `attribute="value"` (after `before`), tags removed."""
    match = re.search(rf'<(tr|li) [^>]*{re.escape(before)}{attribute}="{re.escape(value)}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no {attribute}={value} in the page"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(2))).split())


def average_row(html: str, profile: str, pollutant: str, period: str, rule: str) -> str:
    return row_of(html, "data-rule", rule, f'data-profile="{profile}" data-pollutant="{pollutant}" data-period="{period}" ')


def raise_alert(api: Api, at_ms: int) -> int:
    lifecycle = Lifecycle(api.ctx.alert_db, parse_routes("operators=log", ["regulatory"], ["log"]), [], api.ctx.catalog)
    with api.ctx.alert_db.transaction():
        lifecycle.apply(raised(at_ms))
    (alert,) = AlertStore(api.ctx.alert_db).list_alerts()
    return alert.id


# -- the overview ------------------------------------------------------------------------------------


def test_the_overview_shows_state_chambers_against_the_p56_minimums_devices_averages_and_open_alerts(api: Api) -> None:
    seed_now(api.store, NOW_MS)
    alert_id = raise_alert(api, NOW_MS - 3 * MIN_MS)
    p56 = {r.id: r for r in bundled_profiles()["id-p56-2015"].requirements}
    with closing(session(api, "dlh")) as officer:
        page = officer.get("/console/plants/kotim?lang=en")
        live = officer.get("/console/plants/kotim/now?lang=en")
        indonesian = officer.get("/console/plants/kotim")
        home_rows = officer.get("/console/plants?part=rows&lang=en")
    assert page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert re.search(r'id="plant-state".*?burning', html, re.S)
    primary, secondary = row_of(html, "data-requirement", "t_primary_min"), row_of(html, "data-requirement", "t_secondary_min")
    assert f"≥ {p56['t_primary_min'].value:g} °C" in primary and "850.0 °C" in primary and " met " in f" {primary} "
    assert f"≥ {p56['t_secondary_min'].value:g} °C" in secondary and "980.0 °C" in secondary and "below the requirement" in secondary
    assert (p56["t_primary_min"].value, p56["t_secondary_min"].value) == (800, 1000)  # what the page was judged against
    cytotoxic = row_of(html, "data-requirement", "t_secondary_cytotoxic")
    assert "unconfirmed" in cytotoxic  # [U] in the profile: flagged, never judged in red
    assert "online" in row_of(html, "data-device", "plc")
    assert "offline" in row_of(html, "data-device", "cems")  # its newest status wins
    assert "never reported" in row_of(html, "data-device", "weighbridge")
    co = average_row(html, "eu-ied-annex-vi", "co", "30min", "A100")
    assert "20.0 mg/Nm3" in co and "compliant" in co  # the newest valid half-hour, not the older 300
    dust = average_row(html, "eu-ied-annex-vi", "dust", "30min", "A100")
    assert "45.0" in dust and "exceeding" in dust  # the maintenance half-hour after it is not valid
    dust_b97 = average_row(html, "eu-ied-annex-vi", "dust", "30min", "B97")
    assert "above the value; B97 allows 3 %" in dust_b97  # one value above it breaks no 97 % rule
    kep03 = average_row(html, "id-kep03-1995-unconfirmed", "co", "1h", "H100")
    assert "40.0" in kep03 and "compliant" in kep03 and "unconfirmed" in kep03
    assert "no valid average" in average_row(html, "eu-ied-annex-vi", "so2", "30min", "A100")
    assert 'data-pollutant="hf"' not in html  # a limit on a pollutant the plant does not measure
    assert f'href="/console/alerts/{alert_id}?lang=en"' in html
    assert 'data-refresh="/console/plants/kotim/now?lang=en"' in html and 'src="/console/static/refresh.js"' in html
    assert live.status_code == 200 and "<html" not in live.text and "below the requirement" in live.text
    assert "pembakaran" in indonesian.text and "di bawah syarat" in indonesian.text and 'lang="id"' in indonesian.text
    assert home_rows.status_code == 200 and 'href="/console/plants/kotim?lang=en"' in home_rows.text and "burning" in home_rows.text


def test_a_plant_the_user_does_not_read_is_the_same_404_as_an_unknown_one_and_evaluators_get_a_403(api: Api) -> None:
    seed_now(api.store, NOW_MS)
    with closing(session(api, "lain")) as outsider, closing(session(api, "eva")) as evaluator:
        other = outsider.get("/console/plants/kotim?lang=en")
        unknown = outsider.get("/console/plants/nowhere?lang=en")
        other_live, unknown_live = outsider.get("/console/plants/kotim/now"), outsider.get("/console/plants/nowhere/now")
        listed = outsider.get("/console/plants?part=rows")
        evaluator_page = evaluator.get("/console/plants/kotim")
        evaluator_home = evaluator.get("/console/")
    assert other.status_code == unknown.status_code == 404 and "kotim" not in other.text.replace("/kotim", "").replace("No plant kotim", "")
    assert other.text.replace("kotim", "X") == unknown.text.replace("nowhere", "X")  # nothing tells them apart
    assert other_live.status_code == unknown_live.status_code == 404
    assert "kotim" not in listed.text
    assert evaluator_page.status_code == 403 and "plant-list" not in evaluator_home.text
    assert api.client.get("/console/plants/kotim").status_code == 303  # not logged in: to the login page


# -- the alert page: readings and assignment ----------------------------------------------------------


def test_the_alert_page_draws_the_sensors_readings_around_the_alert(api: Api) -> None:
    raised_ms = NOW_MS - 20 * MIN_MS
    api.store.write([Reading("kotim", "t_secondary", raised_ms - 90 * MIN_MS + i * 10_000, 1010.0 - i * 0.1).to_point()
                     for i in range(110 * 6)])  # every 10 s from 90 min before the alert to now, 20 min after it
    alert_id = raise_alert(api, raised_ms)
    with closing(session(api, "dlh")) as officer:
        html = officer.get(f"/console/alerts/{alert_id}?lang=en").text
    chart = re.search(r'<svg class="spark" id="readings-chart"[^>]*data-points="(\d+)"[^>]*>(.*?)</svg>', html, re.S)
    assert chart, html
    points = re.search(r'<polyline points="([^"]+)"', chart.group(2))
    assert points and len(points.group(1).split()) == int(chart.group(1)) == 80  # 1 h before to now (20 min after), per minute
    assert "≥ 1000 °C" in chart.group(2)  # the P.56 minimum drawn as a line
    assert "raised" in chart.group(2) and "t_secondary, 1 h before to 30 min after the alert" in html
    assert len(re.findall(r"<tr><td>", html.split('id="readings-table"')[1])) == 80


def test_assigning_needs_the_csrf_token_an_operator_and_a_user_who_sees_the_plant(api: Api) -> None:
    alert_id = raise_alert(api, NOW_MS - 3 * MIN_MS)
    path = f"/console/alerts/{alert_id}/assign"
    with closing(session(api, "budi")) as operator, closing(session(api, "dlh")) as officer, \
            closing(session(api, "lain")) as outsider, closing(session(api, "eva")) as evaluator:
        page = operator.get(f"/console/alerts/{alert_id}?lang=en").text
        options = re.findall(r'<option value="([^"]*)"', page.split('id="assignee"')[1].split("</select>")[0])
        token = csrf_of(page)
        without = operator.post(path, data={"assignee": "sari"}, headers=origin(api))
        forged = operator.post(path, data={"assignee": "sari", "csrf": "forged"}, headers=origin(api))
        cross_site = operator.post(path, data={"assignee": "sari", "csrf": token}, headers={"Origin": "https://evil.example"})
        by_officer = officer.post(path, data={"assignee": "sari", "csrf": csrf_of(officer.get("/console/").text)}, headers=origin(api))
        by_evaluator = evaluator.post(path, data={"assignee": "eva", "csrf": csrf_of(evaluator.get("/console/").text)}, headers=origin(api))
        by_outsider = outsider.post(path, data={"assignee": "lain", "csrf": csrf_of(outsider.get("/console/").text)}, headers=origin(api))
        to_stranger = operator.post(path, data={"assignee": "lain", "csrf": token}, headers=origin(api))
        before = AlertStore(api.ctx.alert_db).get(alert_id)
        done = operator.post(path, data={"assignee": "sari", "csrf": token, "lang": "en"}, headers=origin(api))
        after = operator.get(done.headers["location"]).text
    assert options == ["", "budi", "dlh", "sari"]  # active, see kotim's alerts; not the evaluator nor the other plant's
    assert [r.status_code for r in (without, forged, cross_site, by_officer, by_evaluator)] == [403] * 5
    assert by_outsider.status_code == 404 and to_stranger.status_code == 422
    assert before is not None and before.assignee is None
    assert done.status_code == 303 and "Assignment saved." in after
    assert "assigned · budi → sari" in after and re.search(r'id="alert-assignee">sari<', after)
    assert AlertStore(api.ctx.alert_db).get(alert_id).assignee == "sari"  # type: ignore[union-attr]


# -- Grafana's links ----------------------------------------------------------------------------------


def test_the_operations_dashboards_alert_rows_open_the_alerts_console_page(api: Api) -> None:
    board = json.loads((OUTPUT_DIR / "operations.json").read_text())
    table = next(p for p in board["panels"] if p["type"] == "table" and p["title"].startswith("Alerts"))
    links = {o["matcher"]["options"]: o["properties"][0]["value"][0]["url"] for o in table["fieldConfig"]["overrides"]}
    assert set(links) == {"alert_id", "title"} and len(set(links.values())) == 1
    url = urlsplit(links["alert_id"])
    assert "alert_id" in re.findall(r'AS "(\w+)"', table["targets"][0]["query"])  # the column the link reads
    alert_id = raise_alert(api, NOW_MS - MIN_MS)
    path = url.path.replace("${__data.fields.alert_id}", str(alert_id))
    overview = urlsplit(board["links"][0]["url"]).path.replace("${plant}", "kotim")
    with closing(session(api, "dlh")) as officer:
        assert officer.get(path).status_code == 200 and f"#{alert_id}" in officer.get(path).text
        assert officer.get(overview).status_code == 200


# -- hostile input ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plant=st.text(max_size=80), lang=st.text(max_size=12), part=st.text(max_size=12),
       assignee=st.one_of(st.text(max_size=80), st.sampled_from(["sari", "lain", "eva", " sari "])),
       csrf=st.one_of(st.text(max_size=60), st.none()), action=st.sampled_from(["assign", "ack", "comment", "x"]),
       alert=st.one_of(st.integers(min_value=-5, max_value=2**63), st.just(1)))
def test_hostile_plant_ids_query_strings_and_form_fields_are_never_a_5xx(
    api: Api, plant: str, lang: str, part: str, assignee: str, csrf: str | None, action: str, alert: int,
) -> None:
    client, token = _operator(api)
    form = {"assignee": assignee, "csrf": token if csrf is None else csrf, "lang": lang, "comment": assignee}
    answers = [
        client.get(f"/console/plants/{quote(plant, safe='')}", params={"lang": lang}),
        client.get(f"/console/plants/{quote(plant, safe='')}/now", params={"lang": lang}),
        client.get("/console/plants", params={"lang": lang, "part": part}),
        client.get(f"/console/alerts/{alert}", params={"lang": lang}),
        client.post(f"/console/alerts/{alert}/{action}", data=form, headers=origin(api)),
    ]
    assert all(a.status_code < 500 for a in answers), [(a.request.url, a.status_code) for a in answers]
    assert client.get("/console/plants/kotim").status_code == 200  # still serving


_clients: dict[int, tuple[httpx.Client, str]] = {}


@pytest.fixture(scope="module", autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    for client, _ in _clients.values():
        client.close()
    _clients.clear()


def _operator(api: Api) -> tuple[httpx.Client, str]:
    """One logged-in operator and its CSRF token per served app (Hypothesis runs the body many times on
    one fixture), with an alert to act on (#1)."""
    key = id(api.app)
    if key not in _clients:
        for client, _ in _clients.values():
            client.close()
        _clients.clear()
        raise_alert(api, NOW_MS - MIN_MS)
        client = session(api, "budi")
        _clients[key] = (client, csrf_of(client.get("/console/").text))
    return _clients[key]


# -- in the browser, with the real alert worker ------------------------------------------------------------


@needs_chromium
def test_in_the_browser_the_overview_refreshes_by_itself_and_the_workers_alert_is_assigned_from_its_page(
    console_browser: WebDriver, settings_for, tmp_path, mosquitto, catalog: PlantCatalog, influx_store: Store,
):  # type: ignore[no-untyped-def]
    driver = fresh(console_browser)
    component, _, t0 = run_worker(settings_for, tmp_path, mosquitto, catalog, "operators=log;agency=log", {})
    settings = component.settings
    db = open_database(settings)
    users = UserStore(db)
    users.add("budi", Role.OPERATOR, PASSWORD, "test", t0, plants=["kotim"])
    users.add("sari", Role.OPERATOR, PASSWORD, "test", t0)
    influx_store.write([Reading("kotim", "t_secondary", t0 - 60 * MIN_MS + i * 30_000, 1005.0 - i * 0.5).to_point() for i in range(125)])
    app = create_app(settings, ApiSettings(), store=influx_store, catalog=catalog, alert_db=db)
    app.state.ctx.clock = lambda: (t0 + 2 * MIN_MS) / 1000
    seed_now(influx_store, t0 + 2 * MIN_MS, secondary=950.0)
    try:
        with ServedApp(app) as served:
            base = served.url
            alert = _wait_for_alert(db)
            log_in(driver, base, "budi", PASSWORD)
            waiting(driver, 10).until(lambda d: "pembakaran" in d.find_element(By.ID, "plant-list").text)  # the home's list
            driver.get(f"{base}/console/plants/kotim?lang=en")
            driver.execute_script("window.__notReloaded = true")
            assert "burning" in driver.find_element(By.ID, "plant-state").text
            assert "offline" in driver.find_element(By.CSS_SELECTOR, '[data-device="cems"]').text
            assert f"#{alert}" in driver.find_element(By.ID, "open-alerts").text
            screenshots(driver, "overview")
            assert_accessible(driver, "the plant overview")
            driver.set_window_size(390, 2600)  # the whole page at phone width
            driver.save_screenshot(str(ARTIFACTS / "overview-phone-full.png"))
            influx_store.write([DeviceStatus("kotim", "cems", t0 + MIN_MS, True).to_point()])  # the CEMS is back
            waiting(driver, 20).until(lambda d: "online" in d.find_element(By.CSS_SELECTOR, '[data-device="cems"]').text)
            assert driver.execute_script("return window.__notReloaded") is True  # it came without a reload
            driver.find_element(By.CSS_SELECTOR, f'#open-alerts a[href^="/console/alerts/{alert}"]').click()
            waiting(driver, 10).until(lambda d: d.find_elements(By.ID, "assign"))
            drawn = int(driver.find_element(By.ID, "readings-chart").get_attribute("data-points") or 0)
            Select(driver.find_element(By.ID, "assignee")).select_by_value("sari")
            driver.find_element(By.ID, "assign").click()
            waiting(driver, 10).until(lambda d: "Assignment saved." in d.page_source)
            trail = driver.find_element(By.ID, "trail").text
            screenshots(driver, "alert-assigned")
            assert_accessible(driver, "an alert's page with its readings")
            off_origin = off_origin_requests(driver, base)
    finally:
        component.stop()
        db.close()
    assert drawn >= 60  # an hour of readings before the alert, per minute
    assert "assigned · budi → sari" in trail and off_origin == []
    assert (ARTIFACTS / "overview-phone.png").stat().st_size > 0 and (ARTIFACTS / "overview-desktop.png").stat().st_size > 0


def _wait_for_alert(db) -> int:  # type: ignore[no-untyped-def]
    alerts = wait_until(lambda: AlertStore(db).list_alerts(), timeout_s=30, what="the worker's alert")
    return int(alerts[0].id)
