"""What the API shows without a key, and what its pages load: `/ready` says only ready or not per
component (hosts and error texts for an admin key only); `/docs` loads Swagger UI from this server, not
a CDN; the HTML report renders under the Content-Security-Policy the API sends with it (checked here
as a browser enforces it: every inline script and stylesheet needs its hash in the policy, style
attributes are refused, images only from the sources the policy names)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from api.roles import Role
from tests.api_support import Api, run_api, seed_plant_day
from wastewatch.plant import PlantCatalog
from wastewatch.store.sqlite import SqliteStore


@pytest.fixture
def api(catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    store = SqliteStore(tmp_path / "ts.sqlite3")
    seed_plant_day(store)
    # a broker on a port nothing listens on: /ready has a failure (with a host and an error text) to hide
    yield from run_api(store, catalog, tmp_path, mqtt_url="mqtt://127.0.0.1:9")
    store.close()


# -- /ready -----------------------------------------------------------------------------------------------


def test_open_readiness_names_components_and_states_only(api: Api) -> None:
    ready = api.client.get("/ready")
    assert ready.status_code == 503
    body = ready.json()
    assert body["checks"] == {"store": "ok", "broker": "failed", "alert_database": "ok"}
    assert body["status"] == "failed: broker"
    assert "127.0.0.1" not in ready.text and ":9" not in ready.text and "refused" not in ready.text.lower()
    assert "details" not in body
    for role in (Role.EVALUATOR, Role.OPERATOR):  # a key below admin learns no more
        assert api.client.get("/ready", headers=api.auth(role)).json() == body
    assert api.client.get("/ready", headers={"Authorization": "Bearer ww_00000000_" + "x" * 43}).json() == body


def test_an_admin_key_sees_why_a_component_failed(api: Api) -> None:
    ready = api.client.get("/ready", headers=api.auth(Role.ADMIN))
    assert ready.status_code == 503
    details = ready.json()["details"]
    assert details["broker"].startswith("127.0.0.1:9: ")
    assert ready.json()["checks"]["broker"] == "failed"


# -- pages under the Content-Security-Policy --------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inline_scripts: list[str] = []
        self.inline_styles: list[str] = []
        self.style_attributes: list[tuple[str, str]] = []
        self.handler_attributes: list[tuple[str, str]] = []
        self.loads: list[tuple[str, str]] = []  # (directive, url)
        self._open: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "style" in a:
            self.style_attributes.append((tag, a["style"]))
        self.handler_attributes += [(tag, k) for k in a if k.startswith("on")]
        if tag == "script" and "src" in a:
            self.loads.append(("script-src", a["src"]))
        elif tag in ("script", "style"):
            self._open, self._text = tag, []
        if tag == "img":
            self.loads.append(("img-src", a.get("src", "")))
        if tag == "link" and "stylesheet" in a.get("rel", ""):
            self.loads.append(("style-src", a["href"]))
        if tag == "link" and "icon" in a.get("rel", ""):
            self.loads.append(("img-src", a["href"]))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open == tag:
            (self.inline_scripts if tag == "script" else self.inline_styles).append("".join(self._text))
            self._open = None


def policy(header: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


def _sources(csp: dict[str, list[str]], directive: str) -> list[str]:
    return csp.get(directive, csp.get("default-src", ["'none'"]))


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _allowed(url: str, sources: list[str]) -> bool:
    if url.startswith("data:"):
        return "data:" in sources
    if url.startswith("/") and not url.startswith("//"):
        return "'self'" in sources
    return any(url.startswith(s) for s in sources if s.startswith("https://"))


def assert_renders_under_its_csp(html: str, header: str) -> _Page:
    """What a browser would refuse of this page under this policy: nothing."""
    csp = policy(header)
    page = _Page()
    page.feed(html)
    scripts, styles = _sources(csp, "script-src"), _sources(csp, "style-src")
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, header
    for script in page.inline_scripts:
        assert _hash(script) in scripts, ("inline script without its hash in the policy", script[:80])
    for style in page.inline_styles:
        assert _hash(style) in styles, ("inline stylesheet without its hash in the policy", style[:80])
    assert "'unsafe-inline'" in styles or not page.style_attributes, page.style_attributes[:3]
    assert not page.handler_attributes, page.handler_attributes[:3]
    for directive, url in page.loads:
        assert _allowed(url, _sources(csp, directive)), (directive, url[:80], header)
    return page


def test_the_html_report_renders_under_the_apis_csp(api: Api) -> None:
    response = api.get("/api/v1/plants/kotim/reports/2026-11?format=html&lang=en", role=Role.EVALUATOR)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    header = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in header
    page = assert_renders_under_its_csp(response.text, header)
    charts = [url for directive, url in page.loads if directive == "img-src"]
    assert len(charts) == 2 and all(url.startswith("data:image/svg+xml;base64,") for url in charts)
    assert page.inline_styles  # the page keeps its print layout


def test_docs_serve_swagger_ui_from_this_server_under_a_csp(api: Api) -> None:
    docs = api.client.get("/docs")
    assert docs.status_code == 200
    header = docs.headers["content-security-policy"]
    assert "http" not in header and "cdn" not in header, header
    page = assert_renders_under_its_csp(docs.text, header)
    assert "http://" not in docs.text and "https://" not in docs.text
    loaded = [url for _, url in page.loads]
    assert any(u.endswith(".js") for u in loaded) and any(u.endswith(".css") for u in loaded)
    for url in loaded:
        asset = api.client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
    assert api.client.get("/openapi.json").status_code == 200
    assert api.client.get("/redoc").status_code == 404  # ReDoc loads from a CDN: not served
