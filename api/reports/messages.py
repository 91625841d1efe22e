"""The report's words in Bahasa Indonesia and English: a small catalogue, and numbers written the way
each language writes them (Indonesian: 1.234,5; English: 1,234.5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
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
    "tonnes": {"id": "Massa", "en": "Mass"},
    "facilities_served": {"id": "Fasilitas yang dilayani", "en": "Facilities served"},
    "availability": {"id": "Ketersediaan", "en": "Availability"},
    "plant_availability": {"id": "Ketersediaan instalasi", "en": "Plant availability"},
    "operating_hours": {"id": "Operasi efektif", "en": "Effective operation"},
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
    "unconfirmed": {"id": "nilai konfigurasi belum dikonfirmasi", "en": "unconfirmed configuration value"},
    "unconfirmed_short": {"id": "belum dikonfirmasi", "en": "unconfirmed"},
    "unconfirmed_limits": {"id": "Baku mutu belum dikonfirmasi", "en": "Unconfirmed limits"},
    "rule": {"id": "Kode", "en": "Code"},
    "averaging": {"id": "Rata-rata", "en": "Averaging"},
    "legend": {"id": "Keterangan kode status", "en": "Status codes"},
    "legend_all": {"id": "setiap {what} yang valid ≤ batas", "en": "every valid {what} ≤ the limit"},
    "legend_share": {"id": "sekurang-kurangnya {pct} dari {what} yang valid ≤ batas",
                     "en": "at least {pct} of the valid {whats} ≤ the limit"},
    "legend_unconfirmed": {
        "id": "“belum dikonfirmasi”: nilai batas dari konfigurasi yang belum dicocokkan dengan dokumen resmi (izin, peraturan).",
        "en": "“unconfirmed”: a limit value from configuration not yet checked against an official document (permit, regulation).",
    },
    "coverage": {"id": "Cakupan data", "en": "Data coverage"},
    "coverage_some": {"id": "Data sensor tersedia dari {first} sampai {last} dalam periode {period}.",
                      "en": "Sensor data from {first} to {last} of the period {period}."},
    "coverage_none": {"id": "Tidak ada data sensor dalam periode {period}.", "en": "No sensor data in the period {period}."},
    "coverage_gaps": {"id": "Tanpa data (ditampilkan sebagai nol, bukan nilai terukur): {gaps}.",
                      "en": "No data (shown as zero, not a measured value): {gaps}."},
    "coverage_open": {"id": "Periode belum berakhir: laporan dibuat {made}.", "en": "The period has not ended: report made {made}."},
    "coverage_more": {"id": "dan {n} selang lain", "en": "and {n} more stretches"},
    "validity_rule": {
        "id": "Hari valid: hari operasi dengan sekurang-kurangnya {hours} jam rata-rata per jam yang valid. Ketersediaan data "
              "(%) menghitung jam, bukan hari.",
        "en": "Valid day: an operating day with at least {hours} valid hourly averages. Data availability (%) counts hours, "
              "not days.",
    },
    "validity_short_days": {
        "id": "{pollutant}: rata-rata {per_day} jam valid per hari operasi, kurang dari {hours}\u00a0jam: hari operasi yang lebih "
              "pendek dari {hours}\u00a0jam tidak pernah menjadi hari valid, sehingga 0 hari valid walaupun ketersediaan data {share}.",
        "en": "{pollutant}: on average {per_day} valid hours per operating day, under {hours}\u00a0h: an operating day shorter than "
              "{hours}\u00a0h can never be a valid day, hence 0 valid days beside {share} data availability.",
    },
    "ledger_sealed": {
        "id": "Catatan tersegel (wastewatch verify memeriksanya): {days} hari; hash rantai terakhir ({day}): {chain}",
        "en": "Sealed records (wastewatch verify checks them): {days} days; last chain hash ({day}): {chain}",
    },
    "coverage_simulated": {
        "id": "Data simulasi, bukan hasil pengukuran: {spans} diisi oleh simulator instalasi (riwayat demo, wastewatch demo).",
        "en": "Simulated, not measured: {spans} was filled by the plant simulator (the demo's history, wastewatch demo).",
    },
    "backfill_note": {
        "id": "Pelampauan dihitung dari rata-rata yang tersimpan; peringatan hanya dibangkitkan untuk data yang diterima "
              "langsung. Data yang ditulis langsung ke basis data (misalnya riwayat demo yang diisi ulang) tidak "
              "membangkitkan peringatan.",
        "en": "Exceedances are counted from the stored averages; alerts are raised only for data received live. Data written "
              "straight into the store (such as back-filled demo history) raises no alerts.",
    },
    "no_data": {"id": "tidak ada data dalam periode ini", "en": "no data in this period"},
    "alert_ref": {"id": "peringatan #{id}", "en": "alert #{id}: {title}"},
    "h": {"id": "jam", "en": "h"},
    "min": {"id": "menit", "en": "min"},
    "days_unit": {"id": "hari", "en": "days"},
    "to": {"id": "sampai", "en": "to"},
    "limit": {"id": "Batas", "en": "Limit"},
    "valid_averages": {"id": "Rata-rata valid", "en": "Valid averages"},
    "exceedances": {"id": "Pelampauan", "en": "Exceedances"},
    "abnormal_hours": {"id": "Operasi abnormal (maks. 60 jam)", "en": "Abnormal operation (60 h max.)"},
    "alerts": {"id": "Pelampauan dan kecepatan tanggapan", "en": "Exceedances and response time"},
    "alerts_count": {"id": "Peringatan kritis/regulasi", "en": "Critical/regulatory alerts"},
    "acknowledged": {"id": "Ditanggapi", "en": "Acknowledged"},
    "median_ack": {"id": "Median waktu tanggapan", "en": "Median time to acknowledge"},
    "max_ack": {"id": "Waktu tanggapan terlama", "en": "Longest time to acknowledge"},
    "no_alert_db": {"id": "Basis data peringatan tidak tersedia", "en": "Alert database not available"},
    "smart": {"id": "Kontribusi Smart Environment", "en": "Smart Environment contribution"},
    "smart_text": {
        "id": "Dimensi Smart Environment (sub-elemen pengelolaan sampah dan limbah): {tonnes}\u00a0ton limbah medis dari "
              "{served} fasilitas kesehatan diolah di daerah, bukan dikirim ke luar pulau. Ketersediaan instalasi "
              "{availability}, ketersediaan data CEMS {data}, {exceedances} pelampauan baku mutu tercatat dan dilaporkan.",
        "en": "Smart Environment dimension (waste management sub-element): {tonnes}\u00a0t of medical waste from {served} "
              "health facilities treated locally instead of shipped off the island. Plant availability {availability}, "
              "CEMS data availability {data}, {exceedances} limit exceedances recorded and reported.",
    },
    "smart_note": {
        "id": "Indikator ini adalah bukti Output/Dampak yang ditetapkan proyek; bukan KPI resmi Kominfo.",
        "en": "These are project-defined Output/Impact evidence, not official Kominfo KPIs.",
    },
    "chart_tonnage": {"id": "Limbah diolah (t)", "en": "Waste treated (t)"},
    "chart_facility": {"id": "Limbah per fasilitas (t)", "en": "Waste per facility (t)"},
    "none": {"id": "tidak ada", "en": "none"},
    "loads": {"id": "Beban emisi (massa emisi)", "en": "Emission loads (mass emissions)"},
    "loads_basis": {
        "id": "Beban = konsentrasi kering pada O₂ terukur (sebelum koreksi O₂, tanpa pengurangan selang kepercayaan) × laju "
              "alir gas buang kering (Nm³/jam pada 273,15\u00a0K dan 101,3\u00a0kPa) × 10⁻⁶, atas waktu operasi efektif setiap {avg} "
              "yang valid. Periode tanpa nilai valid tidak menambah apa pun dan tidak diekstrapolasi.",
        "en": "Load = dry concentration at the measured O₂ (before the O₂ correction, no confidence interval subtracted) × "
              "dry flue-gas flow (Nm³/h at 273.15\u00a0K and 101.3\u00a0kPa) × 10⁻⁶, over the effective operating time of each valid "
              "{avg}. Periods without a valid value add nothing and are not extrapolated.",
    },
    "loads_flow_basis": {"id": "Basis alat ukur laju alir: {basis}", "en": "Flow meter basis: {basis}"},
    "loads_flow_dry_unconfirmed": {
        "id": "Bila alat ukur ternyata melaporkan laju alir basah, beban ini lebih tinggi dari sebenarnya sebesar "
              "100 / (100 − H₂O\u00a0%).",
        "en": "Should the meter report wet flow, these loads are overstated by 100 / (100 − H₂O\u00a0%).",
    },
    "loads_dry": {"id": "kering", "en": "dry"},
    "loads_wet": {"id": "basah (dikonversi ke kering dengan H₂O)", "en": "wet (made dry with H₂O)"},
    "loads_method": {"id": "Metode", "en": "Method"},
    "loads_method_text": {"id": "perhitungan proyek, bukan metode yang ditetapkan peraturan",
                          "en": "the project's calculation, not a method set by a regulation"},
    "loads_coverage": {
        "id": "Jam tercakup: waktu operasi dari rata-rata yang valid; cakupan periode = jam tercakup ÷ jam dalam periode. "
              "Perkiraan: laju massa rata-rata jam tercakup dikalikan seluruh jam operasi; perkiraan, bukan hasil "
              "pengukuran, dan tidak ditambahkan ke beban terukur.",
        "en": "Hours covered: operating time of the valid averages; coverage of the period = hours covered ÷ hours in the "
              "period. Estimate: the mean mass flow of the hours covered times every operating hour; an estimate, not a "
              "measurement, and not added to the measured load.",
    },
    "loads_mass": {"id": "Beban terukur", "en": "Measured load"},
    "loads_rate": {"id": "Laju massa rata-rata", "en": "Mean mass flow"},
    "loads_hours": {"id": "Jam tercakup / jam operasi (cakupan periode)", "en": "Hours covered / operating hours (coverage of the period)"},
    "loads_estimate": {"id": "Perkiraan (bukan hasil ukur)", "en": "Estimate (not measured)"},
    "loads_by_month": {"id": "Beban terukur per bulan (jam tercakup)", "en": "Measured load per month (hours covered)"},
    "loads_month": {"id": "Bulan", "en": "Month"},
    "loads_none": {"id": "Tidak ada profil yang menghitung beban emisi, atau tidak ada alat ukur laju alir dalam Nm³/jam.",
                   "en": "No profile computes emission loads, or there is no flow meter in Nm³/h."},
    "kg_h": {"id": "kg/jam", "en": "kg/h"},
    "t_year": {"id": "t/tahun", "en": "t/year"},
}

PROFILE_TITLES: dict[str, dict[Language, str]] = {
    "eu-ied-annex-vi": {"id": "EU IED 2010/75/EU Lampiran VI (acuan ketat)", "en": "EU IED 2010/75/EU Annex VI (strict reference)"},
    "id-kep03-1995-unconfirmed": {"id": "Baku mutu insinerator Kep-03/BAPEDAL/09/1995",
                                  "en": "Kep-03/BAPEDAL/09/1995 incinerator limits"},
    "id-p56-2015": {"id": "Permen LHK P.56/2015 Ps. 22(1): persyaratan teknis insinerator",
                    "en": "Permen LHK P.56/2015 Art. 22(1): incinerator technical requirements"},
    "id-data-availability": {"id": "Ketersediaan data CEMS SISPEK / PROPER", "en": "SISPEK / PROPER CEMS data availability"},
}
"""The bundled profiles' titles in each language (a profile's YAML title is one language's; a profile
not listed here is shown with its YAML title)."""

POLLUTANTS: dict[str, dict[Language, str]] = {
    "dust": {"id": "Debu", "en": "Dust"}, "heavy_metals": {"id": "Logam berat", "en": "Heavy metals"},
    "co": {"id": "CO", "en": "CO"}, "so2": {"id": "SO₂", "en": "SO₂"}, "nox": {"id": "NOₓ", "en": "NOₓ"},
    "hcl": {"id": "HCl", "en": "HCl"}, "hf": {"id": "HF", "en": "HF"}, "toc": {"id": "TOC", "en": "TOC"},
    "hg": {"id": "Hg", "en": "Hg"}, "cd_tl": {"id": "Cd + Tl", "en": "Cd + Tl"}, "pcdd_f": {"id": "PCDD/F", "en": "PCDD/F"},
    "cd": {"id": "Cd", "en": "Cd"}, "tl": {"id": "Tl", "en": "Tl"}, "as": {"id": "As", "en": "As"},
    "cr": {"id": "Cr", "en": "Cr"}, "pb": {"id": "Pb", "en": "Pb"},
}
PERIODS: dict[str, dict[Language, str]] = {
    "24h": {"id": "24 jam", "en": "24 h"}, "1h": {"id": "1 jam", "en": "1 h"}, "30min": {"id": "30 menit", "en": "30 min"},
    "10min": {"id": "10 menit", "en": "10 min"}, "sampling": {"id": "sampel berkala", "en": "periodic sample"},
}
AVERAGES: dict[str, dict[Language, tuple[str, str]]] = {
    "24h": {"id": ("rata-rata harian (24 jam)",) * 2, "en": ("daily (24 h) average", "daily (24 h) averages")},
    "1h": {"id": ("rata-rata per jam",) * 2, "en": ("hourly average", "hourly averages")},
    "30min": {"id": ("rata-rata 30 menit",) * 2, "en": ("half-hour average", "half-hour averages")},
    "10min": {"id": ("rata-rata 10 menit",) * 2, "en": ("10-minute average", "10-minute averages")},
    "sampling": {"id": ("hasil sampel berkala",) * 2, "en": ("periodic sampling result", "periodic sampling results")},
}
"""(singular, plural) of an averaging period's values, for the status-code legend."""
MONTHS: dict[Language, tuple[str, ...]] = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
UNITS = {"Nm3": "Nm³", "degC": "°C"}


def text(key: str, lang: Language) -> str:
    return CATALOGUE[key][lang]


def profile_title(profile_id: str, fallback: str, lang: Language) -> str:
    return PROFILE_TITLES[profile_id][lang] if profile_id in PROFILE_TITLES else fallback


def pollutant(name: str, lang: Language) -> str:
    return POLLUTANTS[name][lang] if name in POLLUTANTS else name.upper()


def averaging(period: str, lang: Language) -> str:
    return PERIODS[period][lang] if period in PERIODS else period


def unit(name: str) -> str:
    """`mg/Nm3` written `mg/Nm³`, `degC` `°C`."""
    for plain, written in UNITS.items():
        name = name.replace(plain, written)
    return name


def when(moment: datetime, lang: Language, *, year: bool = False, end: bool = False) -> str:
    """`27 Nov 10:00` (`27 Nov 2026 10:00` with the year); the local midnight that ends a stretch (`end`) is
    the day before's 24:00."""
    months = MONTHS[lang]
    if end and moment.hour == 0 and moment.minute == 0:
        moment -= timedelta(minutes=1)
        clock = "24:00"
    else:
        clock = f"{moment:%H:%M}"
    return f"{moment.day} {months[moment.month - 1]}" + (f" {moment.year}" if year else "") + f" {clock}"


def day_span(first: date, last: date, lang: Language) -> str:
    """`1 Nov – 30 Nov 2026`: the first and the last day of a period."""
    months = MONTHS[lang]
    head = f"{first.day} {months[first.month - 1]}" + ("" if first.year == last.year else f" {first.year}")
    return f"{head} – {last.day} {months[last.month - 1]} {last.year}"


def number(value: float | None, digits: int, lang: Language) -> str:
    """`1,234.57` in English, `1.234,57` in Indonesian; `–` for no value."""
    if value is None:
        return "–"
    written = f"{value:,.{digits}f}"
    return written.translate(str.maketrans(",.", ".,")) if lang == "id" else written


NBSP = "\u00a0"  # between a number and its unit, so a line never breaks between them


def percent(share: float | None, lang: Language, digits: int = 1) -> str:
    return "–" if share is None else number(share * 100, digits, lang) + NBSP + "%"
