"""Shared by the console's browser tests: one headless Chromium (Debian's, through chromedriver) for the
whole session, logging in, screenshots at phone and desktop widths, and the axe-core check.

    from tests.console_browser import assert_accessible, console_browser, fresh, log_in  # noqa: F401 (fixture)

    def test_x(console_browser: WebDriver) -> None:
        driver = fresh(console_browser)          # no cookies of an earlier test, desktop width
        log_in(driver, base, "eva", PASSWORD)
        driver.get(f"{base}/console/summary")
        assert_accessible(driver, "summary")     # no serious or critical axe-core violation

`assert_accessible` injects the vendored axe-core (tests/vendor/axe-core/axe.min.js, MPL-2.0) into the
open page with `execute_script` (DevTools evaluation: the page's CSP does not apply to it, and the
application never serves the file) and runs every WCAG 2.x A/AA rule axe has.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(os.environ.get("WASTEWATCH_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / ".artifacts")) / "console"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
needs_chromium = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                    reason="Debian's chromium and chromium-driver (scripts/test.sh installs them)")
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
BLOCKING = ("serious", "critical")


def waiting(driver: WebDriver, timeout_s: float) -> WebDriverWait[WebDriver]:
    """A WebDriverWait that tries again when an element it read was replaced meanwhile: the console's pages
    refresh by swapping their fragments, so an element found a moment ago can be stale when its text is read."""
    return WebDriverWait(driver, timeout_s, ignored_exceptions=(StaleElementReferenceException,))


def new_driver() -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(60)
    return driver


@pytest.fixture(scope="session")
def console_browser() -> Iterator[WebDriver]:
    """One Chromium for every browser test of the session (starting one costs about a second)."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("Debian's chromium and chromium-driver (scripts/test.sh installs them)")
    driver = new_driver()
    yield driver
    driver.quit()


def fresh(driver: WebDriver) -> WebDriver:
    """The shared browser as a new visitor's: on a blank page, no cookies (of any test's server: cookies
    are per host, not per port), desktop width."""
    driver.get("about:blank")
    driver.delete_all_cookies()
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.set_window_size(*WIDTHS["desktop"])
    return driver


def log_in(driver: WebDriver, base: str, name: str, password: str, lang: str = "id") -> None:
    driver.get(f"{base}/console/login?lang={lang}")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    waiting(driver, 10).until(lambda d: "/console/" in d.current_url and "login" not in d.current_url)


def screenshots(driver: WebDriver, name: str) -> list[Path]:
    """The open page at phone (390 px) and desktop (1280 px) widths, as PNGs in .artifacts/console/; back at desktop width."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    written = []
    for label, (width, height) in WIDTHS.items():
        driver.set_window_size(width, height)
        path = ARTIFACTS / f"{name}-{label}.png"
        driver.save_screenshot(str(path))
        written.append(path)
    driver.set_window_size(*WIDTHS["desktop"])
    return written


def axe_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """axe-core's violations on the open page (WCAG 2.0-2.2 A and AA, and its best practices)."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done([{id: 'axe-error', "
        "impact: 'critical', help: String(e), nodes: []}]));"
    )
    return found


def assert_accessible(driver: WebDriver, what: str) -> None:
    """No axe-core violation of impact serious or critical on the open page, at phone and desktop widths;
    the message names each rule, its help text and the first elements it found."""
    problems = []
    for label, size in WIDTHS.items():
        driver.set_window_size(*size)
        for v in axe_violations(driver):
            if v.get("impact") in BLOCKING:
                targets = [n.get("target") for n in v.get("nodes", [])[:3]]
                problems.append(f"{label}: {v['id']} ({v['impact']}): {v.get('help')} at {targets}")
    driver.set_window_size(*WIDTHS["desktop"])
    assert problems == [], f"axe-core on {what} ({driver.current_url}):\n" + "\n".join(problems)
