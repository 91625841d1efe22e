"""The manifest page of the console on the real InfluxDB: the month's statement per hospital for every
role, the upload form for operators only (multipart, the session's CSRF token, same origin), the PDF
through the session, a bad month a 422 page, a plant the user does not read a 404."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from api.roles import Role
from api.users import UserStore
from tests.api_support import NOW_MS, Api, run_api
from tests.manifest_support import CSV_NOVEMBER, write_batches, xlsx_november
from wastewatch.plant import PlantCatalog
from wastewatch.store.influx import InfluxStore

PASSWORD = "tungku-sampit-2026"
PAGE = "/console/manifests/kotim"


@pytest.fixture
def api(influx_store: InfluxStore, catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    write_batches(influx_store)
    for served in run_api(influx_store, catalog, tmp_path):
        users = UserStore(served.ctx.alert_db)
        users.add("opa", Role.OPERATOR, PASSWORD, "test", NOW_MS)
        users.add("eva", Role.EVALUATOR, PASSWORD, "test", NOW_MS)
        users.add("lain", Role.AGENCY, PASSWORD, "test", NOW_MS, plants=["other"])
        yield served


@contextmanager
def signed_in(api: Api, name: str) -> Iterator[httpx.Client]:
    base = str(api.client.base_url).rstrip("/")
    with httpx.Client(base_url=base, timeout=60, headers={"Origin": base}) as client:
        answer = client.post("/console/login", data={"name": name, "password": PASSWORD})
        assert answer.status_code == 303, answer.text
        yield client


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def text_of(html: str, element_id: str) -> str:
    match = re.search(r'id="' + element_id + r'">(.*?)<', html)
    assert match, element_id
    return match.group(1)


def test_an_operator_uploads_and_sees_the_month_add_up(api: Api) -> None:
    with signed_in(api, "opa") as client:
        first = client.get(f"{PAGE}?month=2026-11&lang=en")
        assert first.status_code == 200 and 'id="mf-upload"' in first.text
        assert text_of(first.text, "mf-declared") == "0.0 kg"  # nothing imported yet; 234 kg weighed
        assert text_of(first.text, "mf-weighed") == "234.0 kg"
        files = {"file": ("nov.csv", CSV_NOVEMBER, "text/csv")}
        form = {"csrf": csrf_of(first), "lang": "en", "month": "2026-11"}
        done = client.post(f"{PAGE}/upload", data=form, files=files)
        assert done.status_code == 200, done.text
        assert "nov.csv: 2 stored" in done.text and "row 5: manifest KOTIM-BAD-03" in done.text
        client.post(f"{PAGE}/upload", data=form, files={"file": ("nov.xlsx", xlsx_november(), "application/octet-stream")})
        page = client.get(f"{PAGE}?month=2026-11&lang=en")
        # declared 120 + 100 + 30 = 250 kg against 234 kg weighed
        assert (text_of(page.text, "mf-declared"), text_of(page.text, "mf-difference")) == ("250.0 kg", "-16.0 kg")
        assert "KOTIM-DIFF-02 (Puskesmas Baamang, A337-1): declared 100 kg, received 88 kg in 2 batches, differs by 12.0 %" in page.text
        indonesian = client.get(f"{PAGE}?month=2026-11&lang=id")
        assert "250,0 kg" in indonesian.text and "jumlah berbeda" in indonesian.text
        bad = client.post(f"{PAGE}/upload", data=form, files={"file": ("letter.csv", b"hello\nthere\n", "text/csv")})
        assert bad.status_code == 422 and "required columns" in bad.text
        forged = client.post(f"{PAGE}/upload", data={**form, "csrf": "forged"}, files=files)
        assert forged.status_code == 403
        pdf = client.get(f"{PAGE}/pdf?month=2026-11&lang=id")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_an_evaluator_reads_but_cannot_upload_and_others_see_no_plant(api: Api) -> None:
    with signed_in(api, "eva") as client:
        page = client.get(f"{PAGE}?month=2026-11")
        assert page.status_code == 200 and 'id="mf-upload"' not in page.text
        refused = client.post(f"{PAGE}/upload", data={"csrf": csrf_of(client.get("/console/")), "lang": "id"},
                              files={"file": ("nov.csv", CSV_NOVEMBER, "text/csv")})
        assert refused.status_code == 403
        assert client.get(f"{PAGE}?month=2026-13").status_code == 422
        assert client.get("/console/manifests/nowhere").status_code == 404
    with signed_in(api, "lain") as client:
        assert client.get(PAGE).status_code == 404
    assert httpx.get(f"{api.client.base_url}{PAGE}", follow_redirects=False).status_code == 303
