"""The evaluators' console pages on the real InfluxDB: the period's figures on the summary pages are the
ones written to the store (and the JSON API's), the report downloads through the session as PDF, HTML
and CSV in both languages, a bad period or plant is a 4xx page, hostile queries never a 5xx; in
Chromium the pages pass axe-core and are photographed at phone and desktop widths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from api.reports.messages import number, percent
from api.roles import Role
from api.users import UserStore
from sispek.schema import create_schema as create_sispek_schema
from tests.api_support import NOW_MS, Api, run_api, seed_plant_day
from tests.console_browser import assert_accessible, console_browser, fresh, log_in, needs_chromium, screenshots, waiting
from wastewatch.plant import PlantCatalog
from wastewatch.points import Store

PASSWORD = "tungku-sampit-2026"


@pytest.fixture
def api(influx_store: Store, catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    seed_plant_day(influx_store)
    for generated in run_api(influx_store, catalog, tmp_path):
        users = UserStore(generated.ctx.alert_db)
        users.add("eva", Role.EVALUATOR, PASSWORD, "test", NOW_MS)
        users.add("lain", Role.EVALUATOR, PASSWORD, "test", NOW_MS, plants=["other"])
        yield generated


@contextmanager
def signed_in(api: Api, name: str) -> Iterator[httpx.Client]:
    """A client of its own, logged in to the console as `name`."""
    base = str(api.client.base_url).rstrip("/")
    with httpx.Client(base_url=base, timeout=60) as client:
        answer = client.post("/console/login", data={"name": name, "password": PASSWORD}, headers={"Origin": base})
        assert answer.status_code == 303, answer.text
        yield client


def cell(html: str, row_label: str) -> str:
    """The text of the first cell after the row header `row_label`."""
    match = re.search(r"<th scope=\"row\">" + re.escape(row_label) + r"</th><td[^>]*>(.*?)</td>", html)
    assert match, row_label
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_the_summary_shows_the_months_figures_written_to_influxdb_as_the_api_gives_them(api: Api) -> None:
    with signed_in(api, "eva") as eva:
        page_id = eva.get("/console/summary/kotim", params={"period": "2026-11"})
        page_en = eva.get("/console/summary/kotim", params={"period": "2026-11", "lang": "en"})
        index = eva.get("/console/summary", params={"period": "2026-11", "lang": "en"})
    assert page_id.status_code == 200 and page_en.status_code == 200 and index.status_code == 200
    id_html, en_html, index_html = (r.text.replace("&nbsp;", "\u00a0") for r in (page_id, page_en, index))
    assert '<html lang="id">' in id_html and '<html lang="en">' in en_html
    # eight batches of 12.345 kg on 28 November: 98.760 kg, half from each facility
    assert "0,099\u00a0t" in id_html and "0.099\u00a0t" in en_html
    assert cell(en_html, "RSUD dr. Murjani Sampit") == "0.049\u00a0t" and cell(en_html, "Puskesmas Baamang") == "0.049\u00a0t"
    by_facility = re.search(r'<table id="by-facility">.*?</table>', en_html, re.S)
    assert by_facility and by_facility.group(0).count("0.049\u00a0t") == 2 and ">4<" in by_facility.group(0)
    for quick in ("2026-11", "2026-10", "2026-Q4", "2026-Q3", "2026"):  # the period form's shortcuts, from 28 November 2026
        assert f'href="/console/summary/kotim?period={quick}&amp;lang=en"' in en_html, quick
    assert "A337-1" in en_html and "<svg" in en_html and 'role="img"' in en_html
    tonnage = api.get("/api/v1/plants/kotim/tonnage", Role.EVALUATOR, params={"period": "2026-11"}).json()
    uptime = api.get("/api/v1/plants/kotim/uptime", Role.EVALUATOR, params={"period": "2026-11"}).json()
    compliance = api.get("/api/v1/plants/kotim/compliance", Role.EVALUATOR, params={"period": "2026-11"}).json()
    assert tonnage["batches"] == 8 and f'{number(tonnage["tonnes"], 3, "en")}\u00a0t' in en_html
    assert cell(en_html, "Plant availability") == percent(uptime["plant_availability"], "en")
    assert cell(en_html, "Effective operating hours") == f'{number(uptime["operating_h"], 1, "en")}\u00a0h'
    assert re.search(r'<strong id="exceedances">(\d+)</strong>', en_html).group(1) == str(compliance["exceedances"])  # type: ignore[union-attr]
    assert "unconfirmed" in en_html and "belum dikonfirmasi" in id_html  # the Kep-03 limits
    assert "Pelampauan" in id_html and "Exceedances" not in id_html
    assert "/console/summary/kotim?period=2026-11" in index_html and "0.099\u00a0t" in index_html


def no_charts(html: str) -> str:
    """The report page without its charts' data: URLs (matplotlib dates each SVG it writes)."""
    return re.sub(r"data:image/svg\+xml;base64,[A-Za-z0-9+/=]+", "", html)


def test_the_report_downloads_through_the_session_not_a_key(api: Api) -> None:
    path = "/console/summary/kotim/report"
    with signed_in(api, "eva") as eva:
        pdf = eva.get(path, params={"period": "2026-11", "format": "pdf"})
        html = eva.get(path, params={"period": "2026-11", "format": "html", "lang": "en"})
        csv = eva.get(path, params={"period": "2026-Q4", "format": "csv", "lang": "en"})
        bad_format = eva.get(path, params={"period": "2026-11", "format": "exe"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == 'attachment; filename="kotim-2026-11-id.pdf"'
    api_html = api.get("/api/v1/plants/kotim/reports/2026-11", Role.EVALUATOR, params={"format": "html", "lang": "en"})
    api_csv = api.get("/api/v1/plants/kotim/reports/2026-Q4", Role.EVALUATOR, params={"format": "csv", "lang": "en"})
    assert html.status_code == 200 and "text/html" in html.headers["content-type"] and no_charts(html.text) == no_charts(api_html.text)
    assert '<html lang="en">' in html.text and "Pabrik Pengolahan Limbah Medis B3" in html.text
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert csv.status_code == 200 and csv.text.startswith("section,item,metric,value") and csv.text == api_csv.text
    assert bad_format.status_code == 422 and "pdf, html, csv" in bad_format.text
    with signed_in(api, "eva") as eva:  # the SISPEK upload, marked unofficial, before and after the uploader's tables exist
        before = eva.get("/console/summary", params={"lang": "en"}).text
        create_sispek_schema(api.ctx.alert_db)
        after = eva.get("/console/summary", params={"lang": "en"}).text
    assert "SISPEK upload (unofficial until confirmed with KLHK)" in before and "has never run on this database" in before
    assert "5-minute records: 0 pending, 0 sent, 0 failed" in after
    with signed_in(api, "eva") as eva:  # the summary leads to the plant's manifests (their monthly statement)
        summary = eva.get("/console/summary/kotim", params={"period": "2026-11", "lang": "en"})
        link = re.search(r'href="([^"]+)" id="manifests-link"', summary.text)
        assert link is not None and eva.get(link.group(1).replace("&amp;", "&")).status_code == 200
    # an API key is not a console session: to the login page
    keyed = api.client.get(path, params={"period": "2026-11", "format": "pdf"}, headers=api.auth(Role.ADMIN))
    assert keyed.status_code == 303 and keyed.headers["location"].startswith("/console/login")


def test_a_bad_period_is_a_422_page_and_another_plant_a_404(api: Api) -> None:
    with signed_in(api, "eva") as eva, signed_in(api, "lain") as outsider:
        answers = {p: eva.get("/console/summary/kotim", params={"period": p, "lang": "en"}) for p in
                   ["2026-13", "2026-Q5", "1900", "2026-11-28", "x" * 200, "9999-01"]}
        unknown = eva.get("/console/summary/nowhere")
        hidden = outsider.get("/console/summary/kotim")
        hidden_report = outsider.get("/console/summary/kotim/report", params={"format": "pdf"})
        listing = outsider.get("/console/summary")
    for period, answer in answers.items():
        assert answer.status_code == 422 and "cannot be read" in answer.text, period
    assert unknown.status_code == 404 and hidden.status_code == 404 and hidden_report.status_code == 404
    assert listing.status_code == 200 and "/console/summary/kotim" not in listing.text
    assert api.client.get("/console/summary").status_code == 303  # not logged in: the login page


@pytest.fixture
def eva(api: Api) -> Iterator[httpx.Client]:
    with signed_in(api, "eva") as client:
        yield client


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(period=st.text(max_size=20) | st.from_regex(r"\A\d{4}(-(Q\d|\d{2}))?\Z"),
       plant=st.sampled_from(["kotim", "other", "", ".."]) | st.text(min_size=1, max_size=70),
       fmt=st.sampled_from(["pdf", "html", "csv", "json", ""]) | st.text(max_size=10), lang=st.text(max_size=5))
def test_hostile_summary_queries_never_get_a_5xx(eva: httpx.Client, period: str, plant: str, fmt: str, lang: str) -> None:
    segment = quote(plant, safe="") or "x"
    for path, params in ((f"/console/summary/{segment}", {"period": period, "lang": lang}), ("/console/summary", {"period": period}),
                         (f"/console/summary/{segment}/report", {"period": period, "format": fmt, "lang": lang})):
        answer = eva.get(path, params=params)
        assert answer.status_code < 500, (path, params, answer.status_code, answer.text[:300])
    assert eva.get("/console/summary/kotim", params={"period": "2026-11"}).status_code == 200  # still answering


@needs_chromium
def test_the_summary_in_the_browser_passes_axe_and_is_photographed(api: Api, console_browser: WebDriver) -> None:
    base = str(api.client.base_url).rstrip("/")
    driver = fresh(console_browser)
    log_in(driver, base, "eva", PASSWORD, "en")
    driver.get(f"{base}/console/summary?period=2026-11&lang=en")
    assert_accessible(driver, "the summary index")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Kotawaringin Timur").click()
    waiting(driver, 10).until(lambda d: d.find_elements(By.ID, "h-tonnage"))
    assert "0.099" in driver.find_element(By.ID, "h-tonnage").find_element(By.XPATH, "..").text
    assert_accessible(driver, "a plant's summary")
    screenshots(driver, "summary")
    driver.get(f"{base}/console/summary/kotim?period=2026-Q4")
    assert_accessible(driver, "a plant's summary in Bahasa Indonesia")
    driver.get(f"{base}/console/summary/kotim?period=bad")
    assert_accessible(driver, "the bad-period page")
