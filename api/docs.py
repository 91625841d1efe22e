"""`/docs`: Swagger UI served by this API from the files of the `fastapi-offline` package, not a CDN.

FastAPI's own `/docs` loads its script from jsDelivr without Subresource Integrity (whoever serves
that file runs code on the page that holds an admin's key), and `/redoc` does the same; both are off.
The page's one inline script is allowed by its hash: the policy allows no other script, no other origin.
Without the package installed there is no `/docs` (the schema is still at `/openapi.json`).
"""

from __future__ import annotations

import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.headers import csp_hash

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def swagger_ui_files() -> Path | None:
    """The folder of Swagger UI's script and stylesheet that fastapi-offline ships, or None if it lacks them."""
    folder = Path(fastapi_offline.__file__).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def install_docs(app: FastAPI) -> bool:
    """Serve Swagger UI at /docs from local files under its own policy; False when they are missing."""
    files = swagger_ui_files()
    if files is None or app.openapi_url is None:
        return False
    app.mount(ASSETS_PATH, StaticFiles(directory=files), name="docs-assets")
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url, title=f"{app.title} - Swagger UI", oauth2_redirect_url=None,
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
    ).body
    html = bytes(page).decode("utf-8")
    hashes = " ".join(csp_hash(script) for script in INLINE_SCRIPT.findall(html))
    policy = (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})

    return True
