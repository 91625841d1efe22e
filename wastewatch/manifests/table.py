"""The manifest tables in the relational database (beside the alerts), created by `create_manifest_tables`:

    manifests           id, plant, manifest_no, generator (facility id), waste_code, declared_kg, shipped,
                        received (YYYY-MM-DD or NULL), source_file, file_sha256, source_row, imported_at_ms;
                        UNIQUE (plant, manifest_no): a manifest is stored once, the first import kept
    manifest_conflicts  a manifest number imported again with other content: the row as that file gave it,
                        seen_at_ms; UNIQUE (plant, manifest_no, file_sha256, source_row)
    manifest_files      id, plant, sha256, name, imported_at_ms, stored, problems; UNIQUE (plant, sha256)

Importing is idempotent: the same file again stores nothing and reports its rows as already stored.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from wastewatch.manifests.parse import ManifestRow, ParsedFile, RowProblem
from wastewatch.manifests.reconcile import Conflict, Manifest
from wastewatch.relational import Database, Row

_created: weakref.WeakSet[Database] = weakref.WeakSet()
CHUNK = 500


def manifest_statements(db: Database) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS manifests (
            id {db.dialect.id_column},
            plant TEXT NOT NULL,
            manifest_no TEXT NOT NULL,
            generator TEXT NOT NULL,
            waste_code TEXT,
            declared_kg DOUBLE PRECISION NOT NULL,
            shipped TEXT,
            received TEXT,
            source_file TEXT NOT NULL,
            file_sha256 TEXT NOT NULL,
            source_row INTEGER NOT NULL,
            imported_at_ms BIGINT NOT NULL,
            UNIQUE (plant, manifest_no)
        )""",
        "CREATE INDEX IF NOT EXISTS manifests_day ON manifests (plant, received, shipped)",
        f"""CREATE TABLE IF NOT EXISTS manifest_conflicts (
            id {db.dialect.id_column},
            plant TEXT NOT NULL,
            manifest_no TEXT NOT NULL,
            generator TEXT NOT NULL,
            waste_code TEXT,
            declared_kg DOUBLE PRECISION NOT NULL,
            shipped TEXT,
            received TEXT,
            source_file TEXT NOT NULL,
            file_sha256 TEXT NOT NULL,
            source_row INTEGER NOT NULL,
            seen_at_ms BIGINT NOT NULL,
            UNIQUE (plant, manifest_no, file_sha256, source_row)
        )""",
        f"""CREATE TABLE IF NOT EXISTS manifest_files (
            id {db.dialect.id_column},
            plant TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            name TEXT NOT NULL,
            imported_at_ms BIGINT NOT NULL,
            stored INTEGER NOT NULL,
            problems INTEGER NOT NULL,
            UNIQUE (plant, sha256)
        )""",
    ]


def create_manifest_tables(db: Database) -> None:
    """Create the tables unless they exist (once per connection: later calls cost nothing)."""
    if db in _created:
        return
    db.script(manifest_statements(db))
    _created.add(db)


@dataclass(frozen=True, slots=True)
class Duplicate:
    row: int
    manifest_no: str
    reason: str


@dataclass(slots=True)
class ImportReport:
    """What one import did: the numbers stored, those already stored as they are, the duplicates with
    other content (kept out), and the rows refused with their reasons."""

    plant: str
    file: str
    sha256: str
    seen_before: bool
    stored: list[str] = field(default_factory=list)
    already_stored: list[str] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = (f"{self.file}: {len(self.stored)} stored, {len(self.already_stored)} already stored, "
                f"{len(self.duplicates)} duplicates with other content, {len(self.problems)} rows refused"
                + (" (this file was imported before)" if self.seen_before else ""))
        return [head, *(f"  row {d.row}: {d.reason}" for d in self.duplicates), *(f"  {p}" for p in self.problems)]


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _manifest(row: Row) -> Manifest:
    return Manifest(str(row["plant"]), str(row["manifest_no"]), str(row["generator"]), row["waste_code"],
                    float(row["declared_kg"]), _day(row["shipped"]), _day(row["received"]), int(row["imported_at_ms"]))


def _differences(stored: Manifest, row: ManifestRow) -> list[str]:
    pairs = (("generator", stored.generator, row.generator), ("waste code", stored.waste_code, row.waste_code),
             ("declared kg", stored.declared_kg, row.declared_kg), ("shipped", stored.shipped, row.shipped),
             ("received", stored.received, row.received))
    return [f"{name} {new} instead of {old}" for name, old, new in pairs if old != new]


def import_manifests(db: Database, plant: str, parsed: ParsedFile, *, name: str, sha256: str, now_ms: int) -> ImportReport:
    """Store the file's good rows in one transaction; a number already stored is compared, not overwritten."""
    create_manifest_tables(db)
    with db.transaction():
        seen = db.query_one("SELECT id FROM manifest_files WHERE plant = ? AND sha256 = ?", (plant, sha256)) is not None
        report = ImportReport(plant, name, sha256, seen, problems=list(parsed.problems))
        for row in parsed.manifests:
            new_id = db.insert(
                "INSERT INTO manifests (plant, manifest_no, generator, waste_code, declared_kg, shipped, received, source_file,"
                " file_sha256, source_row, imported_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (plant, manifest_no) DO NOTHING RETURNING id",
                (plant, row.manifest_no, row.generator, row.waste_code, row.declared_kg, _iso(row.shipped), _iso(row.received),
                 name, sha256, row.row, now_ms),
            )
            if new_id:
                report.stored.append(row.manifest_no)
                continue
            first = db.query_one("SELECT * FROM manifests WHERE plant = ? AND manifest_no = ?", (plant, row.manifest_no))
            assert first is not None  # the conflict that skipped the insert is this row
            differences = _differences(_manifest(first), row)
            if not differences:
                report.already_stored.append(row.manifest_no)
                continue
            reason = (f"duplicate manifest number {row.manifest_no!r}: already stored from {first['source_file']} row "
                      f"{first['source_row']}; this row has {'; '.join(differences)}; the first is kept")
            report.duplicates.append(Duplicate(row.row, row.manifest_no, reason))
            db.execute(
                "INSERT INTO manifest_conflicts (plant, manifest_no, generator, waste_code, declared_kg, shipped, received,"
                " source_file, file_sha256, source_row, seen_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (plant, manifest_no, file_sha256, source_row) DO NOTHING",
                (plant, row.manifest_no, row.generator, row.waste_code, row.declared_kg, _iso(row.shipped), _iso(row.received),
                 name, sha256, row.row, now_ms),
            )
        db.execute(
            "INSERT INTO manifest_files (plant, sha256, name, imported_at_ms, stored, problems) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (plant, sha256) DO NOTHING",
            (plant, sha256, name, now_ms, len(report.stored), len(report.problems) + len(report.duplicates)),
        )
    return report


def file_imported(db: Database, plant: str, sha256: str) -> bool:
    create_manifest_tables(db)
    return db.query_one("SELECT id FROM manifest_files WHERE plant = ? AND sha256 = ?", (plant, sha256)) is not None


def manifests_between(db: Database, plant: str, first: date, last: date, start_ms: int, end_ms: int) -> list[Manifest]:
    """The plant's manifests whose day (received, else shipped) is in [first, last], and those with no
    date imported in [start_ms, end_ms)."""
    create_manifest_tables(db)
    rows = db.query(
        "SELECT * FROM manifests WHERE plant = ? AND ((COALESCE(received, shipped) >= ? AND COALESCE(received, shipped) <= ?)"
        " OR (received IS NULL AND shipped IS NULL AND imported_at_ms >= ? AND imported_at_ms < ?)) ORDER BY manifest_no",
        (plant, first.isoformat(), last.isoformat(), start_ms, end_ms),
    )
    return [_manifest(r) for r in rows]


def manifests_numbered(db: Database, plant: str, numbers: Iterable[str]) -> list[Manifest]:
    create_manifest_tables(db)
    wanted = sorted(set(numbers))
    out: list[Manifest] = []
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i:i + CHUNK]
        marks = ", ".join("?" for _ in chunk)
        out += [_manifest(r) for r in db.query(f"SELECT * FROM manifests WHERE plant = ? AND manifest_no IN ({marks})",
                                               (plant, *chunk))]
    return out


def conflicts(db: Database, plant: str, numbers: Sequence[str] | None = None) -> list[Conflict]:
    create_manifest_tables(db)
    rows = db.query("SELECT * FROM manifest_conflicts WHERE plant = ? ORDER BY seen_at_ms, id", (plant,))
    wanted = set(numbers) if numbers is not None else None
    return [Conflict(str(r["plant"]), str(r["manifest_no"]),
                     f"{r['source_file']} row {r['source_row']}: {r['declared_kg']:g} kg from {r['generator']}", int(r["seen_at_ms"]))
            for r in rows if wanted is None or r["manifest_no"] in wanted]
