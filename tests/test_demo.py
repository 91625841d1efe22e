"""`wastewatch demo` on a machine with nothing configured: embedded broker, SQLite, data flowing, clean Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from tests.helpers import wait_until
from wastewatch.plant import PlantCatalog
from wastewatch.servers import free_port
from wastewatch.store.sqlite import SqliteStore


def stored_readings(path: Path) -> int:
    """Readings in the demo's SQLite store, read while the demo writes to it (0 until it exists)."""
    if not path.exists():
        return 0
    try:
        store = SqliteStore(path)
        try:
            rows = store.aggregate("reading", "value", "count")
        finally:
            store.close()
    except sqlite3.OperationalError:  # the demo is creating the schema this very moment
        return 0
    return int(rows[0].value or 0) if rows else 0


def test_demo_runs_on_embedded_defaults_and_stops_cleanly_on_ctrl_c(tmp_path: Path, catalog: PlantCatalog) -> None:
    data_dir = tmp_path / "data"
    # Nothing configured: no broker URL, no InfluxDB, so the demo must start its own broker and use SQLite.
    env = {key: value for key, value in os.environ.items() if not key.startswith("WASTEWATCH_")}
    env["WASTEWATCH_DATA_DIR"] = str(data_dir)
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        with subprocess.Popen(
            [sys.executable, "-m", "wastewatch.cli", "demo", "--speed", "600"], env=env, cwd=tmp_path, stdout=out, stderr=err
        ) as proc:
            try:
                db = data_dir / "timeseries.sqlite3"
                wait_until(
                    lambda: proc.poll() is not None or stored_readings(db) > 0, timeout_s=20, what="the demo to store readings"
                )
                assert proc.poll() is None, f"the demo exited early:\n{err_path.read_text()}"
                proc.send_signal(signal.SIGINT)
                returncode = proc.wait(timeout=20)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    output = out_path.read_text()
    assert returncode == 0, f"exit {returncode}\nstdout:\n{output}\nstderr:\n{err_path.read_text()}"
    plant = next(iter(catalog))
    assert "MQTT broker:  mqtt://127.0.0.1:" in output and "embedded amqtt, MQTT 3.1.1" in output
    assert f"SQLite {db.resolve()}" in output
    assert plant.id in output and plant.name in output
    assert "speed 600" in output and "seed 1" in output
    assert "wastewatch deadletters" in output
    summary = output.strip().splitlines()[-1]
    assert summary.startswith("demo stopped after"), summary
    assert "dead-lettered 0" in summary and "written 0," not in summary
    assert stored_readings(db) > 0


def test_demo_with_backfill_serves_history_through_the_api_with_its_demo_key(tmp_path: Path, catalog: PlantCatalog) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WASTEWATCH_")}
    env.update(WASTEWATCH_DATA_DIR=str(tmp_path / "data"), WASTEWATCH_API_PORT=str(free_port()))
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    plant = next(iter(catalog))
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        with subprocess.Popen(
            [sys.executable, "-m", "wastewatch.cli", "demo", "--speed", "600", "--backfill", "1d"],
            env=env, cwd=tmp_path, stdout=out, stderr=err,
        ) as proc:
            try:
                wait_until(
                    lambda: proc.poll() is not None or "running; Ctrl-C stops" in out_path.read_text(),
                    timeout_s=120, what="the demo to fill its history and start",
                )
                assert proc.poll() is None, f"the demo exited early:\n{err_path.read_text()}"
                output = out_path.read_text()
                url = re.search(r"^API: +(\S+)/docs", output, re.M).group(1)  # type: ignore[union-attr]
                key = re.search(r"^demo key: +(\S+)", output, re.M).group(1)  # type: ignore[union-attr]
                auth = {"Authorization": f"Bearer {key}"}
                assert httpx.get(f"{url}/ready", timeout=10).status_code == 200
                assert httpx.get(f"{url}/api/v1/plants/{plant.id}/tonnage?start=-3d&by=day", timeout=10).status_code == 401
                tonnage = httpx.get(f"{url}/api/v1/plants/{plant.id}/tonnage?start=-3d&by=day", headers=auth, timeout=30)
                assert tonnage.status_code == 200, tonnage.text
                assert tonnage.json()["batches"] > 0 and tonnage.json()["mass_kg"] > 0  # a simulated day of history was fed batches
                history_month = re.search(r"reports/(\d{4}-\d{2})\?", output).group(1)  # type: ignore[union-attr]
                report = httpx.get(f"{url}/api/v1/plants/{plant.id}/reports/{history_month}?format=json", headers=auth, timeout=60)
                assert report.status_code == 200, report.text
                proc.send_signal(signal.SIGINT)
                returncode = proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    output = out_path.read_text()
    assert returncode == 0, f"exit {returncode}\nstdout:\n{output}\nstderr:\n{err_path.read_text()}"
    assert "history ready in" in output
