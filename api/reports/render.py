"""Render a built report in one format and language: `render_report(report, fmt, lang) -> (bytes, media type)`.

JSON carries every figure unformatted; CSV one figure per row; HTML is a printable page with inline
SVG charts as images (it renders under `style.REPORT_CSP`); PDF lays out the same sections with the charts as PNG images.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal

import jinja2
from fpdf import FPDF
from matplotlib import get_data_path
from matplotlib.figure import Figure

from api.csvcell import csv_cell
from api.reports import charts
from api.reports.data import JsonDict, csv_rows, report_data
from api.reports.layout import Section, Table, heading, sections
from api.reports.messages import Language, text
from api.reports.report import PlantReport
from api.reports.style import REPORT_CSS, svg_image_url
from wastewatch.errors import InvalidRequest

Format = Literal["json", "csv", "html", "pdf"]
FORMATS: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
TEMPLATES = Path(__file__).with_name("templates")
FONT_DIR = Path(get_data_path()) / "fonts" / "ttf"
"""DejaVu ships with matplotlib: a Unicode font for the PDF (≤, –, Indonesian text) without another dependency."""


class ReportFormatError(InvalidRequest):
    """An unknown format or language."""


def render_report(report: PlantReport, fmt: Format, lang: Language = "en") -> tuple[bytes, str]:
    """The report's bytes and HTTP media type."""
    if fmt not in FORMATS:
        raise ReportFormatError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if lang not in ("id", "en"):
        raise ReportFormatError(f"language must be id or en, not {lang!r}")
    data = report_data(report)
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2).encode()
    elif fmt == "csv":
        body = _csv(data)
    elif fmt == "html":
        body = render_html(data, lang).encode()
    else:
        body = render_pdf(data, lang)
    return body, FORMATS[fmt]


def _csv(data: JsonDict) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("section", "item", "metric", "value"))
    writer.writerows([csv_cell(cell) for cell in row] for row in csv_rows(data))
    return buffer.getvalue().encode()


def _figures(data: JsonDict, lang: Language) -> dict[str, Figure | str]:
    """Each chart, or for a chart with nothing to draw the sentence that says so."""
    t = data["tonnage"]
    found: dict[str, Figure | str] = {}
    for name, labels, values, horizontal in (
        ("tonnage", [b["key"] for b in t["buckets"]], [b["tonnes"] for b in t["buckets"]], False),
        ("facility", [f["name"] for f in t["by_facility"]], [f["tonnes"] for f in t["by_facility"]], True),
    ):
        title = text(f"chart_{name}", lang)
        found[name] = (charts.bar_chart(labels, values, title, "t", horizontal=horizontal) if charts.has_data(values)
                       else f"{title}: {text('no_data', lang)}")
    return found


def quiet_font_subsetting() -> None:
    """fpdf2's font subsetting (fontTools) logs every table it prunes at INFO."""
    for name in ("fontTools", "fontTools.subset", "fontTools.ttLib"):
        logging.getLogger(name).setLevel(logging.WARNING)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True)


def render_html(data: JsonDict, lang: Language) -> str:
    title, subtitle = heading(data, lang)
    figures = _figures(data, lang)
    images = {name: svg_image_url(charts.svg(fig)) for name, fig in figures.items() if not isinstance(fig, str)}
    empty = {name: fig for name, fig in figures.items() if isinstance(fig, str)}
    return _environment().get_template("report.html.j2").render(
        lang=lang, title=title, subtitle=subtitle, sections=sections(data, lang), charts=images, empty=empty, legend_title=text("legend", lang), css=REPORT_CSS,
    )


def new_pdf(orientation: Literal["portrait", "landscape"] = "portrait", margin_mm: float = 15) -> FPDF:
    """An A4 document with the reports' font (DejaVu, regular and bold: every Indonesian and unit glyph),
    breaking pages by itself; fontTools' subsetting kept quiet. Every PDF wastewatch writes starts here."""
    quiet_font_subsetting()
    pdf = FPDF(orientation=orientation, format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=margin_mm)
    return pdf


def render_pdf(data: JsonDict, lang: Language) -> bytes:
    pdf = new_pdf()
    pdf.add_page()
    title, subtitle = heading(data, lang)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, subtitle, new_x="LMARGIN", new_y="NEXT")
    figures = {name: fig if isinstance(fig, str) else charts.png(fig) for name, fig in _figures(data, lang).items()}
    for section in sections(data, lang):
        _pdf_section(pdf, section, figures, lang)
    return bytes(pdf.output())


def _pdf_text(pdf: FPDF, line: str, height: float = 5) -> None:
    # left-aligned: fpdf2 justifies by default, which stretches the spaces of a line with a long word
    pdf.multi_cell(0, height, line, align="L", new_x="LMARGIN", new_y="NEXT")


def _pdf_chart(pdf: FPDF, chart: bytes | str | None, width: float) -> None:
    if isinstance(chart, str):
        _pdf_text(pdf, chart)
    elif chart is not None:
        pdf.image(io.BytesIO(chart), w=width)


def _pdf_section(pdf: FPDF, section: Section, figures: dict[str, bytes | str], lang: Language) -> None:
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    _pdf_text(pdf, section.title, 7)
    pdf.set_font("DejaVu", "", 9)
    for label, value in section.figures:
        _pdf_text(pdf, f"{label}: {value}")
    if section.chart:
        _pdf_chart(pdf, figures.get(section.chart), pdf.epw)
    for paragraph in section.paragraphs:
        _pdf_text(pdf, paragraph)
    for table in section.tables:
        if table.rows:
            _pdf_table(pdf, table)
    if section.chart == "tonnage":
        _pdf_chart(pdf, figures.get("facility"), pdf.epw * 0.8)
    if section.legend:
        pdf.ln(1)
        pdf.set_font("DejaVu", "B", 9)
        _pdf_text(pdf, text("legend", lang))
        pdf.set_font("DejaVu", "", 8)
        for line in section.legend:
            _pdf_text(pdf, line, 4.2)
        pdf.set_font("DejaVu", "", 9)


def _pdf_table(pdf: FPDF, table: Table) -> None:
    """Every cell bordered; each column at least as wide as its longest word, so no word is broken."""
    rows = [table.headers, *table.rows]
    longest_word, wanted = _text_widths(pdf, table.rows, "")
    heading_word, heading_whole = _text_widths(pdf, [table.headers], "B")  # headings are set in bold
    longest_word = [max(a, b) for a, b in zip(longest_word, heading_word, strict=True)]
    wanted = [max(a, b) for a, b in zip(wanted, heading_whole, strict=True)]
    widths = _column_widths(longest_word, wanted, pdf.epw)
    pdf.ln(2)
    if table.caption:
        _pdf_text(pdf, table.caption)
    with pdf.table(text_align="LEFT", line_height=4.5, first_row_as_headings=True, borders_layout="ALL",
                   col_widths=tuple(widths), width=min(sum(widths), pdf.epw), align="LEFT") as grid:  # the sum can pass the page by 1e-13
        for row in rows:
            cells = grid.row()
            for cell in row:
                cells.cell(cell)
    pdf.ln(2)


def _text_widths(pdf: FPDF, rows: list[list[str]], style: str) -> tuple[list[float], list[float]]:
    """Per column: the widest word and the widest whole cell (mm, with the cell padding)."""
    padding = 2.5
    pdf.set_font("DejaVu", style, 9)
    columns = list(zip(*rows, strict=True))
    words = [max(pdf.get_string_width(w) for cell in col for w in cell.split() or [""]) + padding for col in columns]
    whole = [max(pdf.get_string_width(cell) for cell in col) + padding for col in columns]
    pdf.set_font("DejaVu", "", 9)
    return words, whole


def _column_widths(minimum: list[float], wanted: list[float], page: float) -> list[float]:
    """Each column's whole text where the page allows; else its longest word plus a share of what is left."""
    if sum(wanted) <= page:
        return wanted
    spare = max(0.0, page - sum(minimum))
    extra = [w - m for w, m in zip(wanted, minimum, strict=True)]
    total_extra = sum(extra) or 1.0
    return [m + spare * e / total_extra for m, e in zip(minimum, extra, strict=True)]
