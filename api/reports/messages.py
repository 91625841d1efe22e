"""The report's words in Bahasa Indonesia and English: a small catalogue, and numbers written the way
each language writes them (Indonesian: 1.234,5; English: 1,234.5)."""

from __future__ import annotations

from typing import Literal

Language = Literal["id", "en"]
LANGUAGES: tuple[Language, ...] = ("id", "en")

CATALOGUE: dict[str, dict[Language, str]] = {
    "title": {"id": "Laporan Instalasi Pengolahan Limbah Medis", "en": "Medical-Waste Plant Report"},
    "period": {"id": "Periode", "en": "Period"},
    "month": {"id": "bulanan", "en": "monthly"},
    "quarter": {"id": "triwulanan", "en": "quarterly"},
    "year": {"id": "tahunan", "en": "annual"},
    "range": {"id": "periode", "en": "period"},
    "generated": {"id": "Dibuat", "en": "Generated"},
    "tonnage": {"id": "Limbah yang diolah", "en": "Waste treated"},
    "total_tonnes": {"id": "Total limbah diolah", "en": "Total waste treated"},
    "batches": {"id": "Jumlah batch", "en": "Batches"},
    "by_facility": {"id": "Per fasilitas sumber", "en": "By source facility"},
    "by_waste_code": {"id": "Per kode limbah", "en": "By waste code"},
    "by_bucket": {"id": "Per periode kalender", "en": "By calendar period"},
    "facility": {"id": "Fasilitas", "en": "Facility"},
    "waste_code": {"id": "Kode limbah", "en": "Waste code"},
    "tonnes": {"id": "Ton", "en": "Tonnes"},
    "facilities_served": {"id": "Fasilitas yang dilayani", "en": "Facilities served"},
    "availability": {"id": "Ketersediaan", "en": "Availability"},
    "plant_availability": {"id": "Ketersediaan instalasi", "en": "Plant availability"},
    "operating_hours": {"id": "Jam operasi efektif", "en": "Effective operating hours"},
    "data_availability": {"id": "Ketersediaan data CEMS", "en": "CEMS data availability"},
    "pollutant": {"id": "Parameter", "en": "Pollutant"},
    "valid_hours": {"id": "Jam valid", "en": "Valid hours"},
    "valid_days": {"id": "Hari valid / hari operasi", "en": "Valid days / operating days"},
    "eu_discarded": {"id": "Setengah-jam / hari dibuang (UE V4/V5)", "en": "Discarded half-hours / days (EU V4/V5)"},
    "downtime": {"id": "Gangguan / henti operasi", "en": "Downtime incidents"},
    "cause": {"id": "Penyebab", "en": "Cause"},
    "hours": {"id": "Jam", "en": "Hours"},
    "start": {"id": "Mulai", "en": "Start"},
    "scheduled": {"id": "terjadwal", "en": "scheduled"},
    "unknown": {"id": "tidak diketahui", "en": "unknown"},
    "compliance": {"id": "Kepatuhan baku mutu emisi", "en": "Emission compliance"},
    "profile": {"id": "Profil regulasi", "en": "Regulatory profile"},
    "unconfirmed": {"id": "BELUM TERKONFIRMASI", "en": "UNCONFIRMED"},
    "unconfirmed_limits": {"id": "Baku mutu belum terkonfirmasi", "en": "Unconfirmed limits"},
    "limit": {"id": "Batas", "en": "Limit"},
    "valid_averages": {"id": "Rata-rata valid", "en": "Valid averages"},
    "exceedances": {"id": "Pelampauan", "en": "Exceedances"},
    "abnormal_hours": {"id": "Jam operasi abnormal (dari maks. 60)", "en": "Abnormal-operation hours (of 60 max.)"},
    "alerts": {"id": "Pelampauan dan kecepatan tanggapan", "en": "Exceedances and response time"},
    "alerts_count": {"id": "Peringatan kritis/regulasi", "en": "Critical/regulatory alerts"},
    "acknowledged": {"id": "Ditanggapi", "en": "Acknowledged"},
    "median_ack": {"id": "Median waktu tanggapan (menit)", "en": "Median time to acknowledge (min)"},
    "max_ack": {"id": "Waktu tanggapan terlama (menit)", "en": "Longest time to acknowledge (min)"},
    "no_alert_db": {"id": "Basis data peringatan tidak tersedia", "en": "Alert database not available"},
    "smart": {"id": "Kontribusi Smart Environment", "en": "Smart Environment contribution"},
    "smart_text": {
        "id": "Dimensi Smart Environment (sub-elemen pengelolaan sampah dan limbah): {tonnes} ton limbah medis dari "
              "{served} fasilitas kesehatan diolah di daerah, bukan dikirim ke luar pulau. Ketersediaan instalasi "
              "{availability}, ketersediaan data CEMS {data}, {exceedances} pelampauan baku mutu tercatat dan dilaporkan.",
        "en": "Smart Environment dimension (waste management sub-element): {tonnes} t of medical waste from {served} "
              "health facilities treated locally instead of shipped off the island. Plant availability {availability}, "
              "CEMS data availability {data}, {exceedances} limit exceedances recorded and reported.",
    },
    "smart_note": {
        "id": "Indikator ini adalah bukti Output/Dampak yang ditetapkan proyek; bukan KPI resmi Kominfo.",
        "en": "These are project-defined Output/Impact evidence, not official Kominfo KPIs.",
    },
    "chart_tonnage": {"id": "Limbah diolah (ton)", "en": "Waste treated (t)"},
    "chart_facility": {"id": "Ton per fasilitas", "en": "Tonnes per facility"},
    "none": {"id": "tidak ada", "en": "none"},
}


def text(key: str, lang: Language) -> str:
    return CATALOGUE[key][lang]


def number(value: float | None, digits: int, lang: Language) -> str:
    """`1,234.57` in English, `1.234,57` in Indonesian; `–` for no value."""
    if value is None:
        return "–"
    written = f"{value:,.{digits}f}"
    return written.translate(str.maketrans(",.", ".,")) if lang == "id" else written


def percent(share: float | None, lang: Language, digits: int = 1) -> str:
    return "–" if share is None else number(share * 100, digits, lang) + " %"
