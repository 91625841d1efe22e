"""The quarterly CEMS report (laporan triwulan) as the agency would file it: built from results stored in
the real InfluxDB (and SQLite), read back from the XLSX (openpyxl) and the PDF (pypdf): hourly and
daily averages with their status codes, data availability per parameter, valid days against the
75 % rule, exceedances; no value invented for an hour without one; Bahasa Indonesia only."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from api.reports.cems_quarter import CemsQuarter, CemsQuarterError, build_cems_quarter
from api.reports.cems_quarter_render import render_cems_quarter
from api.roles import Role
from api.summaries.periods import parse_period
from tests.api_support import run_api
from tests.servers import InfluxServer
from tests.test_reports import kotim  # fixture
from tests.test_summaries import ms, write_month
from wastewatch.compliance.quality import QualityCode
from wastewatch.compliance.results import AverageRecord
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Store
from wastewatch.store.influx import InfluxStore


def hourly(pollutant: str, start_ms: int, quality: QualityCode, value: float | None) -> AverageRecord:
    return AverageRecord("kotim", "id-data-availability", pollutant, "1h", start_ms, quality, value, value, 0.0, 12, 0, 12, "1")


def write_quarter(store: Store) -> None:
    # November of tests/test_summaries.py, per CEMS pollutant co and dust (id-data-availability days):
    # days 1-20 valid with 20 valid hours and 1 discarded, 21-25 malfunction (10 valid, 8 discarded),
    # 26-30 no waste. Valid hours 20 x 20 + 5 x 10 = 450, discarded 20 x 1 + 5 x 8 = 60: 450 / 510 = 88.2 %;
    # operating days 25, valid days 20: 20 / 25 = 80.0 % >= 75 %: "Ya".
    write_month(store)
    store.write([
        hourly("co", ms(2026, 11, 3, 9), QualityCode.VALID, 12.5).to_point(),
        hourly("dust", ms(2026, 11, 3, 10), QualityCode.MAINTENANCE, None).to_point(),
    ])


@pytest.fixture
def quarter(store: Store, kotim: PlantConfig) -> CemsQuarter:
    write_quarter(store)
    q = build_cems_quarter(store, kotim, parse_period("2026-Q4", kotim.zone), now_ms=ms(2027, 1, 2, 8))
    assert len(q.hours) == 92 * 24 and len(q.days) == 92  # October to December, every hour and day listed
    return q


def test_the_workbook_holds_availability_the_75_percent_verdict_and_every_hour_with_its_code(quarter: CemsQuarter) -> None:
    body, media = render_cems_quarter(quarter, "xlsx")
    assert media == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Ringkasan", "Rata-rata harian", "Rata-rata per jam", "Kode status"]
    summary = [[c for c in row if c is not None] for row in book["Ringkasan"].iter_rows(values_only=True)]
    assert summary[0][0].startswith("Laporan Triwulan CEMS: ")
    co = next(row for row in summary if row and row[0] == "CO")
    assert co[1:] == ["mg/Nm³", "450", "60", "88,2\u00a0%", "25", "20", "80,0\u00a0%", "Ya"]

    daily = list(book["Rata-rata harian"].iter_rows(values_only=True))
    header = daily[0]
    co_value, co_code, co_hours = (header.index(h) for h in ("CO (mg/Nm³)", "Kode CO", "Jam valid CO"))
    by_day = {row[0].date(): row for row in daily[1:]}
    assert len(by_day) == 92
    nov3, nov22, oct1 = by_day[datetime(2026, 11, 3).date()], by_day[datetime(2026, 11, 22).date()], by_day[datetime(2026, 10, 1).date()]
    assert (nov3[co_value], nov3[co_code], nov3[co_hours]) == (5.0, "Valid", 20)
    assert (nov22[co_value], nov22[co_code], nov22[co_hours]) == (None, "Gangguan alat", 10)
    assert (oct1[co_value], oct1[co_code], oct1[co_hours]) == (None, "Tidak ada data", 0)  # nothing stored: not a zero

    hours = list(book["Rata-rata per jam"].iter_rows(values_only=True))
    header = hours[0]
    co_value, co_code, dust_value, dust_code = (header.index(h) for h in ("CO (mg/Nm³)", "Kode CO", "Debu (mg/Nm³)", "Kode Debu"))
    by_hour = {row[0]: row for row in hours[1:]}
    assert len(by_hour) == 92 * 24
    nine, ten = by_hour[datetime(2026, 11, 3, 9)], by_hour[datetime(2026, 11, 3, 10)]  # local time, as the plant's clock
    assert (nine[co_value], nine[co_code]) == (12.5, "Valid")
    assert (ten[dust_value], ten[dust_code]) == (None, "Pemeliharaan/kalibrasi")
    assert (ten[co_value], ten[co_code]) == (None, "Tidak ada data")
    legend = {row[0]: row[1] for row in book["Kode status"].iter_rows(min_row=2, values_only=True)}
    assert {code.value for code in QualityCode} | {"no_data"} == set(legend)


def test_the_pdf_reads_in_indonesian_with_the_verdict_the_codes_and_the_hourly_table(quarter: CemsQuarter) -> None:
    reader = PdfReader(io.BytesIO(render_cems_quarter(quarter, "pdf")[0]))
    content = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    for phrase in ("Laporan Triwulan CEMS", "Periode 2026-Q4: 01-10-2026 s.d. 31-12-2026", "Ketersediaan data per parameter",
                   "88,2 %", "80,0 %", "Ya", "Kode status", "G: Gangguan alat", "Rata-rata harian", "Rata-rata per jam",
                   "03-11-2026 09:00 12,50 V", "Pelampauan baku mutu"):
        assert phrase in content, phrase
    for english in ("Valid hours", "Exceedances", "Data availability", "No data", "Quarterly", "Status codes"):
        assert english not in content, english
    assert len(reader.pages) > 20  # 2,208 hours on landscape pages


def test_only_a_quarter_makes_a_cems_report(store: Store, kotim: PlantConfig) -> None:
    with pytest.raises(CemsQuarterError, match="quarterly"):
        build_cems_quarter(store, kotim, parse_period("2026-11", kotim.zone), now_ms=ms(2026, 12, 2))


def test_the_api_serves_the_workbook_and_the_pdf_to_an_evaluator(store: Store, catalog: PlantCatalog, tmp_path: Path) -> None:
    write_quarter(store)
    for api in run_api(store, catalog, tmp_path):
        workbook = api.get("/api/v1/plants/kotim/reports/2026-Q4/cems", Role.EVALUATOR)
        assert workbook.status_code == 200 and workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert 'filename="kotim-2026-Q4-cems.xlsx"' in workbook.headers["content-disposition"]
        assert "Ringkasan" in load_workbook(io.BytesIO(workbook.content)).sheetnames
        pdf = api.get("/api/v1/plants/kotim/reports/2026-Q4/cems?format=pdf", Role.EVALUATOR)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_command_writes_the_workbook(influx_store: InfluxStore, influx: InfluxServer, tmp_path: Path) -> None:
    write_quarter(influx_store)
    out = tmp_path / "kotim-2026-Q4.xlsx"
    base = {key: value for key, value in os.environ.items() if not key.startswith("WASTEWATCH_")}
    env = {**base, "WASTEWATCH_INFLUX_URL": influx.url, "WASTEWATCH_INFLUX_DATABASE": influx_store.database,
           "WASTEWATCH_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "launch.cli", "report", "--cems", "--period", "2026-Q4", "--format", "xlsx",
                           "-o", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert load_workbook(out).sheetnames[0] == "Ringkasan"
    refused = subprocess.run([sys.executable, "-m", "launch.cli", "report", "--cems", "--period", "2026-11", "--format", "xlsx"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "quarterly" in refused.stderr
