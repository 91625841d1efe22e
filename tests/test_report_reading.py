"""The report as an evaluator reads it: rendered from real InfluxDB data in each language, read back
(the PDF with pypdf, the HTML's text), one language only, no "from memory", the status codes explained,
units on the figures, the part of the period with data stated, an empty chart saying so."""

from __future__ import annotations

import io
import logging
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from api.reports.coverage import HOUR_MS, DataCoverage, stretches
from api.reports.data import report_data
from api.reports.legend import legend
from api.reports.messages import PROFILE_TITLES, Language
from api.reports.render import render_report
from api.reports.report import PlantReport, build_report
from launch.history import backfill_history
from launch.ledger import prepare_database, seal_through
from tests.test_reports import alert_db, kotim, write_november  # alert_db and kotim: fixtures
from tests.test_summaries import day_point, ms
from wastewatch.compliance.profiles import RULE_SHARE
from wastewatch.compliance.quality import QualityCode
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.records import Batch, Reading
from wastewatch.relational import Database
from wastewatch.store.influx import InfluxStore

ENGLISH = ["strict reference", "plantation clinics", "UNCONFIRMED", "unconfirmed", "Waste treated", "Pollutant",
           "Valid hours", "Exceedances", "Limit", "sampling", "Dust", "Heavy metals", "Data coverage", "Status codes",
           "incinerator limits", "Annex", "no data", " min ", "hours"]
INDONESIAN = ["Limbah yang diolah", "belum dikonfirmasi", "Baku mutu", "Debu", "Jam valid", "Pelampauan", "Batas",
              "Cakupan data", "Keterangan kode status", "tidak ada data", "jam", "menit", "sampel berkala", "Lampiran",
              "Ketersediaan", "sampai", "Des "]
OTHER: dict[Language, list[str]] = {"id": ENGLISH, "en": INDONESIAN}
LEGEND_CODES = ("D100", "D97", "A100", "B97", "CO95", "H100", "P100")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip = tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip = False

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(body: bytes) -> str:
    parser = _Text()
    parser.feed(body.decode())
    return " ".join(" ".join(parser.parts).split())


def pdf_text(body: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages).split())


def read_both(report: PlantReport, lang: Language) -> list[str]:
    """The report's text as the PDF and as the HTML page give it."""
    return [pdf_text(render_report(report, "pdf", lang)[0]), html_text(render_report(report, "html", lang)[0])]


def write_readings(store: InfluxStore, first_ms: int, after_ms: int) -> None:
    """One CEMS reading every 10 minutes over [first_ms, after_ms)."""
    step = 600_000
    store.write([Reading("kotim", "co", t, 12.0).to_point() for t in range(first_ms, after_ms, step)])


def test_november_reads_in_one_language_with_legend_units_and_coverage(
    influx_store: InfluxStore, kotim: PlantConfig, alert_db: Database,
) -> None:
    write_november(influx_store, alert_db)
    write_readings(influx_store, ms(2026, 11, 27, 10), ms(2026, 12, 4, 15))  # on past the period's end
    influx_store.write([Batch("kotim", "b4", ms(2026, 11, 28, 9), 0.5, "klinik-perkebunan", "A337-1").to_point()])
    report = build_report(influx_store, kotim, "2026-11", alert_db=alert_db, now_ms=ms(2026, 12, 4, 15))
    assert report.coverage.stretches == ((ms(2026, 11, 27, 10), ms(2026, 12, 1)),)
    expected = {
        "id": ["Data sensor tersedia dari 27 Nov 10:00 sampai 30 Nov 24:00 dalam periode 1 Nov – 30 Nov 2026",
               "Tanpa data", "1 Nov 00:00 – 27 Nov 10:00 (634 jam)", "2,001 t", "mg/Nm³", "47,0 %",
               "belum dikonfirmasi", "Baku mutu insinerator Kep-03/BAPEDAL/09/1995", "Keterangan kode status",
               "18 jam", "jam"],
        "en": ["Sensor data from 27 Nov 10:00 to 30 Nov 24:00 of the period 1 Nov – 30 Nov 2026",
               "No data", "1 Nov 00:00 – 27 Nov 10:00 (634 h)", "2.001 t", "mg/Nm³", "47.0 %",
               "unconfirmed", "Kep-03/BAPEDAL/09/1995 incinerator limits", "Status codes", "18 valid hourly", " h"],
    }
    for lang in ("id", "en"):
        for content in read_both(report, lang):
            assert "from memory" not in content.lower()
            leaked = [phrase for phrase in OTHER[lang] if phrase in content]
            assert not leaked, (lang, leaked)
            missing = [phrase for phrase in expected[lang] if phrase not in content]
            assert not missing, (lang, missing, content[:3000])
            for code in LEGEND_CODES:
                assert f"{code}: " in content, code  # the legend's line of each code
            assert "Klinik perkebunan" in content  # a facility's name, as the plant file spells it


def test_empty_period_says_no_data_and_short_days_are_explained(influx_store: InfluxStore, kotim: PlantConfig) -> None:
    # 16-hour operating days (16 valid hourly averages, none discarded): 100 % of the hours, no valid day
    influx_store.write([day_point("id-data-availability", "co", date(2026, 9, d), "1h", QualityCode.INSUFFICIENT_DATA, 16, 0)
                        for d in (7, 8)])
    report = build_report(influx_store, kotim, "2026-09", now_ms=ms(2026, 10, 1, 7))
    assert report.coverage.stretches == () and report.min_valid_hours_per_day == 18
    (id_pdf, id_html), (en_pdf, en_html) = read_both(report, "id"), read_both(report, "en")
    for content in (id_pdf, id_html):
        assert "Tidak ada data sensor dalam periode 1 Sep – 30 Sep 2026" in content
        assert "Limbah diolah (t): tidak ada data dalam periode ini" in content
        assert "rata-rata 16,0 jam valid per hari operasi, kurang dari 18 jam" in content
        assert "0 hari valid walaupun ketersediaan data 100,0 %" in content
    for content in (en_pdf, en_html):
        assert "No sensor data in the period 1 Sep – 30 Sep 2026" in content
        assert "Waste per facility (t): no data in this period" in content
        assert "on average 16.0 valid hours per operating day, under 18 h" in content
    body, _ = render_report(report, "pdf", "en")
    assert not any(page.images for page in PdfReader(io.BytesIO(body)).pages)  # no chart of zeros
    assert "data:image/svg+xml" not in render_report(report, "html", "en")[0].decode()


def test_rendering_a_pdf_logs_no_font_subsetting(
    influx_store: InfluxStore, kotim: PlantConfig, caplog: pytest.LogCaptureFixture,
) -> None:
    report = build_report(influx_store, kotim, "2026-09", now_ms=ms(2026, 10, 1, 7))
    with caplog.at_level(logging.INFO):
        logging.getLogger("fontTools").setLevel(logging.NOTSET)  # as a process that never set it
        render_report(report, "pdf", "id")
    assert [r for r in caplog.records if r.name.startswith("fontTools")] == []


def test_stretches_merge_hours_and_gaps_fill_the_rest() -> None:
    start = 0
    found = stretches([5 * HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS, 9 * HOUR_MS], start, 10 * HOUR_MS)
    assert found == ((2 * HOUR_MS, 4 * HOUR_MS), (5 * HOUR_MS, 6 * HOUR_MS), (9 * HOUR_MS, 10 * HOUR_MS))
    gaps = DataCoverage(start, 10 * HOUR_MS, found).gaps()
    assert gaps == [(0, 2 * HOUR_MS), (4 * HOUR_MS, 5 * HOUR_MS), (6 * HOUR_MS, 9 * HOUR_MS)]


def test_legend_is_worded_from_the_rule_definition() -> None:
    for lang in ("id", "en"):
        lines = legend(lang)  # type: ignore[arg-type]
        assert [line.split(":")[0] for line in lines[:-1]] == list(RULE_SHARE)
    en = dict(line.split(": ", 1) for line in legend("en")[:-1])
    assert en["D97"] == "at least 97\u00a0% of the valid daily (24 h) averages ≤ the limit"
    assert en["A100"] == "every valid half-hour average ≤ the limit"
    assert en["CO95"].startswith("at least 95\u00a0%")


def test_every_bundled_profile_has_a_title_in_both_languages(catalog: PlantCatalog) -> None:
    for plant in catalog:
        for profile_id in plant.compliance_profiles:
            assert set(PROFILE_TITLES[profile_id]) == {"id", "en"}
            assert not any("memory" in t.lower() for t in PROFILE_TITLES[profile_id].values())


def test_no_line_of_the_pdf_starts_with_the_unit_of_a_number_on_the_line_before(
    influx_store: InfluxStore, kotim: PlantConfig, alert_db: Database,
) -> None:
    """A number and its unit ("47,0 %", "18 jam") are bound by a no-break space, so a paragraph never wraps
    between them (the Smart City paragraph once ended a line on "100,0" and began the next with "%")."""
    write_november(influx_store, alert_db)
    write_readings(influx_store, ms(2026, 11, 27, 10), ms(2026, 12, 4, 15))
    report = build_report(influx_store, kotim, "2026-11", alert_db=alert_db, now_ms=ms(2026, 12, 4, 15))
    for lang in ("id", "en"):
        pdf = render_report(report, "pdf", lang)[0]
        lines = [line for page in PdfReader(io.BytesIO(pdf)).pages for line in page.extract_text().splitlines()]
        orphaned = [line for line in lines if re.match(r"\s*(%|h|jam|t|ton|min|menit)\b", line)]
        assert len(lines) > 50 and not orphaned, (lang, orphaned)


def test_a_period_holding_back_filled_history_says_which_part_is_simulated(
    influx_store: InfluxStore, kotim: PlantConfig, catalog: PlantCatalog,
) -> None:
    start, end = ms(2026, 10, 10, 10), ms(2026, 10, 10, 13)  # in Sampit's time, as `ms` reads it
    backfill_history(influx_store, catalog, kotim, seed=3, start_ms=start, end_ms=end, now_ms=ms(2026, 11, 2))
    report = build_report(influx_store, kotim, "2026-10", now_ms=ms(2026, 11, 2))
    assert report.coverage.simulated == ((start, end),)
    assert report_data(report)["coverage"]["simulated"] == [["2026-10-10T10:00:00+07:00", "2026-10-10T13:00:00+07:00"]]
    (id_pdf, id_html), (en_pdf, en_html) = read_both(report, "id"), read_both(report, "en")
    for content in (id_pdf, id_html):
        assert "Data simulasi, bukan hasil pengukuran: 10 Okt 10:00 – 10 Okt 13:00 diisi oleh simulator" in content, content[:2000]
    for content in (en_pdf, en_html):
        assert "Simulated, not measured: 10 Oct 10:00 – 10 Oct 13:00 was filled by the plant simulator" in content, content[:2000]
    # a period the simulator never filled says nothing of the kind
    september = build_report(influx_store, kotim, "2026-09", now_ms=ms(2026, 11, 2))
    assert september.coverage.simulated == () and "Simulated" not in read_both(september, "en")[0]


def test_the_report_prints_the_periods_last_chain_hash_of_the_tamper_evident_ledger(
    influx_store: InfluxStore, kotim: PlantConfig, alert_db: Database,
) -> None:
    write_november(influx_store, alert_db)
    prepare_database(alert_db)
    sealed = seal_through(influx_store, alert_db, kotim, date(2026, 11, 30), ms(2026, 12, 1, 7), first=date(2026, 11, 1))
    assert [s.day for s in sealed][-1] == date(2026, 11, 30)
    report = build_report(influx_store, kotim, "2026-11", alert_db=alert_db, now_ms=ms(2026, 12, 1, 7))
    assert len(report.sealed) == len(sealed) and report.sealed[-1][2] == sealed[-1].chain
    (id_pdf, id_html), (en_pdf, en_html) = read_both(report, "id"), read_both(report, "en")
    chain = sealed[-1].chain  # 64 hex digits: the PDF may wrap them, so they are looked for without the spaces
    for content in (id_pdf, id_html):
        assert f"Catatan tersegel (wastewatch verify memeriksanya): {len(sealed)} hari; hash rantai terakhir (2026-11-30): " in content
        assert f"(2026-11-30):{chain}" in content.replace(" ", "")
    for content in (en_pdf, en_html):
        assert f"Sealed records (wastewatch verify checks them): {len(sealed)} days; last chain hash (2026-11-30): " in content
        assert f"(2026-11-30):{chain}" in content.replace(" ", "")
    # a database without the ledger's table: no line, no error
    assert build_report(influx_store, kotim, "2026-10", now_ms=ms(2026, 12, 1, 7)).sealed == ()
