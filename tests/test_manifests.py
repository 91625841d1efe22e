"""Manifests end to end below the API: hand-made CSV and XLSX files parsed and stored in SQLite and
PostgreSQL, reconciled against batches in the real InfluxDB, the discrepancies raised as regulatory
alerts through the lifecycle and outbox, and the monthly statement's figures."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.schema import open_database
from alerts.store import AlertStore
from launch.manifests import reconcile
from tests.conftest import SettingsFor
from tests.manifest_support import CSV_NOVEMBER, ZONE, local_ms, write_batches, xlsx_november
from wastewatch.manifests.parse import ManifestFileError, facility_lookup, parse_manifest_file, parse_rows
from wastewatch.manifests.reading import reconcile_month
from wastewatch.manifests.reconcile import Manifest, WeighedBatch, balance, unmanifested_findings
from wastewatch.manifests.settings import ManifestSettings
from wastewatch.manifests.table import ImportReport, import_manifests, manifests_numbered
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.records import Batch
from wastewatch.relational import Database, connect_url
from wastewatch.settings import Settings
from wastewatch.store.influx import InfluxStore

_numbers = itertools.count(1)

NOW = local_ms(20, 12)


@pytest.fixture
def plant(catalog: PlantCatalog) -> PlantConfig:
    kotim = catalog.get("kotim")
    assert kotim is not None
    return kotim


def lookup(plant: PlantConfig) -> dict[str, str]:
    return facility_lookup((f.id, f.name) for f in plant.facilities)


def import_both(db: Database, plant: PlantConfig, now_ms: int = NOW) -> tuple[ImportReport, ImportReport]:
    first = import_manifests(db, "kotim", parse_manifest_file(CSV_NOVEMBER, "nov.csv", lookup(plant)), name="nov.csv",
                             sha256=hashlib.sha256(CSV_NOVEMBER).hexdigest(), now_ms=now_ms)
    data = xlsx_november()
    second = import_manifests(db, "kotim", parse_manifest_file(data, "nov.xlsx", lookup(plant)), name="nov.xlsx",
                              sha256=hashlib.sha256(data).hexdigest(), now_ms=now_ms)
    return first, second


# -- parsing -----------------------------------------------------------------------------------------


def test_the_csv_keeps_its_good_rows_and_names_each_bad_one_by_row_number(plant: PlantConfig) -> None:
    parsed = parse_manifest_file(CSV_NOVEMBER, "nov.csv", lookup(plant))
    assert [(m.manifest_no, m.generator, m.declared_kg, m.row) for m in parsed.manifests] == [
        ("KOTIM-OK-01", "rsud-murjani", 120.0, 2), ("KOTIM-DIFF-02", "puskesmas-baamang", 100.0, 3)]
    problems = {p.row: p.reason for p in parsed.problems}
    assert sorted(problems) == [4, 5, 6]
    assert "duplicate manifest number 'KOTIM-OK-01' (first on row 2)" in problems[4]
    assert "declared quantity 'abc' is not a number" in problems[5]
    assert "'RS Entah' is no facility" in problems[6]


def test_the_xlsx_is_read_under_english_headers_below_a_title_row(plant: PlantConfig) -> None:
    parsed = parse_manifest_file(xlsx_november(), "nov.xlsx", lookup(plant))
    assert [(m.manifest_no, m.declared_kg, m.waste_code, str(m.received), m.row) for m in parsed.manifests] == [
        ("KOTIM-NEVER-05", 30.0, "A337-2", "2026-11-12", 3), ("KOTIM-OK-01", 150.0, "A337-1", "2026-11-10", 4)]
    assert parsed.problems == ()


def test_quantities_in_tonnes_and_both_decimal_styles_are_read_in_kg(plant: PlantConfig) -> None:
    rows = [["No. Manifes", "Penghasil", "Berat (ton)"], ["A", "rsud-murjani", "1,5"], ["B", "rsud-murjani", "0.25"]]
    assert [m.declared_kg for m in parse_rows(rows, lookup(plant)).manifests] == [1500.0, 250.0]
    rows = [["manifest", "generator", "qty kg"], ["C", "rsud-murjani", "1.234,5"], ["D", "rsud-murjani", "1,234.5"]]
    assert [m.declared_kg for m in parse_rows(rows, lookup(plant)).manifests] == [1234.5, 1234.5]


def test_configured_header_names_are_matched_too(plant: PlantConfig) -> None:
    rows = [["Dokumen", "RS", "Berat Bersih"], ["E", "rsud-murjani", "12"]]
    with pytest.raises(ManifestFileError, match="missing manifest_no, generator, declared_kg"):
        parse_rows(rows, lookup(plant))
    extra = {"manifest_no": ["Dokumen"], "generator": ["RS"], "declared_kg": ["Berat Bersih"]}
    assert [m.manifest_no for m in parse_rows(rows, lookup(plant), extra_aliases=extra).manifests] == ["E"]


@pytest.mark.parametrize("data", [b"", b"\x00\x01\x02", b"PK\x03\x04garbage", b"just one line\n", b"\xff\xfe\xfd" * 50])
def test_a_file_that_is_no_manifest_table_raises_one_named_error(plant: PlantConfig, data: bytes) -> None:
    with pytest.raises(ManifestFileError):
        parse_manifest_file(data, "x.csv", lookup(plant))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(st.one_of(st.text(max_size=30), st.floats(allow_nan=True), st.integers(), st.none()), max_size=7), max_size=12))
def test_hostile_cells_are_rows_reported_never_an_unnamed_exception(catalog: PlantCatalog, rows: list[list[object]]) -> None:
    kotim = catalog.get("kotim")
    assert kotim is not None
    header: list[object] = ["manifest no", "generator", "declared kg", "shipped", "received", "waste code"]
    try:
        parsed = parse_rows([header, *rows], lookup(kotim))  # type: ignore[list-item]
    except ManifestFileError:
        return
    assert len(parsed.manifests) + len(parsed.problems) <= len(rows)
    for m in parsed.manifests:
        assert 0 < m.declared_kg <= 1_000_000 and m.generator in {f.id for f in kotim.facilities}


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=400))
def test_hostile_xlsx_bytes_are_one_named_error_or_a_table(catalog: PlantCatalog, tail: bytes) -> None:
    kotim = catalog.get("kotim")
    assert kotim is not None
    try:
        parse_manifest_file(b"PK\x03\x04" + tail, "hostile.xlsx", lookup(kotim))
    except ManifestFileError as exc:
        assert str(exc)


# -- the pure balance ------------------------------------------------------------------------------


def test_batches_with_no_manifest_number_are_one_finding_per_facility_and_month_after_the_grace() -> None:
    batches = [WeighedBatch(local_ms(3, 9), 12.0, "klinik-perkebunan", None),
               WeighedBatch(local_ms(4, 9), 8.0, "klinik-perkebunan", None),
               WeighedBatch(local_ms(4, 10), 5.0, "rsud-murjani", "KNOWN")]
    names = {"klinik-perkebunan": "Klinik perkebunan"}
    early = unmanifested_findings(batches, {"KNOWN"}, grace=timedelta(days=2), now_ms=local_ms(4, 12), plant="kotim",
                                  zone=ZONE, facility_names=names)
    assert early == []  # the first of them (3 Nov 09:00) is not yet 2 days old
    [found] = unmanifested_findings(batches, {"KNOWN"}, grace=timedelta(days=2), now_ms=local_ms(6, 12), plant="kotim",
                                    zone=ZONE, facility_names=names)
    assert (found.subject, found.value, found.holding) == ("klinik-perkebunan:2026-11:no-manifest-number", 12.0 + 8.0, True)
    assert "2 weighed batches (20 kg, from Klinik perkebunan) under no manifest number" in found.message


def test_the_five_percent_rule_is_strictly_greater_than() -> None:
    def state(received: float) -> str:
        m = Manifest("kotim", "X", "rsud-murjani", None, 100.0, None, None, 0)
        return balance([m], [WeighedBatch(1, received, "rsud-murjani", "X")], tolerance=0.05, grace=timedelta(0),
                       now_ms=10, zone=ZONE)[0].state

    assert (state(105.0), state(95.0), state(105.01), state(94.99)) == ("matched", "matched", "quantity_differs", "quantity_differs")


# -- stored, reconciled, alerted ---------------------------------------------------------------------


@pytest.fixture
def pg_db(postgres) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    name = f"manifests_{next(_numbers)}"
    db = connect_url(postgres.create_database(name))
    yield db
    db.close()
    postgres.drop_database(name)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_import_is_idempotent_and_a_duplicate_with_other_content_is_kept_out(
    backend: str, plant: PlantConfig, tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    db = request.getfixturevalue("pg_db") if backend == "postgresql" else open_database(Settings(data_dir=tmp_path))
    first, second = import_both(db, plant)
    assert first.stored == ["KOTIM-OK-01", "KOTIM-DIFF-02"] and [p.row for p in first.problems] == [4, 5, 6]
    assert second.stored == ["KOTIM-NEVER-05"]
    assert [(d.row, d.manifest_no) for d in second.duplicates] == [(4, "KOTIM-OK-01")]
    assert "declared kg 150.0 instead of 120.0" in second.duplicates[0].reason
    again, _ = import_both(db, plant)
    assert again.seen_before and again.stored == [] and again.already_stored == ["KOTIM-OK-01", "KOTIM-DIFF-02"]
    rows = db.query("SELECT manifest_no, declared_kg FROM manifests ORDER BY manifest_no")
    assert [(r["manifest_no"], r["declared_kg"]) for r in rows] == [
        ("KOTIM-DIFF-02", 100.0), ("KOTIM-NEVER-05", 30.0), ("KOTIM-OK-01", 120.0)]
    assert len(db.query("SELECT id FROM manifest_conflicts")) == 1
    assert [m.declared_kg for m in manifests_numbered(db, "kotim", ["KOTIM-OK-01"])] == [120.0]
    if backend == "sqlite":
        db.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_discrepancies_become_regulatory_alerts_and_clear_when_the_balance_is_right(
    backend: str, plant: PlantConfig, influx_store: InfluxStore, settings_for: SettingsFor, request: pytest.FixtureRequest,
) -> None:
    overrides: dict[str, object] = {}
    if backend == "postgresql":
        postgres = request.getfixturevalue("postgres")
        name = f"manifest_alerts_{next(_numbers)}"
        overrides["alerts_db_url"] = postgres.create_database(name)
        request.addfinalizer(lambda: postgres.drop_database(name))
    settings = settings_for(store=influx_store, **overrides)
    write_batches(influx_store)
    db = open_database(settings)
    import_both(db, plant, now_ms=local_ms(13, 8))
    # a manifest received on 11 Nov is due at the end of its day plus the 2-day grace (14 Nov 00:00), one
    # received on 12 Nov at 15 Nov 00:00: on 14 Nov 12:00 KOTIM-DIFF-02 is judged, KOTIM-NEVER-05 not yet
    lines = reconcile(settings, plant, ["2026-11"], local_ms(14, 12))
    store = AlertStore(db)
    assert store.active("kotim", "regulatory_manifest_quantity_differs", "KOTIM-DIFF-02") is not None
    assert store.active("kotim", "regulatory_manifest_never_received", "KOTIM-NEVER-05") is None

    lines = reconcile(settings, plant, ["2026-11"], NOW)
    quantity = store.active("kotim", "regulatory_manifest_quantity_differs", "KOTIM-DIFF-02")
    assert quantity is not None and quantity.category == "regulatory"
    # 100 declared, 88 received: |88 - 100| / 100 = 12 %
    for part in ("KOTIM-DIFF-02", "declared 100 kg", "received 88 kg", "2 batches", "12.0 %", "tolerance 5.0 %"):
        assert part in quantity.message, quantity.message
    never = store.active("kotim", "regulatory_manifest_never_received", "KOTIM-NEVER-05")
    assert never is not None and "declared 30 kg" in never.message and "Puskesmas Ketapang" in never.message
    ghost = store.active("kotim", "regulatory_manifest_without_manifest", "KOTIM-GHOST-09")
    assert ghost is not None and "25 kg" in ghost.message
    duplicate = store.active("kotim", "regulatory_manifest_duplicate", "KOTIM-OK-01")
    assert duplicate is not None and "150 kg" in duplicate.message
    assert store.active("kotim", "regulatory_manifest_quantity_differs", "KOTIM-OK-01") is None  # 121 vs 120: 0.8 %
    outbox = db.query("SELECT audience FROM outbox WHERE alert_id = ?", (quantity.id,))
    assert outbox, "the raise writes its notification rows in the same transaction"
    assert any("alert raised" in line for line in lines)

    assert not any("alert" in line for line in reconcile(settings, plant, ["2026-11"], NOW + 3_600_000))  # a rerun changes nothing

    # the missing 10 kg of KOTIM-DIFF-02 is weighed late (98 kg: 2 %), KOTIM-NEVER-05 arrives, and a
    # manifest for the ghost batches comes: each alert clears
    late = [Batch("kotim", "kotim-20261121-001", local_ms(21, 9), 10.0, "puskesmas-baamang", "A337-1", "KOTIM-DIFF-02"),
            Batch("kotim", "kotim-20261121-002", local_ms(21, 10), 30.0, "puskesmas-ketapang", "A337-2", "KOTIM-NEVER-05")]
    influx_store.write([b.to_point() for b in late])
    ghost_csv = b"manifest no,generator,declared kg,received\nKOTIM-GHOST-09,klinik-perkebunan,25,2026-11-12\n"
    import_manifests(db, "kotim", parse_manifest_file(ghost_csv, "ghost.csv", lookup(plant)), name="ghost.csv", sha256="g", now_ms=NOW)
    reconcile(settings, plant, ["2026-11"], local_ms(22, 12))
    for rule, subject in (("quantity_differs", "KOTIM-DIFF-02"), ("never_received", "KOTIM-NEVER-05"), ("without_manifest", "KOTIM-GHOST-09")):
        assert store.active("kotim", f"regulatory_manifest_{rule}", subject) is None, (rule, subject)
    db.close()


def test_the_monthly_statement_adds_up(plant: PlantConfig, influx_store: InfluxStore, tmp_path: Path) -> None:
    write_batches(influx_store)
    db = open_database(Settings(data_dir=tmp_path))
    import_both(db, plant, now_ms=local_ms(13, 8))
    result = reconcile_month(db, influx_store, plant, "2026-11", ManifestSettings(), NOW)
    s = result.statement
    by = {f.facility: f for f in s.facilities}
    murjani, baamang, ketapang, klinik = (by[k] for k in ("rsud-murjani", "puskesmas-baamang", "puskesmas-ketapang", "klinik-perkebunan"))
    assert (murjani.manifests, murjani.declared_kg, murjani.received_kg, murjani.weighed_kg, murjani.batches) == (1, 120.0, 40 + 45 + 36, 121.0, 3)
    assert murjani.difference_kg == 121 - 120 and [x.kind for x in murjani.open_findings] == ["duplicate"]
    assert (baamang.declared_kg, baamang.received_kg, baamang.difference_kg) == (100.0, 50 + 38, 88 - 100)
    assert [x.kind for x in baamang.open_findings] == ["quantity_differs"]
    assert (ketapang.declared_kg, ketapang.received_kg, ketapang.weighed_kg) == (30.0, 0.0, 0.0)
    assert [x.kind for x in ketapang.open_findings] == ["never_received"]
    assert (klinik.manifests, klinik.declared_kg, klinik.weighed_kg, klinik.without_manifest_kg) == (0, 0.0, 25.0, 25.0)
    assert [x.kind for x in klinik.open_findings] == ["without_manifest"]
    # the plant: declared 120 + 100 + 30 = 250 kg; weighed 121 + 88 + 25 = 234 kg; 234 - 250 = -16 kg
    assert (s.declared_kg, s.weighed_kg, s.fed_kg, s.difference_kg) == (250.0, 234.0, 234.0, -16.0)
    assert s.bunker_change_kg is None and "no bunker stock measurement" in s.note
    db.close()
