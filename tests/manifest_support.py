"""Shared by the manifest tests: hand-made manifest files (CSV and XLSX) of November 2026 at Kotim and
the weighed batches they are reconciled against, written to the real InfluxDB."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from wastewatch.points import Store
from wastewatch.records import Batch

ZONE = ZoneInfo("Asia/Jakarta")


def local_ms(day: int, hour: int, minute: int = 0, month: int = 11) -> int:
    return int(datetime(2026, month, day, hour, minute, tzinfo=ZONE).timestamp() * 1000)


# Indonesian headers, semicolons, decimal commas. Row 2 matches its batches (120 declared, 121 weighed:
# 0.83 %), row 3 differs (100 declared, 88 weighed: 12 %), row 4 repeats row 2 (same file: reported,
# stored once), row 5 is malformed (quantity "abc"), row 6 names a generator the plant file lacks.
CSV_NOVEMBER = (
    b"Nomor Manifest;Penghasil;Kode Limbah;Jumlah (kg);Tanggal Kirim;Tanggal Terima\n"
    b"KOTIM-OK-01;RSUD dr. Murjani Sampit;A337-1;120,0;10/11/2026;2026-11-10\n"
    b"KOTIM-DIFF-02;puskesmas-baamang;A337-1;100;11/11/2026;2026-11-11\n"
    b"KOTIM-OK-01;RSUD dr. Murjani Sampit;A337-1;120,0;10/11/2026;2026-11-10\n"
    b"KOTIM-BAD-03;Klinik perkebunan;A337-1;abc;12/11/2026;2026-11-12\n"
    b"KOTIM-NOWHERE-04;RS Entah;A337-1;10;12/11/2026;2026-11-12\n"
)


def xlsx_november() -> bytes:
    """English headers after a title row: a manifest never received (30 kg, received day 12 Nov), and
    KOTIM-OK-01 again with another quantity (a duplicate with other content)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Festronik export, November 2026"])
    sheet.append(["Manifest number", "Generator", "Waste code", "Declared quantity (kg)", "Shipped", "Received"])
    sheet.append(["KOTIM-NEVER-05", "puskesmas-ketapang", "A337-2", 30, datetime(2026, 11, 12), datetime(2026, 11, 12)])
    sheet.append(["KOTIM-OK-01", "rsud-murjani", "A337-1", 150.0, datetime(2026, 11, 10), datetime(2026, 11, 10)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BATCHES = (
    # KOTIM-OK-01: 40 + 45 + 36 = 121 kg
    Batch("kotim", "kotim-20261110-001", local_ms(10, 9), 40.0, "rsud-murjani", "A337-1", "KOTIM-OK-01"),
    Batch("kotim", "kotim-20261110-002", local_ms(10, 10), 45.0, "rsud-murjani", "A337-1", "KOTIM-OK-01"),
    Batch("kotim", "kotim-20261110-003", local_ms(10, 11), 36.0, "rsud-murjani", "A337-1", "KOTIM-OK-01"),
    # KOTIM-DIFF-02: 50 + 38 = 88 kg
    Batch("kotim", "kotim-20261111-001", local_ms(11, 9), 50.0, "puskesmas-baamang", "A337-1", "KOTIM-DIFF-02"),
    Batch("kotim", "kotim-20261111-002", local_ms(11, 10), 38.0, "puskesmas-baamang", "A337-1", "KOTIM-DIFF-02"),
    # under a number no manifest declares: 25 kg
    Batch("kotim", "kotim-20261112-001", local_ms(12, 9), 25.0, "klinik-perkebunan", "A337-1", "KOTIM-GHOST-09"),
)


def write_batches(store: Store) -> None:
    store.write([b.to_point() for b in BATCHES])
