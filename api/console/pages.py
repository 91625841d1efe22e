"""What every console page shares: the templates, the style, the policy, the texts in both languages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.headers import csp_hash

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f8}"
    "header{background:#16423c;color:#fff;padding:.75rem 1rem}header .who{float:right}"
    "main{max-width:40rem;margin:1.5rem auto;padding:0 1rem}"
    "label{display:block;margin-top:1rem;font-weight:600}"
    "input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #767676;border-radius:4px}"
    "button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;background:#16423c;color:#fff;border:0;border-radius:4px}"
    ".error{color:#8b0000;font-weight:600}"
    "main.wide{max-width:72rem}nav a{color:#fff;margin-left:1rem}"
    "table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #c8c8c8;padding:.4rem;text-align:left;"
    "vertical-align:top}td.id{white-space:nowrap}.critical{color:#8b0000;font-weight:700}.unack{background:#fff4e5}"
    "form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}form.filters label{margin-top:0}"
    "select{padding:.5rem;font-size:1rem}ol.trail li{margin:.3rem 0}textarea{width:100%;box-sizing:border-box;min-height:4rem}"
    "@media (max-width:40rem){td.more,th.more{display:none}}"
    ".ok{color:#1d6b2f;font-weight:600}.bad{color:#8b0000;font-weight:700}.muted{color:#555}"
    ".flag{background:#fff4e5;border:1px solid #c77700;border-radius:3px;padding:0 .25rem;font-size:.85em}"
    ".cards{display:flex;flex-wrap:wrap;gap:.75rem}.card{background:#fff;border:1px solid #c8c8c8;border-radius:4px;"
    "padding:.5rem .8rem;flex:1 1 11rem}.card strong{display:block;font-size:1.2rem}.scroll{overflow-x:auto}"
    "svg.spark{width:100%;height:auto;background:#fff;border:1px solid #c8c8c8}"
)
CSP = (f"default-src 'none'; style-src {csp_hash(STYLE)}; script-src 'self'; connect-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
TEXTS: dict[str, dict[str, Any]] = {
    "id": {
        "login_title": "Masuk", "name": "Nama pengguna", "password": "Kata sandi", "log_in": "Masuk",
        "home_title": "Konsol", "signed_in_as": "Masuk sebagai", "plants": "instalasi", "all_plants": "semua",
        "log_out": "Keluar", "wrong": "Nama pengguna atau kata sandi salah.",
        "throttled": "Terlalu banyak percobaan gagal. Coba lagi dalam {seconds} detik.",
        "roles": {"evaluator": "evaluator", "agency": "petugas DLH", "operator": "operator", "admin": "admin"},
        "inbox_title": "Kotak peringatan", "inbox_link": "Peringatan", "home_link": "Konsol",
        "no_inbox": "Evaluator tidak memiliki kotak peringatan: lihat ringkasan dan laporan.",
        "no_alert": "Tidak ada peringatan #{alert_id}.", "no_rows": "Tidak ada peringatan.",
        "col_id": "No.", "col_plant": "Instalasi", "col_severity": "Tingkat", "col_alert": "Peringatan",
        "col_status": "Status", "col_raised": "Mulai", "col_ack": "Diakui oleh", "col_category": "Kategori",
        "any": "semua", "filter": "Saring", "live": "Diperbarui otomatis setiap 2 detik.",
        "statuses": {"ACTIVE_UNACK": "aktif, belum diakui", "ACTIVE_ACK": "aktif, diakui",
                     "CLEARED_UNACK": "pulih, belum diakui", "CLEARED_ACK": "pulih, diakui"},
        "timeline": "Riwayat", "acknowledge": "Akui", "comment": "Komentar", "add_comment": "Tambah komentar",
        "value": "Nilai", "source": "Dasar aturan", "message": "Pesan", "back": "Kembali ke kotak peringatan",
        "done": {"ack": "Peringatan diakui.", "comment": "Komentar ditambahkan.", "assign": "Penugasan disimpan."},
        "kinds": {"raised": "muncul", "updated": "diperbarui", "cleared": "pulih", "acknowledged": "diakui",
                  "commented": "komentar", "assigned": "ditugaskan", "escalated": "eskalasi", "flapping": "tidak stabil",
                  "settled": "stabil"},
        "view_only": "Hanya operator dan admin yang dapat mengakui peringatan.",
        # the plant overview and the alert page's readings and assignment (api/console/overview.py, alerts.py)
        "plants_title": "Instalasi", "plants_link": "Instalasi", "overview_title": "Keadaan instalasi",
        "no_plant": "Tidak ada instalasi {plant}.", "no_plants": "Tidak ada instalasi.",
        "no_overview": "Evaluator tidak melihat keadaan instalasi: lihat ringkasan dan laporan.",
        "state": "Keadaan operasi", "state_unknown": "belum diketahui", "since": "sejak",
        "states": {"cold": "dingin", "preheat": "pemanasan awal", "ready": "siap", "burning": "pembakaran",
                   "burnout": "pembakaran akhir", "shutdown": "berhenti"},
        "chambers": "Suhu ruang bakar", "col_sensor": "Sensor", "col_now": "Sekarang", "col_required": "Syarat",
        "col_verdict": "Penilaian", "col_time": "Waktu", "col_pollutant": "Parameter", "col_period": "Periode",
        "col_limit": "Baku mutu", "col_rule": "Aturan", "col_profile": "Profil",
        "met": "memenuhi", "not_met": "di bawah syarat", "not_applicable": "tidak berlaku dalam keadaan ini",
        "no_reading": "tidak ada data", "stale": "data lama", "unconfirmed": "belum dikonfirmasi",
        "applies_in": "berlaku saat", "averages_title": "Rata-rata emisi tervalidasi terbaru",
        "compliant": "memenuhi", "exceeding": "melampaui", "no_average": "tidak ada rata-rata valid",
        "devices_title": "Perangkat", "online": "daring", "offline": "luring", "never": "belum pernah melapor",
        "open_alerts": "Peringatan aktif", "no_open": "Tidak ada peringatan aktif.",
        "refresh_note": "Diperbarui otomatis setiap {seconds} detik.", "updated": "Diperbarui",
        "readings_around": "Pembacaan di sekitar peringatan",
        "readings_span": "{sensor}, 1 jam sebelum hingga 30 menit sesudah peringatan, rata-rata per {step} detik",
        "readings_none": "Tidak ada pembacaan {sensor} dalam rentang ini.", "readings_table": "Pembacaan sebagai tabel",
        "raised_mark": "mulai", "cleared_mark": "pulih", "lowest": "terendah", "highest": "tertinggi",
        "assign": "Tugaskan", "assignee": "Ditugaskan ke", "nobody": "tidak seorang pun",
    },
    "en": {
        "login_title": "Log in", "name": "User name", "password": "Password", "log_in": "Log in",
        "home_title": "Console", "signed_in_as": "Signed in as", "plants": "plants", "all_plants": "all",
        "log_out": "Log out", "wrong": "Wrong user name or password.",
        "throttled": "Too many failed attempts. Try again in {seconds} s.",
        "roles": {"evaluator": "evaluator", "agency": "agency officer", "operator": "operator", "admin": "admin"},
        "inbox_title": "Alert inbox", "inbox_link": "Alerts", "home_link": "Console",
        "no_inbox": "Evaluators have no alert inbox: see the summaries and reports.",
        "no_alert": "No alert #{alert_id}.", "no_rows": "No alerts.",
        "col_id": "No.", "col_plant": "Plant", "col_severity": "Severity", "col_alert": "Alert",
        "col_status": "Status", "col_raised": "Raised", "col_ack": "Acknowledged by", "col_category": "Category",
        "any": "any", "filter": "Filter", "live": "Updates by itself every 2 s.",
        "statuses": {"ACTIVE_UNACK": "active, unacknowledged", "ACTIVE_ACK": "active, acknowledged",
                     "CLEARED_UNACK": "recovered, unacknowledged", "CLEARED_ACK": "recovered, acknowledged"},
        "timeline": "Timeline", "acknowledge": "Acknowledge", "comment": "Comment", "add_comment": "Add comment",
        "value": "Value", "source": "Rule source", "message": "Message", "back": "Back to the inbox",
        "done": {"ack": "Alert acknowledged.", "comment": "Comment added.", "assign": "Assignment saved."},
        "kinds": {"raised": "raised", "updated": "updated", "cleared": "recovered", "acknowledged": "acknowledged",
                  "commented": "comment", "assigned": "assigned", "escalated": "escalated", "flapping": "flapping",
                  "settled": "settled"},
        "view_only": "Only operators and admins may acknowledge alerts.",
        # the plant overview and the alert page's readings and assignment (api/console/overview.py, alerts.py)
        "plants_title": "Plants", "plants_link": "Plants", "overview_title": "Plant overview",
        "no_plant": "No plant {plant}.", "no_plants": "No plants.",
        "no_overview": "Evaluators see no plant's live state: see the summaries and reports.",
        "state": "Operating state", "state_unknown": "not known yet", "since": "since",
        "states": {"cold": "cold", "preheat": "pre-heat", "ready": "ready", "burning": "burning",
                   "burnout": "burn-out", "shutdown": "shut-down"},
        "chambers": "Chamber temperatures", "col_sensor": "Sensor", "col_now": "Now", "col_required": "Required",
        "col_verdict": "Verdict", "col_time": "Time", "col_pollutant": "Pollutant", "col_period": "Period",
        "col_limit": "Limit", "col_rule": "Rule", "col_profile": "Profile",
        "met": "met", "not_met": "below the requirement", "not_applicable": "does not apply in this state",
        "no_reading": "no reading", "stale": "stale", "unconfirmed": "unconfirmed",
        "applies_in": "applies when", "averages_title": "Latest validated emission averages",
        "compliant": "compliant", "exceeding": "exceeding", "no_average": "no valid average",
        "devices_title": "Devices", "online": "online", "offline": "offline", "never": "never reported",
        "open_alerts": "Open alerts", "no_open": "No open alerts.",
        "refresh_note": "Updates by itself every {seconds} s.", "updated": "Updated",
        "readings_around": "Readings around the alert",
        "readings_span": "{sensor}, 1 h before to 30 min after the alert, mean per {step} s",
        "readings_none": "No readings of {sensor} in this range.", "readings_table": "Readings as a table",
        "raised_mark": "raised", "cleared_mark": "cleared", "lowest": "lowest", "highest": "highest",
        "assign": "Assign", "assignee": "Assigned to", "nobody": "nobody",
    },
}
HOME = "/console/"

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["j2"]))
# Times in the plant's own zone, named (WIB, WITA, WIT): what the control room's clock and the agency's letters say.
_templates.filters["local"] = lambda ms, zone: datetime.fromtimestamp(ms / 1000, zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def lang_of(value: str | None) -> str:
    return value if value in TEXTS else "id"


def render(template: str, lang: str, **values: Any) -> str:
    return _templates.get_template(template).render(lang=lang, t=TEXTS[lang], style=STYLE, **values)


def page(template: str, lang: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = render(template, lang, **values)
    # same-origin, not the API's no-referrer: under no-referrer a browser's form post says `Origin: null`,
    # and the console's same-origin check would refuse every one
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store",
                                                           "Referrer-Policy": "same-origin"})


