"""Manifest files as Festronik exports or hand-kept sheets: CSV (comma, semicolon or tab; UTF-8 or
Windows-1252) or XLSX, one manifest per row under a header row.

Headers are matched after folding case, accents and punctuation, against Indonesian and English names
(`HEADER_ALIASES`, extendable per deployment). A quantity header naming tonnes (`ton`, `(t)`) is read
in tonnes and stored in kg. Each row is validated on its own: a bad row is reported with its row
number (the sheet's, the header row counted) and the reason, and the good rows are kept. A manifest
number met twice in one file is kept once and the second row reported. Only a file that is not a
manifest table at all (unreadable, no header row, a required column missing) raises
`ManifestFileError`.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from wastewatch.errors import InvalidRequest

Column = Literal["manifest_no", "generator", "waste_code", "declared_kg", "shipped", "received"]
REQUIRED: tuple[Column, ...] = ("manifest_no", "generator", "declared_kg")
HEADER_ALIASES: Mapping[Column, tuple[str, ...]] = {
    "manifest_no": ("manifest no", "manifest number", "manifest", "no manifest", "nomor manifest", "nomor manifes",
                    "no manifes", "manifes", "manifest id", "nomor dokumen"),
    "generator": ("generator", "generator id", "generator name", "penghasil", "nama penghasil", "penghasil limbah",
                  "facility", "facility id", "fasyankes", "sender", "pengirim", "asal", "sumber", "source"),
    "waste_code": ("waste code", "kode limbah", "kode", "jenis limbah", "kode limbah b3", "code"),
    "declared_kg": ("declared kg", "declared", "quantity", "quantity kg", "qty", "qty kg", "qty declared kg",
                    "declared quantity", "declared quantity kg", "jumlah", "jumlah kg", "berat", "berat kg",
                    "jumlah limbah", "jumlah limbah kg", "quantity t", "quantity ton", "jumlah ton", "berat ton"),
    "shipped": ("shipped", "shipped date", "date shipped", "pickup", "pickup date", "tanggal kirim", "tgl kirim",
                "tanggal pengiriman", "tanggal angkut", "tanggal pengangkutan", "tgl angkut"),
    "received": ("received", "received date", "date received", "tanggal terima", "tgl terima", "tanggal penerimaan",
                 "diterima"),
}
MAX_ROWS = 20_000
MAX_KG = 1_000_000.0
HEADER_SEARCH_ROWS = 10
MANIFEST_NO = re.compile(r"[^\x00-\x1f\x7f-\x9f]{1,64}")
WASTE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .*/-]{0,15}")
TONNES = re.compile(r"\b(ton|tonnes?|t)\b")
Cell = str | int | float | date | datetime | None


class ManifestFileError(InvalidRequest):
    """The file is not a manifest table: unreadable, no header row, or a required column missing."""


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One manifest as a file declares it; `row` is its row number in the sheet."""

    manifest_no: str
    generator: str
    """The facility id from the plant file."""
    waste_code: str | None
    declared_kg: float
    shipped: date | None
    received: date | None
    row: int


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ParsedFile:
    manifests: tuple[ManifestRow, ...]
    problems: tuple[RowProblem, ...]
    columns: Mapping[Column, str] = field(default_factory=dict)
    """Which header each column was read from."""


def fold(text: str) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed: `No. Manifes` → `no manifes`."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def facility_lookup(facilities: Iterable[tuple[str, str]]) -> dict[str, str]:
    """(id, name) pairs → a map from the folded id and the folded name to the id."""
    lookup: dict[str, str] = {}
    for facility_id, name in facilities:
        lookup[fold(name)] = facility_id
        lookup[fold(facility_id)] = facility_id
    return lookup


def parse_manifest_file(
    data: bytes, filename: str, facilities: Mapping[str, str], *,
    extra_aliases: Mapping[str, Sequence[str]] | None = None, max_rows: int = MAX_ROWS,
) -> ParsedFile:
    """Parse a CSV or XLSX file; `facilities` maps folded ids and names to facility ids (`facility_lookup`)."""
    rows = _xlsx_rows(data) if _is_xlsx(data, filename) else _csv_rows(data)
    return parse_rows(rows, facilities, extra_aliases=extra_aliases, max_rows=max_rows)


def parse_rows(
    rows: Iterable[Sequence[Cell]], facilities: Mapping[str, str], *,
    extra_aliases: Mapping[str, Sequence[str]] | None = None, max_rows: int = MAX_ROWS,
) -> ParsedFile:
    aliases = _aliases(extra_aliases)
    it = iter(rows)
    header: dict[int, Column] = {}
    tonnes: set[int] = set()
    names: dict[Column, str] = {}
    number = 0
    for number, cells in enumerate(it, start=1):
        header, tonnes, names = _match_header(cells, aliases)
        if all(c in header.values() for c in REQUIRED):
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    missing = [c for c in REQUIRED if c not in header.values()]
    if missing:
        raise ManifestFileError(
            f"no header row with the required columns in the first {HEADER_SEARCH_ROWS} rows: missing "
            f"{', '.join(missing)} (e.g. 'Nomor Manifest' / 'manifest number', 'Penghasil' / 'generator', "
            f"'Jumlah (kg)' / 'declared kg')")
    manifests: list[ManifestRow] = []
    problems: list[RowProblem] = []
    first_row: dict[str, int] = {}
    header_row = number
    for number, cells in enumerate(it, start=header_row + 1):
        if len(manifests) + len(problems) >= max_rows:
            problems.append(RowProblem(number, f"more than {max_rows} rows: the rest of the file is not read"))
            break
        values = {col: (cells[i] if i < len(cells) else None) for i, col in header.items()}
        if all(_blank(v) for v in values.values()):
            continue
        try:
            row = _row(values, number, facilities, tonnes_columns={header[i] for i in tonnes})
        except ValueError as exc:
            problems.append(RowProblem(number, str(exc)))
            continue
        if row.manifest_no in first_row:
            problems.append(RowProblem(number, f"duplicate manifest number {row.manifest_no!r} (first on row "
                                               f"{first_row[row.manifest_no]}): not stored twice"))
            continue
        first_row[row.manifest_no] = number
        manifests.append(row)
    return ParsedFile(tuple(manifests), tuple(problems), names)


def _aliases(extra: Mapping[str, Sequence[str]] | None) -> dict[str, Column]:
    folded: dict[str, Column] = {fold(a): col for col, names in HEADER_ALIASES.items() for a in names}
    for col, names in (extra or {}).items():
        if col not in HEADER_ALIASES:
            raise ManifestFileError(f"unknown manifest column {col!r} in the header names (known: {', '.join(HEADER_ALIASES)})")
        for name in names:
            folded[fold(name)] = col  # type: ignore[assignment]
    return folded


def _match_header(cells: Sequence[Cell], aliases: Mapping[str, Column]) -> tuple[dict[int, Column], set[int], dict[Column, str]]:
    header: dict[int, Column] = {}
    tonnes: set[int] = set()
    names: dict[Column, str] = {}
    for i, cell in enumerate(cells):
        if not isinstance(cell, str):
            continue
        key = fold(cell)
        col = aliases.get(key) or aliases.get(re.sub(r"\s*\b(kg|t|ton|tonnes?)$", "", key))
        if col is None or col in names:
            continue
        header[i], names[col] = col, cell.strip()
        if col == "declared_kg" and TONNES.search(key) and "kg" not in key.split():
            tonnes.add(i)
    return header, tonnes, names


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _row(values: Mapping[Column, Cell], number: int, facilities: Mapping[str, str], *, tonnes_columns: set[Column]) -> ManifestRow:
    manifest_no = _text(values.get("manifest_no"))
    if not manifest_no:
        raise ValueError("no manifest number")
    if not MANIFEST_NO.fullmatch(manifest_no) or not manifest_no.isprintable():
        raise ValueError("the manifest number is longer than 64 characters or holds a control character")
    generator_text = _text(values.get("generator"))
    if not generator_text:
        raise ValueError(f"manifest {manifest_no}: no generator")
    generator = facilities.get(fold(generator_text))
    if generator is None:
        raise ValueError(f"manifest {manifest_no}: generator {generator_text[:80]!r} is no facility of the plant file "
                         f"(give its id or its name)")
    code = _text(values.get("waste_code")) or None
    if code is not None and not WASTE_CODE.fullmatch(code):
        raise ValueError(f"manifest {manifest_no}: waste code {code[:40]!r} is not a code like A337-1")
    kg = _quantity(values.get("declared_kg"), manifest_no)
    if "declared_kg" in tonnes_columns:
        kg *= 1000.0
    if not 0 < kg <= MAX_KG:
        raise ValueError(f"manifest {manifest_no}: declared quantity {kg:g} kg is not between 0 and {MAX_KG:g} kg")
    shipped = _date(values.get("shipped"), manifest_no, "shipped")
    received = _date(values.get("received"), manifest_no, "received")
    if shipped is not None and received is not None and received < shipped:
        raise ValueError(f"manifest {manifest_no}: received {received} before shipped {shipped}")
    return ManifestRow(manifest_no, generator, code, round(kg, 3), shipped, received, number)


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _quantity(value: Cell, manifest_no: str) -> float:
    if isinstance(value, bool) or _blank(value):
        raise ValueError(f"manifest {manifest_no}: no declared quantity")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        number = _number_text(value.strip().lower().removesuffix("kg").strip(), manifest_no)
    else:
        raise ValueError(f"manifest {manifest_no}: the declared quantity is a date, not a number")
    if not math.isfinite(number):
        raise ValueError(f"manifest {manifest_no}: the declared quantity is not a finite number")
    return number


def _number_text(text: str, manifest_no: str) -> float:
    """`1234.5`, `1234,5` and `1.234,5` (Indonesian), `1,234.5` (English): the last separator is the
    decimal one when both appear; a separator repeated alone groups thousands."""
    text = text.replace(" ", "")
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    elif text.count(",") > 1 or text.count(".") > 1:
        text = text.replace(",", "").replace(".", "")
    else:
        text = text.replace(",", ".")
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?|\.[0-9]+", text):
        raise ValueError(f"manifest {manifest_no}: declared quantity {text[:40]!r} is not a number of kg")
    return float(text)


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def _date(value: Cell, manifest_no: str, what: str) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)[:40]
    for fmt in DATE_FORMATS:
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if 2000 <= day.year <= 2100:
            return day
    raise ValueError(f"manifest {manifest_no}: {what} date {text!r} is not a date (write 2026-11-28 or 28/11/2026)")


# -- reading the file's cells ------------------------------------------------------------------------


def _is_xlsx(data: bytes, filename: str) -> bool:
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))


def _csv_rows(data: bytes) -> list[list[Cell]]:
    if b"\x00" in data:
        raise ManifestFileError("the file holds NUL bytes: it is not a CSV text file (send .csv or .xlsx)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ManifestFileError("the CSV is neither UTF-8 nor Windows-1252 text")
    sample = text[:4096]
    delimiter = max((",", ";", "\t"), key=sample.count)
    try:
        return [list(r) for r in _limited(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))]
    except csv.Error as exc:
        raise ManifestFileError(f"the CSV cannot be read: {exc}") from None


def _limited(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    for i, row in enumerate(rows):
        if i > MAX_ROWS + HEADER_SEARCH_ROWS:
            return
        yield row


def _xlsx_rows(data: bytes) -> list[list[Cell]]:
    # openpyxl is a file-format reader, no I/O beyond the bytes given
    from openpyxl import load_workbook  # lazy: only an XLSX upload pays openpyxl's import (~150 ms)

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            rows: list[list[Cell]] = []
            for i, values in enumerate(sheet.iter_rows(values_only=True)):
                if i > MAX_ROWS + HEADER_SEARCH_ROWS:
                    break
                rows.append([v if isinstance(v, str | int | float | date | datetime) or v is None else str(v) for v in values])
            return rows
        finally:
            book.close()
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, OSError, EOFError) as exc:
        raise ManifestFileError(f"the XLSX workbook cannot be read: {type(exc).__name__}: {str(exc)[:120]}") from None
    except Exception as exc:  # openpyxl raises its own InvalidFileException and XML parser errors
        raise ManifestFileError(f"the XLSX workbook cannot be read: {type(exc).__name__}") from None
