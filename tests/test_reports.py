"""Reports from real stored data: JSON, CSV and HTML carry the figures; the PDF renders and its text
(pypdf) shows the key figures in both languages."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from alerts.schema import open_database
from api.reports.render import render_report
from api.reports.report import build_report
from tests.test_summaries import FAULT_DAY, add_alert, ms, write_month
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import Store
from wastewatch.records import Batch
from wastewatch.relational import Database
from wastewatch.settings import Settings


@pytest.fixture
def kotim(catalog: PlantCatalog) -> PlantConfig:
    plant = catalog.get("kotim")
    assert plant is not None
    return plant


@pytest.fixture
def alert_db(tmp_path: Path) -> Database:
    return open_database(Settings(data_dir=tmp_path, alerts_db_url=None))


def write_november(store: Store, db: Database) -> None:
    write_month(store)  # states and days of tests/test_summaries.py: availability 338.5 h of 720 h
    store.write([
        Batch("kotim", "b1", ms(2026, 11, 3, 9), 1250.500, "rsud-murjani", "A337-1").to_point(),
        Batch("kotim", "b2", ms(2026, 11, 17, 10), 740.250, "puskesmas-baamang", "A337-2").to_point(),
        Batch("kotim", "b3", ms(2026, 11, 30, 23, 30), 9.250, "rsud-murjani", "A337-1").to_point(),
    ])
    add_alert(db, "fan_trip", "critical", "process", ms(2026, 11, FAULT_DAY, 11, 55), ms(2026, 11, FAULT_DAY, 12, 5), None)


# total mass: 1250.500 + 740.250 + 9.250 = 2000.000 kg = 2.000 t
TOTAL_T = (1250500 + 740250 + 9250) / 1_000_000
# plant availability: (29 × 11.5 h + 5 h) / 720 h = 338.5 / 720 = 47.013… % → "47.0 %" / "47,0 %"
AVAILABILITY_PCT = (29 * 11.5 + 5) / 720 * 100


def test_json_csv_and_html_carry_the_figures(store: Store, kotim: PlantConfig, alert_db: Database) -> None:
    write_november(store, alert_db)
    report = build_report(store, kotim, "2026-11", alert_db=alert_db, now_ms=ms(2026, 12, 1, 7))

    body, media = render_report(report, "json")
    data = json.loads(body)
    assert media == "application/json"
    assert data["tonnage"]["total_g"] == 1250500 + 740250 + 9250 == 2_000_000
    assert data["tonnage"]["total_t"] == TOTAL_T == 2.0
    assert data["tonnage"]["facilities_served"] == ["rsud-murjani", "puskesmas-baamang"]
    assert data["uptime"]["plant_availability"] == pytest.approx(AVAILABILITY_PCT / 100)
    assert data["alerts"]["median_ack_s"] == 600.0  # acknowledged 10 min after it was raised
    assert data["compliance"]["profiles"][0]["id"] == "eu-ied-annex-vi"

    body, media = render_report(report, "csv")
    rows = {(r["section"], r["item"], r["metric"]): r["value"] for r in csv.DictReader(io.StringIO(body.decode()))}
    assert media.startswith("text/csv")
    assert rows[("tonnage", "total", "mass_g")] == "2000000"
    assert rows[("tonnage_facility", "rsud-murjani", "mass_g")] == str(1250500 + 9250)
    assert rows[("tonnage_day", "2026-11-30", "mass_g")] == "9250"  # 23:30 local on the last day

    for lang, total, availability, heading in (
        ("en", "2.000 t", "47.0\u00a0%", "Waste treated"), ("id", "2,000 t", "47,0\u00a0%", "Limbah yang diolah"),
    ):  # a no-break space binds the number to its unit
        assert f"{AVAILABILITY_PCT:.1f}" == "47.0"
        html, media = render_report(report, "html", lang)
        page = html.decode()
        assert media.startswith("text/html")
        assert total in page and availability in page and heading in page
        assert page.count("src=\"data:image/svg+xml;base64,") == 2  # tonnage per day and per facility, as images
        assert "RSUD dr. Murjani Sampit" in page


def test_pdf_renders_key_figures_in_both_languages(store: Store, kotim: PlantConfig, alert_db: Database) -> None:
    write_november(store, alert_db)
    report = build_report(store, kotim, "2026-11", alert_db=alert_db, now_ms=ms(2026, 12, 1, 7))
    for lang, total, availability, words in (
        ("en", "2.000 t", "47.0 %", "Smart Environment contribution"),
        ("id", "2,000 t", "47,0 %", "Kontribusi Smart Environment"),
    ):
        body, media = render_report(report, "pdf", lang)
        assert media == "application/pdf" and body.startswith(b"%PDF")
        reader = PdfReader(io.BytesIO(body))
        content = " ".join(page.extract_text() for page in reader.pages)
        assert total in content, content[:500]
        assert availability in content
        assert words in content
        assert any(page.images for page in reader.pages)  # the charts


def test_quarterly_and_annual_reports_group_by_week_and_month(store: Store, kotim: PlantConfig) -> None:
    store.write([Batch("kotim", "b1", ms(2026, 11, 30, 23, 30), 9.250, "rsud-murjani").to_point()])
    quarter = build_report(store, kotim, "2026-Q4")
    year = build_report(store, kotim, "2026")
    assert quarter.tonnage.by == "week" and year.tonnage.by == "month"
    assert [b.key for b in year.tonnage.buckets] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert {b.key: b.mass_g for b in year.tonnage.buckets}["2026-11"] == 9250
    assert quarter.alerts is None
    body, _ = render_report(year, "html", "id")
    assert "Basis data peringatan tidak tersedia" in body.decode()


# -- CSV formula injection: text from devices (waste codes, facility ids) never starts a formula ------------



FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
STORABLE = st.text(max_size=20).filter(lambda t: t.isprintable() and not t.endswith("\\"))
"""What a store tag can hold (wastewatch.points.check_tag_value)."""
HOSTILE_TEXT = st.one_of(
    st.sampled_from(["=cmd|'/C calc'!A", "+SUM(1,2)", "-2+3", "@SUM(A1)", "=HYPERLINK(\"http://x\")"]),
    st.builds(lambda c, rest: c + rest, st.sampled_from("=+-@"), STORABLE),
)


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return cell.strip() == cell and cell.lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity")


def assert_no_formula(text_csv: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text_csv)))
    for row in rows:
        for cell in row:
            assert is_number(cell) or not cell.startswith(FORMULA_START), (cell, row)
    return rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=HOSTILE_TEXT, source=HOSTILE_TEXT)
def test_report_csv_never_starts_a_cell_with_a_formula(kotim: PlantConfig, code: str, source: str) -> None:
    from api.csvcell import NUMBER
    from wastewatch.store.sqlite import SqliteStore

    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "ts.sqlite3")
        try:
            store.write([Batch("kotim", "b1", ms(2026, 11, 3, 9), 10.0, source, code).to_point()])
            body, _ = render_report(build_report(store, kotim, "2026-11"), "csv")
        finally:
            store.close()
    rows = assert_no_formula(body.decode())
    items = {(r[0], r[1]) for r in rows}
    # Escaped with a leading quote, the text otherwise kept; a code that is a plain number ("+0") is a
    # value to a spreadsheet, not a formula, and stays as it is (api.csvcell's one rule).
    for kind, text in (("tonnage_waste_code", code), ("tonnage_facility", source)):
        expected = "'" + text if not NUMBER.match(text) else text
        assert (kind, expected) in items


@given(text=st.builds(lambda c, rest: c + rest, st.sampled_from(FORMULA_START), st.text(max_size=20)))
def test_the_one_csv_cell_function_escapes_every_formula_start(text: str) -> None:
    from api.csvcell import csv_cell

    escaped = csv_cell(text)
    assert is_number(text) or escaped == "'" + text
    assert csv_cell(12.5) == 12.5 and csv_cell("-12.5") == "-12.5" and csv_cell("A337-1") == "A337-1"
