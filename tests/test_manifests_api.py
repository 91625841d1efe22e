"""The manifest routes on the served app with the real InfluxDB: the upload (operator; a bad file is a
422 with its reason, bad rows come back with their numbers, hostile CSV never a 5xx), the month's
manifests and the statement as JSON, CSV and PDF."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from api.roles import Role
from tests.api_support import Api, run_api
from tests.manifest_support import CSV_NOVEMBER, write_batches, xlsx_november
from wastewatch.plant import PlantCatalog
from wastewatch.store.influx import InfluxStore

UPLOAD = "/api/v1/plants/kotim/manifests"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def api(influx_store: InfluxStore, catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    write_batches(influx_store)
    # the served app's clock is 28 Nov 2026 12:00 local: every November manifest is past its grace period
    yield from run_api(influx_store, catalog, tmp_path)


def upload(api: Api, name: str, data: bytes, role: Role = Role.OPERATOR, media: str = "text/csv") -> httpx.Response:
    return api.client.post(UPLOAD, files={"file": (name, data, media)}, headers=api.auth(role))


def test_the_upload_stores_the_good_rows_and_names_the_bad_ones(api: Api) -> None:
    first = upload(api, "nov.csv", CSV_NOVEMBER)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["stored"] == ["KOTIM-OK-01", "KOTIM-DIFF-02"]
    assert [p["row"] for p in body["problems"]] == [4, 5, 6]
    assert "abc" in body["problems"][1]["reason"]
    second = upload(api, "nov.xlsx", xlsx_november(), media=XLSX).json()
    assert second["stored"] == ["KOTIM-NEVER-05"] and [d["manifest_no"] for d in second["duplicates"]] == ["KOTIM-OK-01"]
    again = upload(api, "nov.csv", CSV_NOVEMBER).json()
    assert again["seen_before"] and again["stored"] == [] and again["already_stored"] == ["KOTIM-OK-01", "KOTIM-DIFF-02"]

    listed = api.get(f"{UPLOAD}?month=2026-11", Role.AGENCY).json()["manifests"]
    assert {m["manifest_no"]: m["state"] for m in listed} == {
        "KOTIM-DIFF-02": "quantity_differs", "KOTIM-NEVER-05": "never_received", "KOTIM-OK-01": "matched"}

    statement = api.get(f"{UPLOAD}/statement?month=2026-11", Role.EVALUATOR).json()
    # declared 120 + 100 + 30 = 250 kg; weighed 121 + 88 + 25 = 234 kg
    assert (statement["declared_kg"], statement["weighed_kg"], statement["difference_kg"]) == (250.0, 234.0, -16.0)
    assert statement["bunker_change_kg"] is None
    baamang = next(f for f in statement["facilities"] if f["facility"] == "puskesmas-baamang")
    assert (baamang["declared_kg"], baamang["received_kg"], baamang["open_discrepancies"]) == (100.0, 88.0, 1)
    assert "12.0 %" in baamang["open"][0]["message"]

    rows = list(csv.DictReader(io.StringIO(api.get(f"{UPLOAD}/statement?month=2026-11&format=csv", Role.EVALUATOR).text)))
    assert [(r["facility"], r["declared_kg"], r["weighed_kg"]) for r in rows] == [
        ("rsud-murjani", "120.0", "121.0"), ("puskesmas-baamang", "100.0", "88.0"),
        ("puskesmas-ketapang", "30.0", "0.0"), ("klinik-perkebunan", "0.0", "25.0")]
    for lang, words in (("id", ("Neraca manifes", "Dideklarasikan (manifes): 100,0 kg", "88,0 kg", "jumlah berbeda")),
                        ("en", ("Monthly waste manifest balance", "Declared (manifests): 100.0 kg", "88.0 kg", "quantity differs"))):
        pdf = api.get(f"{UPLOAD}/statement/pdf?month=2026-11&facility=puskesmas-baamang&lang={lang}", Role.EVALUATOR)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        content = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).split())
        for word in (*words, "Puskesmas Baamang", "KOTIM-DIFF-02"):
            assert word in content, (word, content[:500])


def test_only_an_operator_uploads(api: Api) -> None:
    for role in (Role.EVALUATOR, Role.AGENCY):
        assert upload(api, "nov.csv", CSV_NOVEMBER, role).status_code == 403
    assert api.client.post(UPLOAD, files={"file": ("nov.csv", CSV_NOVEMBER, "text/csv")}).status_code == 401


@pytest.mark.parametrize(("name", "data", "words"), [
    ("empty.csv", b"", "empty"),
    ("binary.csv", b"\x00\x01\x02\x03" * 40, "NUL"),
    ("broken.xlsx", b"PK\x03\x04 not really a workbook", "XLSX"),
    ("notes.csv", b"dear operator,\nplease find attached\n", "required columns"),
])
def test_a_bad_file_is_a_422_that_says_why(api: Api, name: str, data: bytes, words: str) -> None:
    answer = upload(api, name, data)
    assert answer.status_code == 422, answer.text
    assert words in answer.json()["detail"]


def test_a_request_without_a_file_is_a_422(api: Api) -> None:
    answer = api.client.post(UPLOAD, data={"other": "x"}, headers=api.auth(Role.OPERATOR))
    assert answer.status_code == 422
    assert api.get(f"{UPLOAD}/statement?month=2026-13", Role.EVALUATOR).status_code == 422
    assert api.get(f"{UPLOAD}/statement?month=2026-11&facility=nowhere", Role.EVALUATOR).status_code == 422


HEADER = "manifest no,generator,declared kg,shipped,received,waste code\n"
cells = st.one_of(st.text(max_size=25), st.sampled_from(["rsud-murjani", "RSUD dr. Murjani Sampit", "1,5", "2026-11-10", "\"", ";", "\r"]))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.lists(st.lists(cells, max_size=7).map(lambda r: ",".join(r)), max_size=8).map("\n".join),
       raw=st.binary(max_size=200), with_header=st.booleans())
def test_hostile_csv_is_never_a_server_error_and_the_api_still_answers(api: Api, body: str, raw: bytes, with_header: bool) -> None:
    data = ((HEADER if with_header else "") + body).encode("utf-8", "surrogatepass") + raw
    answer = upload(api, "hostile.csv", data)
    assert answer.status_code in (200, 422), answer.text
    if answer.status_code == 200:
        assert all(isinstance(p["row"], int) for p in answer.json()["problems"])
    assert api.get(f"{UPLOAD}/statement?month=2026-11", Role.EVALUATOR).status_code == 200
