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
    "header{background:#16423c;color:#fff;padding:.75rem 1rem;display:flex;flex-wrap:wrap;align-items:baseline;gap:.25rem 1rem}header .who{margin-left:auto}"
    "main{max-width:40rem;margin:1.5rem auto;padding:0 1rem}"
    "label{display:block;margin-top:1rem;font-weight:600}"
    "input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #767676;border-radius:4px}"
    "button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;background:#16423c;color:#fff;border:0;border-radius:4px}"
    ".error{color:#8b0000;font-weight:600}"
    "main.wide{max-width:72rem}nav a{color:#fff;margin-right:1rem}header nav{display:flex;flex-wrap:wrap}"
    "table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #c8c8c8;padding:.4rem;text-align:left;"
    "vertical-align:top}td.id{white-space:nowrap}.critical{color:#8b0000;font-weight:700}.unack{background:#fff4e5}"
    "form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}form.filters label{margin-top:0}"
    "select{padding:.5rem;font-size:1rem}ol.trail li{margin:.3rem 0}textarea{width:100%;box-sizing:border-box;min-height:4rem}"
    ".hint{color:#4a4a4a;font-size:.9rem}svg.chart{width:100%;height:auto;max-width:40rem}figure{margin:1rem 0}"
    "div.tablewrap{overflow-x:auto;margin:.5rem 0}td.actions{min-width:15rem}h1{font-size:1.6rem;overflow-wrap:anywhere}nav.local{margin:.5rem 0}nav.local a{color:#16423c;margin:0 .25rem}caption{text-align:left;font-weight:600;padding:.3rem 0}.ok{color:#1d5e20}.bad,.warn{color:#8b0000}"
    "form.inline{display:inline-block;margin:0 .5rem .5rem 0}form.inline label{margin-top:0;font-weight:400}"
    "form.inline button{margin-top:.3rem}button.danger{background:#8b0000}fieldset{margin-top:1rem;border:1px solid #c8c8c8}"
    "label.check{display:inline-block;font-weight:400;margin:.3rem 1rem 0 0}label.check input{width:auto}"
    "input.short{width:10rem}code{word-break:break-all;background:#fff;padding:.2rem}section.secret{border:2px solid #16423c;"
    "padding:.5rem 1rem;background:#fff}ul.downloads a{margin-left:.5rem}"
    "@media (max-width:40rem){td.more,th.more{display:none}}"
    ".ok{color:#1d6b2f;font-weight:600}.bad{color:#8b0000;font-weight:700}.muted{color:#555}"
    ".flag{background:#fff4e5;border:1px solid #c77700;border-radius:3px;padding:0 .25rem;font-size:.85em}"
    ".cards{display:flex;flex-wrap:wrap;gap:.75rem}.card{background:#fff;border:1px solid #c8c8c8;border-radius:4px;"
    "padding:.5rem .8rem;flex:1 1 11rem}.card strong{display:block;font-size:1.2rem}.scroll{overflow-x:auto}"
    "svg.spark{width:100%;max-width:40rem;height:auto;background:#fff;border:1px solid #c8c8c8}"
    "@media (max-width:40rem){.scroll table{font-size:.85rem}.scroll th,.scroll td{padding:.25rem}.desc{display:none}}"
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
        "any": "semua", "filter": "Saring", "live": "Diperbarui otomatis setiap detik.",
        "statuses": {"ACTIVE_UNACK": "aktif, belum diakui", "ACTIVE_ACK": "aktif, diakui",
                     "CLEARED_UNACK": "pulih, belum diakui", "CLEARED_ACK": "pulih, diakui"},
        "timeline": "Riwayat", "acknowledge": "Akui", "comment": "Komentar", "add_comment": "Tambah komentar",
        "value": "Nilai", "source": "Dasar aturan", "message": "Pesan", "back": "Kembali ke kotak peringatan",
        "done": {"ack": "Peringatan diakui.", "comment": "Komentar ditambahkan.", "assign": "Penugasan disimpan."},
        "kinds": {"raised": "muncul", "updated": "diperbarui", "cleared": "pulih", "acknowledged": "diakui",
                  "commented": "komentar", "assigned": "ditugaskan", "escalated": "eskalasi", "flapping": "tidak stabil",
                  "settled": "stabil"},
        "view_only": "Hanya operator dan admin yang dapat mengakui peringatan.",
        "sum": {
            "title": "Ringkasan", "sections": "bagian konsol", "other_language": "English", "period": "Periode",
            "sispek_title": "Unggah SISPEK (tidak resmi sampai dikonfirmasi dengan KLHK)",
            "sispek_off": "Pengunggah SISPEK belum pernah berjalan pada basis data ini.",
            "sispek_counts": "Rekaman 5 menit: {pending} menunggu, {sent} terkirim, {failed} gagal (wastewatch sispek status merinci).",
            "period_hint": "Bulan (2026-11), triwulan (2026-Q4) atau tahun (2026), menurut kalender instalasi.", "show": "Tampilkan",
            "plants_caption": "Instalasi yang dapat Anda lihat", "no_plants": "Tidak ada instalasi.", "tonnes": "Ton diolah",
            "batches": "Angkutan", "batches_word": "angkutan", "facilities_word": "fasilitas asal", "plant_availability": "Ketersediaan instalasi",
            "data_availability": "Ketersediaan data", "exceedances": "Pelampauan", "downloads": "Unduh laporan",
            "languages": {"id": "Bahasa Indonesia", "en": "English"}, "tonnage": "Tonase", "by_facility": "Per fasilitas asal",
            "by_code": "Per kode limbah", "facility": "Fasilitas", "waste_code": "Kode limbah", "none": "Tidak ada data.",
            "chart_tonnage": "Ton diolah dalam {period}", "chart_facility": "Ton per fasilitas asal",
            "chart_data": "Jam valid per polutan (%)", "uptime": "Waktu operasi", "period_h": "Jam dalam periode",
            "operating_h": "Jam operasi efektif", "h": "jam", "downtime": "Henti operasi (kejadian)", "pollutant": "Polutan",
            "valid_h": "Jam valid", "discarded_h": "Jam dibuang", "share": "Bagian", "valid_days": "Hari valid / hari operasi",
            "quarter_rule": "Aturan 75 % per triwulan", "met": "terpenuhi", "not_met": "tidak terpenuhi",
            "data_rule": "Satu hari valid bila memiliki paling sedikit 18 jam valid; paling sedikit 75 % hari operasi dalam satu triwulan harus valid.",
            "compliance": "Kepatuhan baku mutu", "abnormal": "Jam operasi tidak normal", "rule": "Aturan", "limit": "Baku mutu",
            "valid_averages": "Rata-rata valid", "within": "Di bawah baku mutu", "unconfirmed": "belum dikonfirmasi",
            "unconfirmed_note": "Baku mutu bertanda \u201cbelum dikonfirmasi\u201d belum diperiksa terhadap izin instalasi.",
            "bad_period": "Periode {period!r} tidak dapat dibaca: tulis bulan (2026-11), triwulan (2026-Q4) atau tahun (2026), antara 1970 dan 2199.",
            "bad_format": "Format laporan harus salah satu dari: {formats}.", "no_plant": "Tidak ada instalasi {plant!r}.",
        },
        "adm": {
            "forbidden_title": "Tidak diizinkan", "forbidden": "Halaman ini hanya untuk peran yang lebih tinggi (admin).",
            "plants_col": "Instalasi", "scoped": "Admin yang dibatasi pada instalasi tertentu tidak dapat mengelola pengguna dan kunci API.",
            "users_title": "Pengguna", "keys_title": "Kunci API", "users_caption": "Pengguna konsol", "keys_caption": "Kunci API yang aktif",
            "role": "Peran", "created": "Dibuat", "actions": "Tindakan", "active": "aktif", "disabled": "nonaktif",
            "new_password_for": "Kata sandi baru untuk", "reset_password": "Ganti kata sandi", "disable": "Nonaktifkan",
            "no_users": "Belum ada pengguna.", "add_user": "Tambah pengguna",
            "plants_hint": "Tanpa centang: semua instalasi.",
            "password_hint": "Paling sedikit {min} karakter, bukan nama pengguna.",
            "weak_password": "Kata sandi harus {min} sampai {max} karakter dan bukan nama pengguna.",
            "bad_name": "Nama harus 1 sampai 64 huruf, angka, spasi atau . _ @ -, diawali huruf atau angka.",
            "bad_role": "Pilih salah satu peran.", "bad_plants": "Pilih instalasi dari daftar.",
            "user_exists": "Pengguna {name!r} sudah ada.", "no_user": "Tidak ada pengguna {name!r}.",
            "not_yourself": "Anda tidak dapat menonaktifkan diri sendiri.", "key_id": "ID kunci", "key_name": "Nama kunci", "revoke": "Cabut",
            "no_keys": "Tidak ada kunci aktif.", "issue_key": "Terbitkan kunci", "issued": "Kunci {name!r} diterbitkan",
            "shown_once": "Salin kunci ini sekarang: kunci hanya ditampilkan sekali dan tidak disimpan.",
            "key_exists": "Kunci aktif bernama {name!r} sudah ada; cabut dulu.", "no_key": "Tidak ada kunci aktif {key_id!r}.",
            "done": {"added": "Pengguna ditambahkan.", "password": "Kata sandi diganti; sesi pengguna itu diakhiri.",
                     "disabled": "Pengguna dinonaktifkan; sesinya diakhiri.", "revoked": "Kunci dicabut."},
        },
        "pub": {
            "title": "Transparansi", "not_public": "Halaman ini tidak tersedia.",
            "sealed_title": "Catatan tersegel",
            "sealed_text": "Catatan instalasi disegel setiap hari dalam rantai hash (wastewatch verify memeriksanya); hash rantai hari terakhir yang disegel,",
            "intro": "Data pemantauan insinerator limbah medis ini, diperbarui setiap menit.", "state_now": "Keadaan sekarang",
            "states": {"cold": "dingin", "preheat": "pemanasan awal", "ready": "siap", "burning": "membakar",
                       "burnout": "pembakaran akhir", "shutdown": "berhenti"},
            "no_state": "tidak diketahui", "since": "sejak", "as_of": "Data per", "this_month": "Bulan ini sampai sekarang", "tonnes": "Limbah diolah",
            "emissions": "Rata-rata harian tervalidasi", "emissions_hint": "Rata-rata harian dibandingkan dengan baku mutu hariannya.",
            "today": "Hari ini", "month_days": "Bulan ini", "within": "memenuhi", "above": "melampaui",
            "no_average": "belum ada", "days_word": "hari valid", "over_word": "melampaui", "compliant": "patuh",
            "not_compliant": "tidak patuh",
        },
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
        "above_share": "di atas nilai; {rule} membolehkan {allow} %",
        "mf": {"title": "Manifes limbah", "month": "Bulan", "show": "Tampilkan", "imported": "Hasil impor", "row": "baris",
               "rule": "Aturan: |diterima − dideklarasikan| / dideklarasikan > {tol} adalah ketidaksesuaian (domain.md §7, [A]).",
               "declared": "Dideklarasikan", "weighed": "Ditimbang dan diolah", "difference": "Selisih",
               "received": "Diterima atas manifes", "without": "Tanpa manifes", "open": "Terbuka",
               "bunker": "Stok bunker tidak diukur: batch yang disimpan adalah batch yang dibakar; yang dibandingkan hanya deklarasi dengan timbangan.",
               "per_facility": "Per fasilitas pengirim", "facility": "Fasilitas", "manifests": "Manifes", "number": "No. manifes",
               "code": "Kode limbah", "state": "Status", "none": "Tidak ada manifes atau batch bulan ini.",
               "open_title": "Ketidaksesuaian terbuka", "none_open": "Tidak ada ketidaksesuaian terbuka.",
               "statement_pdf": "Neraca bulanan (PDF)", "upload": "Unggah manifes", "file": "Berkas CSV atau XLSX",
               "file_hint": "Kolom: nomor manifes, penghasil (id atau nama fasilitas), kode limbah, jumlah (kg), tanggal kirim, tanggal terima.",
               "no_file": "Pilih berkas CSV atau XLSX.", "no_plant": "Tidak ada instalasi {plant}.",
               "bad_month": "Bulan {month!r} tidak dapat dibaca: tulis YYYY-MM, misalnya 2026-11.",
               "states": {"matched": "sesuai", "quantity_differs": "jumlah berbeda", "never_received": "tidak pernah diterima",
                          "awaiting": "menunggu (masa tenggang)"}},
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
        "any": "any", "filter": "Filter", "live": "Updates by itself every second.",
        "statuses": {"ACTIVE_UNACK": "active, unacknowledged", "ACTIVE_ACK": "active, acknowledged",
                     "CLEARED_UNACK": "recovered, unacknowledged", "CLEARED_ACK": "recovered, acknowledged"},
        "timeline": "Timeline", "acknowledge": "Acknowledge", "comment": "Comment", "add_comment": "Add comment",
        "value": "Value", "source": "Rule source", "message": "Message", "back": "Back to the inbox",
        "done": {"ack": "Alert acknowledged.", "comment": "Comment added.", "assign": "Assignment saved."},
        "kinds": {"raised": "raised", "updated": "updated", "cleared": "recovered", "acknowledged": "acknowledged",
                  "commented": "comment", "assigned": "assigned", "escalated": "escalated", "flapping": "flapping",
                  "settled": "settled"},
        "view_only": "Only operators and admins may acknowledge alerts.",
        "sum": {
            "title": "Summary", "sections": "console sections", "other_language": "Bahasa Indonesia", "period": "Period",
            "sispek_title": "SISPEK upload (unofficial until confirmed with KLHK)",
            "sispek_off": "The SISPEK uploader has never run on this database.",
            "sispek_counts": "5-minute records: {pending} pending, {sent} sent, {failed} failed (wastewatch sispek status has the detail).",
            "period_hint": "A month (2026-11), quarter (2026-Q4) or year (2026), on the plant's calendar.", "show": "Show",
            "plants_caption": "The plants you read", "no_plants": "No plants.", "tonnes": "Tonnes treated",
            "batches": "Batches", "batches_word": "batches", "facilities_word": "facilities served", "plant_availability": "Plant availability",
            "data_availability": "Data availability", "exceedances": "Exceedances", "downloads": "Download the report",
            "languages": {"id": "Bahasa Indonesia", "en": "English"}, "tonnage": "Tonnage", "by_facility": "By source facility",
            "by_code": "By waste code", "facility": "Facility", "waste_code": "Waste code", "none": "No data.",
            "chart_tonnage": "Tonnes treated in {period}", "chart_facility": "Tonnes per source facility",
            "chart_data": "Valid hours per pollutant (%)", "uptime": "Uptime", "period_h": "Hours in the period",
            "operating_h": "Effective operating hours", "h": "h", "downtime": "Downtime (incidents)", "pollutant": "Pollutant",
            "valid_h": "Valid hours", "discarded_h": "Discarded hours", "share": "Share", "valid_days": "Valid days / operating days",
            "quarter_rule": "75 % rule per quarter", "met": "met", "not_met": "not met",
            "data_rule": "A day is valid with at least 18 valid hours; at least 75 % of a quarter's operating days must be valid.",
            "compliance": "Emission limit compliance", "abnormal": "Abnormal operation hours", "rule": "Rule", "limit": "Limit",
            "valid_averages": "Valid averages", "within": "Within the limit", "unconfirmed": "unconfirmed",
            "unconfirmed_note": "Limits marked \u201cunconfirmed\u201d have not been checked against the plant's permit.",
            "bad_period": "The period {period!r} cannot be read: write a month (2026-11), quarter (2026-Q4) or year (2026), between 1970 and 2199.",
            "bad_format": "The report format must be one of: {formats}.", "no_plant": "No plant {plant!r}.",
        },
        "adm": {
            "forbidden_title": "Not allowed", "forbidden": "This page is for a higher role (admin).",
            "plants_col": "Plants", "scoped": "An admin scoped to plants cannot manage users and API keys.",
            "users_title": "Users", "keys_title": "API keys", "users_caption": "Console users", "keys_caption": "Live API keys",
            "role": "Role", "created": "Created", "actions": "Actions", "active": "active", "disabled": "disabled",
            "new_password_for": "New password for", "reset_password": "Reset password", "disable": "Disable",
            "no_users": "No users yet.", "add_user": "Add user",
            "plants_hint": "None ticked: every plant.",
            "password_hint": "At least {min} characters, not the user name.",
            "weak_password": "A password has {min} to {max} characters and is not the user name.",
            "bad_name": "A name is 1 to 64 letters, digits, spaces or . _ @ -, starting with a letter or digit.",
            "bad_role": "Choose one of the roles.", "bad_plants": "Choose plants from the list.",
            "user_exists": "A user {name!r} exists already.", "no_user": "No user {name!r}.",
            "not_yourself": "You cannot disable yourself.", "key_id": "Key id", "key_name": "Key name", "revoke": "Revoke",
            "no_keys": "No live keys.", "issue_key": "Issue key", "issued": "Key {name!r} issued",
            "shown_once": "Copy this key now: it is shown this once and stored nowhere.",
            "key_exists": "A live key named {name!r} exists already; revoke it first.", "no_key": "No live key {key_id!r}.",
            "done": {"added": "User added.", "password": "Password reset; that user's sessions ended.",
                     "disabled": "User disabled; their sessions ended.", "revoked": "Key revoked."},
        },
        "pub": {
            "title": "Transparency", "not_public": "This page is not available.",
            "sealed_title": "Sealed records",
            "sealed_text": "The plant's records are sealed each day into a hash chain (wastewatch verify checks them); the chain hash of the last sealed day,",
            "intro": "This medical-waste incinerator's monitoring data, updated every minute.", "state_now": "State now",
            "states": {"cold": "cold", "preheat": "preheating", "ready": "ready", "burning": "burning",
                       "burnout": "burning out", "shutdown": "shut down"},
            "no_state": "unknown", "since": "since", "as_of": "Data as of", "this_month": "This month so far", "tonnes": "Waste treated",
            "emissions": "Validated daily averages", "emissions_hint": "Daily averages against their daily limits.",
            "today": "Today", "month_days": "This month", "within": "within", "above": "above",
            "no_average": "not yet", "days_word": "valid days", "over_word": "above", "compliant": "compliant",
            "not_compliant": "not compliant",
        },
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
        "above_share": "above the value; {rule} allows {allow} %",
        "mf": {"title": "Waste manifests", "month": "Month", "show": "Show", "imported": "Import result", "row": "row",
               "rule": "Rule: |received − declared| / declared > {tol} is a discrepancy (domain.md §7, [A]).",
               "declared": "Declared", "weighed": "Weighed and treated", "difference": "Difference",
               "received": "Received under the manifests", "without": "Without a manifest", "open": "Open",
               "bunker": "Bunker stock is not measured: the stored batches are the batches fed; only declared against weighed is compared.",
               "per_facility": "Per sending facility", "facility": "Facility", "manifests": "Manifests", "number": "Manifest no.",
               "code": "Waste code", "state": "State", "none": "No manifests or batches this month.",
               "open_title": "Open discrepancies", "none_open": "No open discrepancies.",
               "statement_pdf": "Monthly statement (PDF)", "upload": "Upload manifests", "file": "CSV or XLSX file",
               "file_hint": "Columns: manifest number, generator (facility id or name), waste code, quantity (kg), shipped, received.",
               "no_file": "Choose a CSV or XLSX file.", "no_plant": "No plant {plant}.",
               "bad_month": "Month {month!r} cannot be read: write YYYY-MM, e.g. 2026-11.",
               "states": {"matched": "matched", "quantity_differs": "quantity differs", "never_received": "never received",
                          "awaiting": "awaiting (grace period)"}},
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


