"""The quarterly CEMS report written out: an XLSX workbook (openpyxl: the summary, the daily and the
hourly averages, the status codes, one sheet each) and a PDF (fpdf2, the same content; the hourly
table on landscape pages with one-letter codes). Bahasa Indonesia only, as the agency files it."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Literal

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from api.reports.cems_quarter import CODES, CemsQuarter
from api.reports.messages import NBSP, number, pollutant, unit
from api.reports.render import new_pdf
from wastewatch.compliance.profiles import UNCONFIRMED

CemsFormat = Literal["xlsx", "pdf"]
MEDIA: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
LETTERS: dict[str, str] = {
    "valid": "V", "maintenance": "P", "malfunction": "G", "startup_shutdown": "S", "no_waste": "T",
    "abnormal_operation": "A", "insufficient_data": "K", "no_data": "-",
}
"""The PDF's one-letter code of each status (its legend names them)."""


def _title(q: CemsQuarter) -> list[str]:
    last = datetime.fromordinal(q.period.after.toordinal() - 1)
    rules = f"hari valid: ≥{NBSP}{q.min_valid_hours}{NBSP}jam valid; triwulan: ≥{NBSP}{q.min_valid_day_share * 100:.0f}{NBSP}% hari valid"
    return [
        f"Laporan Triwulan CEMS: {q.plant.name}",
        f"Periode {q.period.label}: {q.period.first:%d-%m-%Y} s.d. {last:%d-%m-%Y} (waktu setempat, {q.plant.timezone})",
        f"Profil {q.profile.title} ({q.profile.source}; status {q.profile.status}); {rules}",
        f"Dibuat {q.local(q.generated_at_ms):%d-%m-%Y %H:%M} oleh wastewatch dari rata-rata tersimpan; nilai kosong = tidak ada data (tidak diisi)",
    ]


def _value(value: float | None) -> str:
    return "" if value is None else number(value, 2, "id")


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{number(share * 100, 1, 'id')}{NBSP}%"


def availability_rows(q: CemsQuarter) -> list[list[str]]:
    """Per parameter: hours, days and the 75 % verdict (the first table of both formats)."""
    rows = []
    by_pollutant = {a.pollutant: a for a in q.availability}
    for p in q.parameters:
        a = by_pollutant.get(p)
        if a is None:
            rows.append([pollutant(p, "id"), unit(q.units[p]), "0", "0", "–", "0", "0", "–", "–"])
            continue
        quarter = next((x.availability for x in a.quarters if x.quarter == q.period.label), None)
        share = quarter.share if quarter is not None else None
        verdict = "–" if share is None else ("Ya" if share >= q.min_valid_day_share else "Tidak")
        rows.append([pollutant(p, "id"), unit(q.units[p]), str(a.valid_hours), str(a.discarded_hours), _pct(a.share),
                     str(a.operating_days), str(a.valid_days), _pct(share), verdict])
    return rows


AVAILABILITY_HEADERS = ["Parameter", "Satuan", "Jam valid", "Jam dibuang", "Ketersediaan data", "Hari operasi",
                        "Hari valid", "Hari valid / hari operasi", "Memenuhi 75 %"]
EXCEEDANCE_HEADERS = ["Parameter", "Profil", "Rata-rata", "Baku mutu", "Status baku mutu", "Rata-rata valid", "Pelampauan"]


def exceedance_rows(q: CemsQuarter) -> list[list[str]]:
    rows = []
    for p in q.compliance.pollutants:
        for lim in p.limits:
            status = f"{lim.status} (belum dikonfirmasi)" if lim.status in UNCONFIRMED else lim.status
            rows.append([pollutant(p.pollutant, "id"), p.profile, lim.period, f"{number(lim.limit_value, 1, 'id')}{NBSP}{unit(lim.unit)}",
                         status, str(lim.valid_averages), str(lim.exceedances)])
    return rows


def _code_text(code: str) -> str:
    return CODES.get(code, code)


# -- XLSX ---------------------------------------------------------------------------------------------


def render_xlsx(q: CemsQuarter) -> bytes:
    book = Workbook()
    bold = Font(bold=True)
    summary = book.active
    assert summary is not None
    summary.title = "Ringkasan"
    for line in _title(q):
        summary.append([line])
    summary["A1"].font = Font(bold=True, size=13)
    summary.append([])
    summary.append(["Ketersediaan data per parameter"])
    summary.append(AVAILABILITY_HEADERS)
    for row in availability_rows(q):
        summary.append(row)
    summary.append([])
    summary.append(["Pelampauan baku mutu (rata-rata valid di atas baku mutu)"])
    summary.append(EXCEEDANCE_HEADERS)
    for row in exceedance_rows(q) or [["tidak ada baku mutu emisi dalam profil instalasi"]]:
        summary.append(row)
    for cell in summary["A"]:
        if cell.value in ("Ketersediaan data per parameter", "Pelampauan baku mutu (rata-rata valid di atas baku mutu)"):
            cell.font = bold

    daily = book.create_sheet("Rata-rata harian")
    daily.append(["Tanggal"] + [h for p in q.parameters for h in (f"{pollutant(p, 'id')} ({unit(q.units[p])})", f"Kode {pollutant(p, 'id')}",
                                                                  f"Jam valid {pollutant(p, 'id')}")])
    for day in q.days:
        daily.append([day.day] + [x for p in q.parameters for x in (day.cells[p].value, _code_text(day.cells[p].code), day.valid_hours[p])])

    hourly = book.create_sheet("Rata-rata per jam")
    hourly.append(["Waktu (awal jam)"] + [h for p in q.parameters for h in (f"{pollutant(p, 'id')} ({unit(q.units[p])})", f"Kode {pollutant(p, 'id')}")])
    for start, cells in q.hours:
        hourly.append([q.local(start).replace(tzinfo=None)] + [x for p in q.parameters for x in (cells[p].value, _code_text(cells[p].code))])

    legend = book.create_sheet("Kode status")
    legend.append(["Kode", "Arti", "Huruf (PDF)"])
    for code, meaning in CODES.items():
        legend.append([code, meaning, LETTERS[code]])

    for sheet in (daily, hourly):
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "B2"
        for column in range(2, sheet.max_column + 1):
            letter = get_column_letter(column)
            sheet.column_dimensions[letter].width = 16
            for cell in sheet[letter][1:]:
                if isinstance(cell.value, float):
                    cell.number_format = "0.00"
        sheet.column_dimensions["A"].width = 18
    for cell in daily["A"][1:]:
        cell.number_format = "yyyy-mm-dd"
    for cell in hourly["A"][1:]:
        cell.number_format = "yyyy-mm-dd hh:mm"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- PDF ----------------------------------------------------------------------------------------------


def _grid(pdf: FPDF, headers: list[str], rows: list[list[str]], size: float, line_height: float) -> None:
    pdf.set_font("DejaVu", "", size)
    with pdf.table(text_align="LEFT", line_height=line_height, first_row_as_headings=True, borders_layout="ALL",
                   width=pdf.epw, align="LEFT", repeat_headings=1) as grid:
        for row in [headers, *rows]:
            cells = grid.row()
            for cell in row:
                cells.cell(cell)


def render_pdf(q: CemsQuarter) -> bytes:
    pdf = new_pdf("landscape", margin_mm=12)
    pdf.add_page()
    lines = _title(q)
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(0, 7, lines[0], align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8.5)
    for line in lines[1:]:
        pdf.multi_cell(0, 4.5, line, align="L", new_x="LMARGIN", new_y="NEXT")
    for title, headers, rows in (
        ("Ketersediaan data per parameter", AVAILABILITY_HEADERS, availability_rows(q)),
        ("Pelampauan baku mutu (rata-rata valid di atas baku mutu)", EXCEEDANCE_HEADERS, exceedance_rows(q)),
    ):
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(0, 6, title, align="L", new_x="LMARGIN", new_y="NEXT")
        if rows:
            _grid(pdf, headers, rows, 8, 4.5)
        else:
            pdf.set_font("DejaVu", "", 8.5)
            pdf.multi_cell(0, 4.5, "tidak ada baku mutu emisi dalam profil instalasi", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(0, 6, "Kode status", align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8.5)
    for code, meaning in CODES.items():
        pdf.multi_cell(0, 4.2, f"{LETTERS[code]}: {meaning}", align="L", new_x="LMARGIN", new_y="NEXT")

    names = [pollutant(p, "id") for p in q.parameters]
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(0, 6, "Rata-rata harian (nilai, kode, jam valid)", align="L", new_x="LMARGIN", new_y="NEXT")
    headers = ["Tanggal"] + [f"{n} ({unit(q.units[p])})" for n, p in zip(names, q.parameters)]
    rows = [[f"{d.day:%d-%m-%Y}"] + [f"{_value(d.cells[p].value)} {LETTERS[d.cells[p].code]} {d.valid_hours[p]}{NBSP}j" for p in q.parameters]
            for d in q.days]
    _grid(pdf, headers, rows, 7, 3.6)

    pdf.add_page()
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(0, 6, "Rata-rata per jam (nilai, kode)", align="L", new_x="LMARGIN", new_y="NEXT")
    headers = ["Waktu"] + [f"{n} ({unit(q.units[p])})" for n, p in zip(names, q.parameters)]
    rows = [[f"{q.local(start):%d-%m-%Y %H:%M}"] + [f"{_value(cells[p].value)} {LETTERS[cells[p].code]}" for p in q.parameters]
            for start, cells in q.hours]
    _grid(pdf, headers, rows, 6.5, 3.2)
    return bytes(pdf.output())


def render_cems_quarter(q: CemsQuarter, fmt: CemsFormat) -> tuple[bytes, str]:
    return (render_xlsx(q) if fmt == "xlsx" else render_pdf(q)), MEDIA[fmt]
