"""`wastewatch manifests` as a subprocess: import a CSV (exit 1: some rows refused, each named), the same
file again (nothing stored), a file that is no manifest table (exit 2, one line), a watched folder
(imported once, moved to imported/ with its report), reconcile into alerts and the statement,
against the real InfluxDB and the SQLite alert database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from alerts.schema import open_database
from alerts.store import AlertStore
from launch.manifests import reconcile_after_day
from tests.manifest_support import CSV_NOVEMBER, write_batches, xlsx_november
from tests.test_cli import run_cli
from wastewatch.plant import load_catalog
from wastewatch.settings import Settings, load
from wastewatch.store.influx import InfluxStore


def env_for(data_dir: Path, store: InfluxStore | None = None) -> dict[str, str]:
    env = {"WASTEWATCH_DATA_DIR": str(data_dir)}
    if store is not None:
        env |= {"WASTEWATCH_INFLUX_URL": store.url, "WASTEWATCH_INFLUX_DATABASE": store.database}
    return env


def test_import_reports_each_row_and_is_idempotent(tmp_path: Path) -> None:
    env = env_for(tmp_path / "data")
    (tmp_path / "nov.csv").write_bytes(CSV_NOVEMBER)
    first = run_cli("manifests", "import", str(tmp_path / "nov.csv"), "--plant", "kotim", env=env)
    assert first.returncode == 1, first.stderr
    assert first.stdout.splitlines()[0] == "nov.csv: 2 stored, 0 already stored, 0 duplicates with other content, 3 rows refused"
    assert "row 5: manifest KOTIM-BAD-03: declared quantity 'abc' is not a number of kg" in first.stdout
    again = run_cli("manifests", "import", str(tmp_path / "nov.csv"), env=env)
    assert "0 stored, 2 already stored" in again.stdout and "imported before" in again.stdout
    (tmp_path / "letter.csv").write_bytes(b"dear operator\nhello\n")
    bad = run_cli("manifests", "import", str(tmp_path / "letter.csv"), env=env)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "required columns" in bad.stderr
    missing = run_cli("manifests", "import", str(tmp_path / "nothing.csv"), env=env)
    assert missing.returncode == 2 and "no file" in missing.stderr


def test_a_watched_folder_imports_each_file_once_and_moves_it(tmp_path: Path) -> None:
    env = env_for(tmp_path / "data")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    workbook = xlsx_november()
    (inbox / "nov.xlsx").write_bytes(workbook)
    (inbox / "letter.csv").write_bytes(b"nothing here\n")
    result = run_cli("manifests", "watch", str(inbox), "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert "nov.xlsx: 2 stored" in result.stdout
    assert sorted(p.name for p in (inbox / "imported").iterdir()) == ["nov.xlsx", "nov.xlsx.report.txt"]
    assert sorted(p.name for p in (inbox / "rejected").iterdir()) == ["letter.csv", "letter.csv.reason.txt"]
    assert not (inbox / "nov.xlsx").exists()
    (inbox / "copy.xlsx").write_bytes(workbook)  # the same bytes under another name
    again = run_cli("manifests", "watch", str(inbox), "--once", env=env)
    assert "copy.xlsx: imported before (same content)" in again.stdout
    db = open_database(Settings(data_dir=tmp_path / "data"))
    assert len(db.query("SELECT id FROM manifests")) == 2
    db.close()


def test_watch_with_reconcile_raises_the_alerts_of_what_it_imported(tmp_path: Path, influx_store: InfluxStore) -> None:
    write_batches(influx_store)
    env = env_for(tmp_path / "data", influx_store)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "nov.csv").write_bytes(CSV_NOVEMBER)
    result = run_cli("manifests", "watch", str(inbox), "--once", "--reconcile", "--month", "2026-11", env=env)
    assert result.returncode == 0, result.stderr
    assert "alert raised: regulatory_manifest_quantity_differs KOTIM-DIFF-02" in result.stdout


def test_reconcile_raises_the_alerts_and_statement_prints_the_month(tmp_path: Path, influx_store: InfluxStore) -> None:
    write_batches(influx_store)
    env = env_for(tmp_path / "data", influx_store)
    (tmp_path / "nov.csv").write_bytes(CSV_NOVEMBER)
    (tmp_path / "nov.xlsx").write_bytes(xlsx_november())
    run_cli("manifests", "import", str(tmp_path / "nov.csv"), env=env)
    run_cli("manifests", "import", str(tmp_path / "nov.xlsx"), env=env)
    result = run_cli("manifests", "reconcile", "--month", "2026-11", env=env)
    assert result.returncode == 0, result.stderr
    assert "kotim 2026-11: declared 250 kg, weighed 234 kg (difference -16 kg)" in result.stdout
    db = open_database(Settings(data_dir=tmp_path / "data"))
    store = AlertStore(db)
    assert store.active("kotim", "regulatory_manifest_quantity_differs", "KOTIM-DIFF-02") is not None
    assert store.active("kotim", "regulatory_manifest_never_received", "KOTIM-NEVER-05") is not None
    db.close()
    statement = run_cli("manifests", "statement", "--month", "2026-11", "--facility", "puskesmas-baamang", env=env)
    assert "Puskesmas Baamang (puskesmas-baamang): 1 manifests, declared 100 kg, received under them 88 kg (-12 kg)" in statement.stdout
    pdf = run_cli("manifests", "statement", "--month", "2026-11", "--pdf", str(tmp_path / "s.pdf"), "--lang", "en", env=env)
    assert pdf.returncode == 0 and (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    bad = run_cli("manifests", "reconcile", "--month", "2026-13", env=env)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr


def test_help_names_the_settings() -> None:
    result = run_cli("manifests", "--help")
    assert result.returncode == 0 and "WASTEWATCH_MANIFESTS_TOLERANCE" in result.stdout and "WASTEWATCH_DATA_DIR" in result.stdout


def test_the_compliance_day_job_reconciles_the_manifests_of_its_month(tmp_path: Path, influx_store: InfluxStore,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """What `wastewatch compliance` adds after each day job: the day's month (and the one before) reconciled,
    its findings raised as regulatory alerts, a second run raising nothing new."""
    write_batches(influx_store)
    env = env_for(tmp_path / "data", influx_store)
    (tmp_path / "nov.csv").write_bytes(CSV_NOVEMBER)
    run_cli("manifests", "import", str(tmp_path / "nov.csv"), env=env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load(Settings)
    plant = load_catalog(None).get("kotim")
    assert plant is not None
    hook = reconcile_after_day(settings)
    lines = hook(influx_store, plant, date(2026, 11, 30), ms_of(date(2026, 12, 10)))
    assert any("alert raised: regulatory_manifest_quantity_differs KOTIM-DIFF-02" in line for line in lines), lines
    again = hook(influx_store, plant, date(2026, 12, 1), ms_of(date(2026, 12, 11)))  # December's first day: November again
    assert not any("alert raised" in line for line in again), again


def ms_of(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 8, tzinfo=UTC).timestamp() * 1000)
