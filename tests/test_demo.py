"""`wastewatch demo` on a machine with nothing configured: embedded broker, SQLite, data flowing, clean Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.helpers import wait_until
from tests.servers import free_port
from wastewatch.plant import PlantCatalog
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


class DemoProcess:
    """`wastewatch demo` as a process with nothing configured but a data directory (and `env`)."""

    def __init__(self, tmp_path: Path, args: list[str], **env: str) -> None:
        self.data_dir = tmp_path / "data"
        self.out_path, self.err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
        # Nothing configured: no broker URL, no InfluxDB, so the demo must start its own broker and use SQLite.
        base = {key: value for key, value in os.environ.items() if not key.startswith("WASTEWATCH_")}
        self._env = {**base, "WASTEWATCH_DATA_DIR": str(self.data_dir), **env}
        self._args, self._cwd = args, tmp_path
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DemoProcess:
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "launch.cli", "demo", *self._args], env=self._env, cwd=self._cwd, stdout=out, stderr=err
            )
        return self

    def output(self) -> str:
        return self.out_path.read_text()

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
        assert self.proc is not None
        proc = self.proc
        wait_until(lambda: proc.poll() is not None or predicate(), timeout_s=timeout_s, what=what)
        assert proc.poll() is None, f"the demo exited early:\n{self.err_path.read_text()}"

    def interrupt(self, timeout_s: float = 30) -> int:
        """Ctrl-C, and the exit status; fails the test with the demo's output unless it is 0."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        returncode = self.proc.wait(timeout=timeout_s)
        assert returncode == 0, f"exit {returncode}\nstdout:\n{self.output()}\nstderr:\n{self.err_path.read_text()}"
        return returncode

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_demo_runs_on_embedded_defaults_and_stops_cleanly_on_ctrl_c(tmp_path: Path, catalog: PlantCatalog) -> None:
    with DemoProcess(tmp_path, ["--speed", "600"]) as demo:
        db = demo.data_dir / "timeseries.sqlite3"
        demo.wait_for(lambda: stored_readings(db) > 0, timeout_s=20, what="the demo to store readings")
        demo.interrupt()
    output = demo.output()
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
    plant = next(iter(catalog))
    with DemoProcess(tmp_path, ["--speed", "600", "--backfill", "1d"], WASTEWATCH_API_PORT=str(free_port())) as demo:
        demo.wait_for(lambda: "running; Ctrl-C stops" in demo.output(), timeout_s=120, what="the demo to fill its history and start")
        output = demo.output()
        url = re.search(r"^API: +(\S+)/docs", output, re.M).group(1)  # type: ignore[union-attr]
        key = re.search(r"^demo key: +(\S+)", output, re.M).group(1)  # type: ignore[union-attr]
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{url}/ready", timeout=10).status_code == 200
        tonnage_url = f"{url}/api/v1/plants/{plant.id}/tonnage?start=-3d&by=day"
        assert httpx.get(tonnage_url, timeout=10).status_code == 401
        tonnage = httpx.get(tonnage_url, headers=auth, timeout=30)
        assert tonnage.status_code == 200, tonnage.text
        assert tonnage.json()["batches"] > 0 and tonnage.json()["mass_kg"] > 0  # a simulated day of history was fed batches
        history_month = re.search(r"reports/(\d{4}-\d{2})\?", output).group(1)  # type: ignore[union-attr]
        report = httpx.get(f"{url}/api/v1/plants/{plant.id}/reports/{history_month}?format=json", headers=auth, timeout=60)
        assert report.status_code == 200, report.text
        demo.interrupt()
    assert "history ready in" in demo.output()
