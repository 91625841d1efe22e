"""The public transparency page against the real API and InfluxDB: 404 unless the plant is listed in
WASTEWATCH_API_PUBLIC_PLANTS; when it is, its figures equal the JSON API's for the same data, it is
cached (in process and by Cache-Control) and sends the configured frame-ancestors, no cookie and
nothing internal; hostile plant ids and languages never get a 5xx. In Chromium it passes axe-core,
is photographed, and another origin may frame it only when frame-ancestors names it."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from api.console.pages import render
from api.console.public import public_view
from api.roles import Role
from api.settings import ApiSettings
from api.users import UserStore
from launch.ledger import prepare_database
from tests.api_support import NOW, NOW_MS, Api, at, run_api, seed_plant_day
from tests.console_browser import assert_accessible, console_browser, fresh, needs_chromium, screenshots
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import DayRecord
from wastewatch.ledger.check import seal
from wastewatch.ledger.hashing import GENESIS
from wastewatch.ledger.table import append_day
from wastewatch.plant import PlantCatalog
from wastewatch.points import Store
from wastewatch.records import Batch
from wastewatch.runtime import free_port

PAGE = "/public/plants/kotim"
ANCESTORS = "'self' http://127.0.0.1:*"


def seed(store: Store) -> None:
    seed_plant_day(store)
    store.write([DayRecord("kotim", "id-data-availability", "co", NOW.date(), at(0), "1h", QualityCode.VALID, 30.0, 20, 0, "t").to_point(),
                 DayRecord("kotim", "eu-ied-annex-vi", "so2", NOW.date(), at(0), "30min", QualityCode.VALID, 75.0, 40, 0, "t").to_point()])


@pytest.fixture
def public(influx_store: Store, catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    seed(influx_store)
    for generated in run_api(influx_store, catalog, tmp_path, public_plants=["kotim"], public_frame_ancestors=ANCESTORS):
        UserStore(generated.ctx.alert_db).add("budi-rahasia", Role.OPERATOR, "tungku-sampit-2026", "test", NOW_MS)
        yield generated


@pytest.fixture
def closed(influx_store: Store, catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    yield from run_api(influx_store, catalog, tmp_path)


def data(html: str, where: str, cls: str) -> str:
    """The `value` of the `<data class=cls>` inside the element with id `where`."""
    block = re.search(rf'id="{re.escape(where)}"(.*?)</tr>', html, re.S)
    assert block, where
    found = re.search(rf'<data class="{cls}" value="([^"]*)"', block.group(1))
    assert found, (where, cls)
    return found.group(1)


def data_id(html: str, ident: str) -> str:
    found = re.search(rf'<data id="{ident}" value="([^"]*)"', html)
    assert found, ident
    return found.group(1)


def test_the_page_is_a_404_unless_the_plant_is_made_public(closed: Api) -> None:
    off = closed.client.get(PAGE)
    assert off.status_code == 404 and "tidak tersedia" in off.text and "set-cookie" not in off.headers
    assert closed.client.get("/public/plants/nowhere").text == off.text  # the same answer: nothing learned


def test_the_public_figures_equal_the_apis_for_the_same_data(public: Api) -> None:
    page = public.client.get(PAGE, params={"lang": "en"})
    assert page.status_code == 200 and '<html lang="en">' in page.text
    html = page.text
    so_far = {"start": "2026-11-01T00:00:00+07:00", "end": "now"}  # this month up to now (the API's clock: NOW)
    tonnage = public.get("/api/v1/plants/kotim/tonnage", Role.EVALUATOR, params=so_far).json()
    uptime = public.get("/api/v1/plants/kotim/uptime", Role.EVALUATOR, params=so_far).json()
    quarter = public.get("/api/v1/plants/kotim/uptime", Role.EVALUATOR, params={"period": "2026-Q4"}).json()
    compliance = public.get("/api/v1/plants/kotim/compliance", Role.EVALUATOR, params=so_far).json()
    days = public.get("/api/v1/plants/kotim/averages", Role.AGENCY, params={"period": "2026-11-28", "averaging": "day"}).json()
    state = public.get("/api/v1/plants/kotim/state", Role.AGENCY).json()
    assert float(data_id(html, "tonnes")) == tonnage["tonnes"] == pytest.approx(0.09876)
    assert float(data_id(html, "plant-availability")) == uptime["plant_availability"]
    assert float(data_id(html, "operating-h")) == uptime["operating_h"] == 6.0  # burning since 06:00, now 12:00
    assert f'data-state="{state["state"]}"' in html and state["state"] == "burning"
    judged = 0
    for p in compliance["pollutants"]:
        for lim in p["limits"]:
            if lim["rule"] not in ("D100", "D97"):
                continue
            key = f'row-{p["profile"]}-{p["pollutant"]}-{lim["rule"]}'
            assert int(data(html, key, "days")) == lim["valid_averages"] and int(data(html, key, "over")) == lim["exceedances"]
            judged += lim["valid_averages"]
            today = [r["value"] for r in days["averages"] if (r["profile"], r["pollutant"]) == (p["profile"], p["pollutant"])
                     and r["quality"] == "valid"]
            if today:
                assert float(data(html, key, "today")) == today[0]
    assert judged >= 2  # CO and SO2 today, judged against the EU daily limits
    so2 = re.search(r'id="row-eu-ied-annex-vi-so2-D100".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "75.0\u00a0mg/Nm³" in so2 and ">above<" in so2 and ">not compliant<" in so2  # 75 over the daily 50
    co = re.search(r'id="row-eu-ied-annex-vi-co-D97".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    assert ">within<" in co and ">compliant<" in co
    assert "unconfirmed" not in html  # every daily limit of kotim's profiles is confirmed (Kep-03's are hourly)
    (co_quarter,) = [q for p in quarter["data_availability"] if p["pollutant"] == "co" for q in p["quarters"]]
    assert int(data(html, "avail-co", "valid")) == co_quarter["valid_days"] == 1
    assert int(data(html, "avail-co", "operating")) == co_quarter["operating_days"]


def test_an_unconfirmed_daily_limit_is_flagged_in_both_languages(public: Api) -> None:
    plant = public.ctx.catalog.get("kotim")
    assert plant is not None
    for lang, flag in (("en", "unconfirmed"), ("id", "belum dikonfirmasi")):
        view = public_view(public.ctx, plant, lang)  # type: ignore[arg-type]
        view["rows"][0]["confirmed"] = False  # as a permit's [U] limit would be
        html = render("public_plant.html.j2", lang, title="t", user=None, v=view)
        row = re.search(rf'id="row-{view["rows"][0]["key"]}".*?</tr>', html, re.S)
        assert row and f'<strong class="warn">{flag}</strong>' in row.group(0) and html.count(f">{flag}<") == 1


def test_the_page_is_cached_embeddable_as_configured_and_says_nothing_internal(public: Api) -> None:
    first = public.client.get(PAGE)
    assert first.headers["cache-control"] == "public, max-age=60" and "set-cookie" not in first.headers
    policy = first.headers["content-security-policy"]
    assert f"frame-ancestors {ANCESTORS}" in policy and "default-src 'none'" in policy
    assert "x-frame-options" not in first.headers and first.headers["cross-origin-resource-policy"] == "cross-origin"
    console = public.client.get("/console/login")
    assert "frame-ancestors 'none'" in console.headers["content-security-policy"] and console.headers["x-frame-options"] == "DENY"
    for secret in ("budi-rahasia", "-key", "<form", "<script", "alert"):
        assert secret not in first.text, secret
    public.store.write([Batch("kotim", "late", at(11), 1000.0, "rsud-murjani", "A337-1").to_point()])
    assert public.client.get(PAGE).text == first.text  # within the minute: the page computed once
    now = NOW_MS / 1000 + 61
    public.ctx.clock = lambda: now
    assert float(data_id(public.client.get(PAGE).text, "tonnes")) == pytest.approx(1.09876)


def test_frame_ancestors_takes_sources_only() -> None:
    for bad in ["'self'; script-src *", "'self'\r\nSet-Cookie: x=1", "", "https://a.example, https://b.example"]:
        with pytest.raises(ValidationError):
            ApiSettings(public_frame_ancestors=bad)
    assert ApiSettings().public_frame_ancestors == "'none'" and ApiSettings().public_plants == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plant=st.sampled_from(["kotim", "other", "KOTIM", "kotim "]) | st.text(min_size=1, max_size=80), lang=st.text(max_size=8))
def test_hostile_plant_ids_and_languages_never_get_a_5xx(public: Api, plant: str, lang: str) -> None:
    answer = public.client.get(f"/public/plants/{quote(plant, safe='')}", params={"lang": lang}, follow_redirects=True)  # "0/": to "0"
    assert answer.status_code == (200 if plant == "kotim" else 404), (plant, answer.status_code)
    assert "set-cookie" not in answer.headers


class _Parent(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@needs_chromium
def test_the_public_page_in_the_browser_passes_axe_and_another_origin_may_frame_it(
    public: Api, console_browser: WebDriver, tmp_path: Path,
) -> None:
    base = str(public.client.base_url).rstrip("/")
    driver = fresh(console_browser)
    driver.get(f"{base}{PAGE}")
    assert "Kotawaringin Timur" in driver.find_element(By.TAG_NAME, "h1").text
    assert_accessible(driver, "the public page")
    screenshots(driver, "public")
    driver.get(f"{base}{PAGE}?lang=en")
    assert_accessible(driver, "the public page in English")
    # a regency's site on another origin embeds it: allowed by http://127.0.0.1:*
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(f'<!doctype html><html lang="en"><title>regency</title><iframe id="ww" src="{base}{PAGE}" '
                                     'title="wastewatch" width="800" height="600"></iframe>'
                                     f'<iframe id="console" src="{base}/console/login" title="console" width="400" height="300"></iframe></html>')
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), partial(_Parent, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        driver.get(f"http://127.0.0.1:{port}/index.html")
        driver.switch_to.frame(driver.find_element(By.ID, "ww"))
        framed = driver.find_element(By.TAG_NAME, "body").text
        driver.switch_to.default_content()
        driver.switch_to.frame(driver.find_element(By.ID, "console"))
        console_form = driver.find_elements(By.ID, "password")
        driver.switch_to.default_content()
    finally:
        server.shutdown()
        server.server_close()
    assert "Kotawaringin Timur" in framed
    assert console_form == []  # the console's frame-ancestors 'none': the browser refuses to show it


def test_the_page_shows_the_last_sealed_days_chain_hash(public: Api) -> None:
    db = public.ctx.alert_db
    assert "sealed-chain" not in public.client.get("/public/plants/kotim?lang=en").text  # nothing sealed yet
    public.app.state.public_pages = None  # the page is cached for a minute: start the cache again, as after that minute
    prepare_database(db)
    first = seal("kotim", NOW.date() - timedelta(days=2), [], GENESIS, {}, {}, NOW_MS)
    second = seal("kotim", NOW.date() - timedelta(days=1), [], first.chain, {}, {}, NOW_MS)
    for day in (first, second):
        append_day(db, day)
    for lang, words in (("en", "Sealed records"), ("id", "Catatan tersegel")):
        page = public.client.get(f"/public/plants/kotim?lang={lang}").text
        assert words in page and f'<code id="sealed-chain">{second.chain}</code>' in page, page[-1500:]
        assert f'<span id="sealed-day">{second.day.isoformat()}</span>' in page
