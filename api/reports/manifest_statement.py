"""The monthly manifest statement per hospital as PDF (fpdf2, DejaVu from matplotlib as the reports use),
in Bahasa Indonesia or English: what each hospital declared on its manifests, what was weighed and
treated, each manifest's balance and the open discrepancies, and the plant's balance with its limit
(no bunker stock measurement)."""

from __future__ import annotations

from collections.abc import Mapping

from fpdf import FPDF

from api.reports.messages import Language
from api.reports.render import new_pdf
from wastewatch.manifests.reconcile import FacilityMonth, PlantMonth
from wastewatch.plant import PlantConfig

TEXTS: Mapping[Language, Mapping[str, str]] = {
    "id": {
        "title": "Neraca manifes limbah B3 bulanan",
        "plant": "Fasilitas pengolah",
        "month": "Bulan",
        "declared": "Dideklarasikan (manifes)",
        "received": "Diterima (ditimbang) atas manifes",
        "weighed": "Ditimbang dan diolah bulan ini",
        "without": "Ditimbang tanpa manifes",
        "difference": "Selisih",
        "manifests": "Manifes",
        "batches": "batch",
        "open": "Ketidaksesuaian terbuka",
        "none_open": "Tidak ada ketidaksesuaian terbuka.",
        "no_rows": "Tidak ada manifes atau batch pada bulan ini.",
        "balance": "Neraca fasilitas",
        "bunker": ("Stok bunker tidak diukur: batch yang disimpan adalah batch yang dibakar, sehingga yang "
                   "dibandingkan hanya jumlah yang dideklarasikan dengan yang ditimbang."),
        "rule": "Aturan: |diterima − dideklarasikan| / dideklarasikan > {tol} adalah ketidaksesuaian (domain.md §7, [A]).",
        "col_no": "No. manifes", "col_code": "Kode", "col_declared": "Deklarasi kg", "col_received": "Diterima kg",
        "col_state": "Status",
        "matched": "sesuai", "quantity_differs": "jumlah berbeda", "never_received": "tidak pernah diterima",
        "awaiting": "menunggu (masa tenggang)",
    },
    "en": {
        "title": "Monthly waste manifest balance",
        "plant": "Treatment plant",
        "month": "Month",
        "declared": "Declared (manifests)",
        "received": "Received (weighed) under the manifests",
        "weighed": "Weighed and treated this month",
        "without": "Weighed without a manifest",
        "difference": "Difference",
        "manifests": "Manifests",
        "batches": "batches",
        "open": "Open discrepancies",
        "none_open": "No open discrepancies.",
        "no_rows": "No manifests or batches this month.",
        "balance": "Plant balance",
        "bunker": ("Bunker stock is not measured: the stored batches are the batches fed, so only declared "
                   "against weighed is compared."),
        "rule": "Rule: |received − declared| / declared > {tol} is a discrepancy (domain.md §7, [A]).",
        "col_no": "Manifest no.", "col_code": "Code", "col_declared": "Declared kg", "col_received": "Received kg",
        "col_state": "State",
        "matched": "matched", "quantity_differs": "quantity differs", "never_received": "never received",
        "awaiting": "awaiting (grace period)",
    },
}


def kg(value: float, lang: Language) -> str:
    text = f"{value:,.1f}"
    if lang == "id":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{text} kg"


def render_statement_pdf(statement: PlantMonth, plant: PlantConfig, facility: str | None, lang: Language,
                         tolerance: float = 0.05) -> bytes:
    t = TEXTS[lang]
    pdf = new_pdf()
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    _line(pdf, t["title"], 7)
    pdf.set_font("DejaVu", "", 9)
    _line(pdf, f"{t['plant']}: {plant.name} ({plant.id}) · {t['month']}: {statement.month}")
    _line(pdf, t["rule"].format(tol=f"{tolerance * 100:g} %"))
    rows = [f for f in statement.facilities if facility is None or f.facility == facility]
    if not rows:
        _line(pdf, t["no_rows"])
    for f in rows:
        _facility(pdf, f, lang)
    if facility is None:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 12)
        _line(pdf, t["balance"], 7)
        pdf.set_font("DejaVu", "", 9)
        _line(pdf, f"{t['declared']}: {kg(statement.declared_kg, lang)}")
        _line(pdf, f"{t['weighed']}: {kg(statement.weighed_kg, lang)}")
        _line(pdf, f"{t['difference']}: {kg(statement.difference_kg, lang)}")
        _line(pdf, t["bunker"])
    return bytes(pdf.output())


def _line(pdf: FPDF, text: str, height: float = 5) -> None:
    pdf.multi_cell(0, height, text, align="L", new_x="LMARGIN", new_y="NEXT")


def _facility(pdf: FPDF, f: FacilityMonth, lang: Language) -> None:
    t = TEXTS[lang]
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 12)
    _line(pdf, f"{f.name} ({f.facility})", 7)
    pdf.set_font("DejaVu", "", 9)
    _line(pdf, f"{t['manifests']}: {f.manifests} · {t['declared']}: {kg(f.declared_kg, lang)}")
    _line(pdf, f"{t['received']}: {kg(f.received_kg, lang)} ({t['difference']} {kg(f.difference_kg, lang)})")
    _line(pdf, f"{t['weighed']}: {kg(f.weighed_kg, lang)}, {f.batches} {t['batches']} · {t['without']}: {kg(f.without_manifest_kg, lang)}")
    if f.balances:
        widths = (50, 22, 32, 32, 44)
        pdf.set_font("DejaVu", "B", 8)
        for width, head in zip(widths, (t["col_no"], t["col_code"], t["col_declared"], t["col_received"], t["col_state"]), strict=True):
            pdf.cell(width, 5, head, border=1)
        pdf.ln()
        pdf.set_font("DejaVu", "", 8)
        for b in f.balances:
            cells = (b.manifest.manifest_no[:30], b.manifest.waste_code or "", kg(b.manifest.declared_kg, lang),
                     kg(b.received_kg, lang), t[b.state])
            for width, cell in zip(widths, cells, strict=True):
                pdf.cell(width, 5, cell, border=1)
            pdf.ln()
    pdf.set_font("DejaVu", "B", 9)
    _line(pdf, t["open"])
    pdf.set_font("DejaVu", "", 8)
    for x in f.open_findings:
        _line(pdf, f"• {x.message}")
    if not f.open_findings:
        _line(pdf, t["none_open"])
