"""Render a built report in one format and language: `render_report(report, fmt, lang) -> (bytes, media type)`.

JSON carries every figure unformatted; CSV one figure per row; HTML is a printable page with inline
SVG charts as images (it renders under `style.REPORT_CSP`); PDF lays out the same sections with the charts as PNG images.
"""

from __future__ import annotations

import csv
import io
import json
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
from api.reports.layout import Section, heading, sections
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


def _figures(data: JsonDict, lang: Language) -> dict[str, Figure]:
    t = data["tonnage"]
    found: dict[str, Figure] = {}
    if t["buckets"]:
        found["tonnage"] = charts.bar_chart([b["key"] for b in t["buckets"]], [b["tonnes"] for b in t["buckets"]],
                                            text("chart_tonnage", lang))
    if t["by_facility"]:
        found["facility"] = charts.bar_chart([f["name"] for f in t["by_facility"]], [f["tonnes"] for f in t["by_facility"]],
                                             text("chart_facility", lang), horizontal=True)
    return found


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True)


def render_html(data: JsonDict, lang: Language) -> str:
    title, subtitle = heading(data, lang)
    images = {name: svg_image_url(charts.svg(fig)) for name, fig in _figures(data, lang).items()}
    return _environment().get_template("report.html.j2").render(
        lang=lang, title=title, subtitle=subtitle, sections=sections(data, lang), charts=images, css=REPORT_CSS,
    )


def render_pdf(data: JsonDict, lang: Language) -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    title, subtitle = heading(data, lang)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, subtitle, new_x="LMARGIN", new_y="NEXT")
    pngs = {name: charts.png(fig) for name, fig in _figures(data, lang).items()}
    for section in sections(data, lang):
        _pdf_section(pdf, section, pngs)
    return bytes(pdf.output())


def _pdf_section(pdf: FPDF, section: Section, pngs: dict[str, bytes]) -> None:
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(0, 7, section.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    for label, value in section.figures:
        pdf.multi_cell(0, 5, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    if section.chart and section.chart in pngs:
        pdf.image(io.BytesIO(pngs[section.chart]), w=pdf.epw)
    for paragraph in section.paragraphs:
        pdf.multi_cell(0, 5, paragraph, new_x="LMARGIN", new_y="NEXT")
    for table in section.tables:
        if not table.rows:
            continue
        pdf.ln(1)
        with pdf.table(text_align="LEFT", line_height=4.5, first_row_as_headings=True) as grid:
            for row in [table.headers, *table.rows]:
                cells = grid.row()
                for cell in row:
                    cells.cell(cell)
    if section.chart == "tonnage" and "facility" in pngs:
        pdf.image(io.BytesIO(pngs["facility"]), w=pdf.epw * 0.8)
