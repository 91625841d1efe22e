"""Notification texts in Bahasa Indonesia and English: what an officer needs to act on an alert.

Each notification carries both languages (`payload["text"]["id" | "en"]`); `language` says which
comes first. The payload is built once, when the alert changes, and stored with the outbox row, so a
retry days later sends exactly what the alert looked like then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from alerts.conditions import Repeating, Threshold
from alerts.rules import Rule
from alerts.store import AlertRecord
from wastewatch.plant import PlantConfig

SEVERITY = {
    "id": {"critical": "KRITIS", "major": "BERAT", "minor": "RINGAN", "warning": "PERINGATAN"},
    "en": {"critical": "CRITICAL", "major": "MAJOR", "minor": "MINOR", "warning": "WARNING"},
}
CATEGORY = {
    "id": {"process": "proses", "safety": "keselamatan", "data_quality": "kualitas data", "regulatory": "regulasi",
           "interlock": "interlok umpan"},
    "en": {"process": "process", "safety": "safety", "data_quality": "data quality", "regulatory": "regulatory",
           "interlock": "feed interlock"},
}
HEADLINE = {
    "id": {"raised": "ALARM", "cleared": "PULIH", "escalated": "ESKALASI", "flapping": "TIDAK STABIL", "settled": "STABIL"},
    "en": {"raised": "ALERT", "cleared": "RECOVERED", "escalated": "ESCALATED", "flapping": "FLAPPING", "settled": "SETTLED"},
}
TITLES_ID = {
    "t_primary_low": "Suhu ruang bakar primer di bawah 800 °C saat pembakaran",
    "t_secondary_low": "Suhu ruang bakar sekunder di bawah 1000 °C saat ada limbah",
    "feed_interlock": "Limbah dimasukkan saat pengumpanan tidak diizinkan",
    "t_secondary_falling": "Suhu ruang bakar sekunder turun di bawah set-point (burner tidak menahannya)",
    "draft_positive": "Tekanan ruang bakar primer di atas tekanan udara luar",
    "id_fan_stopped": "Kipas ID berhenti saat ada limbah di ruang bakar",
    "draft_positive_repeated": "Tekanan positif berulang (pintu umpan)",
    "scrubber_ph_low": "pH larutan scrubber di bawah batas operasi",
    "thermocouple_open": "Termokopel putus (lonjakan tidak wajar)",
    "flatline": "Nilai sensor macet saat instalasi beroperasi",
    "plant_no_data": "Tidak ada data dari instalasi (gangguan jaringan atau gateway)",
    "cems_no_data": "Tidak ada data CEMS",
    "cems_channel_no_data": "Satu kanal CEMS tidak mengirim data",
    "plc_no_data": "Tidak ada data proses dari PLC",
    "charge_rate": "Batch terlalu besar atau laju pengumpanan melebihi kapasitas",
    "overcharging": "Pengumpanan berlebih (O2 rendah, CO tinggi)",
}
LABELS = {
    "id": {"plant": "Instalasi", "what": "Kejadian", "measured": "Nilai terukur", "limit": "batas", "since": "Sejak",
           "level": "Tingkat", "category": "kategori", "source": "Dasar aturan", "message": "Pesan", "link": "Tautan",
           "recovered": "Pulih pada", "lasted": "lamanya", "min": "menit",
           "escalated": "Belum dikonfirmasi selama {minutes:g} menit: eskalasi tingkat {level}",
           "flapping": "Alarm ini muncul {count} kali dalam {window:g} menit; notifikasi berikutnya ditahan sampai stabil",
           "settled_active": "Sudah stabil selama {minutes:g} menit; kondisi masih AKTIF",
           "settled_cleared": "Sudah stabil selama {minutes:g} menit; kondisi sudah PULIH",
           "digest": "{count} notifikasi lain ditahan karena batas laju kanal {channel}",
           "digest_subject": "[RINGKASAN] {count} notifikasi ditahan"},
    "en": {"plant": "Plant", "what": "What", "measured": "Measured", "limit": "limit", "since": "Since",
           "level": "Severity", "category": "category", "source": "Rule source", "message": "Message", "link": "Link",
           "recovered": "Recovered at", "lasted": "lasted", "min": "min",
           "escalated": "Not acknowledged for {minutes:g} min: escalation level {level}",
           "flapping": "This alert was raised {count} times within {window:g} min; further notifications are held until it settles",
           "settled_active": "No longer flapping for {minutes:g} min; the condition is still ACTIVE",
           "settled_cleared": "No longer flapping for {minutes:g} min; the condition has RECOVERED",
           "digest": "{count} more notifications suppressed by the rate limit of channel {channel}",
           "digest_subject": "[DIGEST] {count} notifications suppressed"},
}
UNITS = {"degC": "°C", "bool": ""}


@dataclass(frozen=True, slots=True)
class Limit:
    value: float | None
    unit: str


def rule_limit(rule: Rule | None, subject: str, plant: PlantConfig | None) -> Limit:
    """The rule's first numeric threshold and the unit of the sensor it reads."""
    if rule is None:
        return Limit(None, "")
    for _, leaf in rule.leaves:
        if isinstance(leaf, (Threshold, Repeating)):
            sensor = leaf.sensor or rule.bound_sensor(subject)
            spec = plant.sensor(sensor) if plant is not None and sensor else None
            return Limit(leaf.value, UNITS.get(spec.unit, spec.unit) if spec else "")
    return Limit(None, "")


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def _local(ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ms / 1000, zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def alert_payload(
    kind: str, alert: AlertRecord, *, at_ms: int, rule: Rule | None, plant: PlantConfig | None,
    public_url: str, language: str, extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON document of one alert notification (raised, cleared, escalated, flapping, settled)."""
    zone = plant.zone if plant is not None else ZoneInfo("UTC")
    limit = rule_limit(rule, alert.subject, plant)
    link = f"{public_url.rstrip('/')}/alerts/{alert.id}"
    payload: dict[str, Any] = {
        "kind": kind, "alert_id": alert.id, "plant": alert.plant, "plant_name": plant.name if plant else alert.plant,
        "rule": alert.rule_id, "subject": alert.subject, "severity": alert.severity, "category": alert.category,
        "title": alert.title, "source": alert.source, "message": alert.message, "value": alert.value,
        "limit": limit.value, "unit": limit.unit, "since": _iso(alert.first_seen_ms, zone),
        "raised_at": _iso(alert.raised_at_ms, zone), "at": _iso(at_ms, zone), "link": link, "language": language,
        **(extra or {}),
    }
    payload["text"] = {lang: _alert_text(lang, kind, alert, payload, limit, at_ms, zone) for lang in ("id", "en")}
    return payload


def _iso(ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ms / 1000, zone).isoformat(timespec="seconds")


def _alert_text(
    lang: str, kind: str, alert: AlertRecord, payload: Mapping[str, Any], limit: Limit, at_ms: int, zone: ZoneInfo
) -> dict[str, str]:
    words = LABELS[lang]
    title = (TITLES_ID.get(alert.rule_id) if lang == "id" else None) or alert.title or alert.rule_id
    subject = f"[{HEADLINE[lang][kind]} · {SEVERITY[lang][alert.severity]}] {alert.plant}: {title} ({alert.subject})"
    measured = _number(alert.value, limit.unit)
    if limit.value is not None:
        measured += f" ({words['limit']} {_number(limit.value, limit.unit)})"
    lines = [
        f"{words['plant']}: {payload['plant_name']}",
        f"{words['what']}: {title} — {alert.subject}",
        f"{words['measured']}: {measured}",
        f"{words['since']}: {_local(alert.first_seen_ms, zone)}",
    ]
    if kind == "cleared":
        lasted_min = (at_ms - alert.raised_at_ms) / 60_000
        lines.append(f"{words['recovered']}: {_local(at_ms, zone)} ({words['lasted']} {lasted_min:.0f} {words['min']})")
    if kind == "escalated":
        lines.append(words["escalated"].format(minutes=payload.get("after_min", 0), level=payload.get("escalation_level", 1)))
    if kind == "flapping":
        lines.append(words["flapping"].format(count=payload.get("raises", 0), window=payload.get("window_min", 0)))
    if kind == "settled":
        state = "settled_active" if alert.active else "settled_cleared"
        lines.append(words[state].format(minutes=payload.get("quiet_min", 0)))
    lines += [
        f"{words['level']}: {SEVERITY[lang][alert.severity]}, {words['category']} {CATEGORY[lang][alert.category]}",
        f"{words['source']}: {alert.source}",
        f"{words['message']}: {payload['message']}",
        f"{words['link']}: {payload['link']}",
    ]
    return {"subject": subject, "body": "\n".join(lines)}


def digest_payload(channel: str, suppressed: Sequence[Mapping[str, Any]], *, language: str, at_ms: int) -> dict[str, Any]:
    """One "N more suppressed" notification listing what the rate limit held back."""
    count = len(suppressed)
    plant = str(suppressed[0].get("plant", "")) if suppressed else ""
    items = [
        {"kind": p.get("kind"), "alert_id": p.get("alert_id"), "rule": p.get("rule"), "subject": p.get("subject"),
         "severity": p.get("severity"), "at": p.get("at")}
        for p in suppressed
    ]
    text = {}
    for lang in ("id", "en"):
        words = LABELS[lang]
        lines = [words["digest"].format(count=count, channel=channel)]
        lines += [f"- {i['at']} {i['kind']} {i['rule']} ({i['subject']}) {i['severity']}" for i in items[:50]]
        text[lang] = {"subject": words["digest_subject"].format(count=count), "body": "\n".join(lines)}
    return {"kind": "digest", "plant": plant, "channel": channel, "suppressed": count, "items": items,
            "at_ms": at_ms, "language": language, "text": text}


SEALED_DAY = "ledger_day"


def sealed_day_payload(plant: PlantConfig | None, plant_id: str, day: str, root: str, chain: str, leaves: int, *,
                       language: str, at_ms: int) -> dict[str, Any]:
    """A day sealed into the tamper-evident ledger, for the agency: its root and chain hash (what
    `wastewatch verify` checks the records against), in both languages."""
    name = plant.name if plant is not None else plant_id
    text = {
        "id": {"subject": f"[Catatan tersegel] {plant_id} {day}: hash rantai {chain[:16]}…",
               "body": f"Instalasi: {name}\nHari: {day}\nCatatan: {leaves}\nAkar Merkle: {root}\nHash rantai: {chain}\n"
                       "Simpan hash rantai ini: wastewatch verify memeriksa catatan instalasi terhadapnya."},
        "en": {"subject": f"[Sealed records] {plant_id} {day}: chain hash {chain[:16]}…",
               "body": f"Plant: {name}\nDay: {day}\nRecords: {leaves}\nMerkle root: {root}\nChain hash: {chain}\n"
                       "Keep this chain hash: wastewatch verify checks the plant's records against it."},
    }
    return {"kind": SEALED_DAY, "plant": plant_id, "day": day, "root": root, "chain": chain, "records": leaves,
            "at_ms": at_ms, "language": language, "text": text}
