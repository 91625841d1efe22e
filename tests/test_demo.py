"""`wastewatch demo` on a machine with nothing configured: embedded broker, SQLite, the last days of
history, the plant live from now with a fault that raises and clears an alert, clean Ctrl-C; its own
API key per run, a restart that writes no batch twice, a busy explicit port and a bad `--backfill`
refused."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from launch.cli import main
from tests.helpers import wait_until
from tests.servers import free_port
from wastewatch.plant import PlantCatalog
from wastewatch.store.sqlite import SqliteStore

ALERT_WITHIN_S = 180  # the brief: an alert opens within three minutes of the start


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

    def __init__(self, tmp_path: Path, args: list[str], *, name: str = "demo", data_dir: Path | None = None, **env: str) -> None:
        self.data_dir = data_dir or tmp_path / "data"
        self.out_path, self.err_path = tmp_path / f"{name}-stdout.txt", tmp_path / f"{name}-stderr.txt"
        # Nothing configured: no broker URL, no InfluxDB, so the demo must start its own broker and use SQLite.
        base = {key: value for key, value in os.environ.items() if not key.startswith("WASTEWATCH_")}
        self._env = {**base, "WASTEWATCH_DATA_DIR": str(self.data_dir), **env}
        self._args, self._cwd = args, tmp_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def __enter__(self) -> DemoProcess:
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "launch.cli", "demo", *self._args], env=self._env, cwd=self._cwd, stdout=out, stderr=err
            )
        return self

    def output(self) -> str:
        return self.out_path.read_text()

    def errors(self) -> str:
        return self.err_path.read_text()

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
        assert self.proc is not None
        proc = self.proc
        wait_until(lambda: proc.poll() is not None or predicate(), timeout_s=timeout_s, interval_s=0.2, what=what)
        assert proc.poll() is None, f"the demo exited early:\n{self.errors()}"

    def wait_running(self) -> tuple[str, dict[str, str]]:
        """Once the banner is out: the API's URL and the header with this run's key."""
        self.wait_for(lambda: "running; Ctrl-C stops" in self.output(), timeout_s=120, what="the demo to fill its history and start")
        output = self.output()
        url = re.search(r"^open: +(\S+)/docs", output, re.M).group(1)  # type: ignore[union-attr]
        key = re.search(r"^demo key: +(\S+)", output, re.M).group(1)  # type: ignore[union-attr]
        return url, {"Authorization": f"Bearer {key}"}

    def interrupt(self, timeout_s: float = 30) -> int:
        """Ctrl-C, and the exit status; fails the test with the demo's output unless it is 0."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        returncode = self.proc.wait(timeout=timeout_s)
        assert returncode == 0, f"exit {returncode}\nstdout:\n{self.output()}\nstderr:\n{self.errors()}"
        return returncode

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _plants_answer(url: str, auth: dict[str, str]) -> int:
    return httpx.get(f"{url}/api/v1/plants", headers=auth, timeout=10).status_code


def _stored_batches(path: Path) -> list[tuple[int, str]]:
    store = SqliteStore(path)
    try:
        return [(p.time_ms, str(p.fields["batch_id"])) for p in store.select("batch")]
    finally:
        store.close()


@pytest.mark.fault  # about 3.5 min: the fault's alert opens 2 min into its silence, and clears after it
@pytest.mark.minutes  # about 3 minutes: the fault's alert must open and clear in real time
def test_demo_opens_with_history_and_its_fault_raises_and_clears_an_alert(tmp_path: Path, catalog: PlantCatalog) -> None:
    plant = next(iter(catalog))
    with DemoProcess(tmp_path, ["--backfill", "1"], WASTEWATCH_API_PORT=str(free_port())) as demo:
        url, auth = demo.wait_running()
        output = demo.output()
        db = demo.data_dir / "timeseries.sqlite3"
        assert "MQTT broker:  mqtt://127.0.0.1:" in output and "embedded amqtt, MQTT 3.1.1" in output
        assert f"SQLite {db.resolve()}" in output and plant.id in output and "wastewatch deadletters" in output
        assert "fault:        network_outage" in output
        assert httpx.get(f"{url}/ready", timeout=10).status_code == 200  # the probe the broker no longer logs as an error
        assert httpx.get(f"{url}/api/v1/plants/{plant.id}/tonnage?start=-2d&by=day", timeout=10).status_code == 401
        # the summaries of the last days have content at once: a day of history was fed and burnt
        tonnage = httpx.get(f"{url}/api/v1/plants/{plant.id}/tonnage?start=-2d&by=day", headers=auth, timeout=30)
        assert tonnage.status_code == 200, tonnage.text
        assert tonnage.json()["batches"] > 0 and tonnage.json()["mass_kg"] > 0
        uptime = httpx.get(f"{url}/api/v1/plants/{plant.id}/uptime?start=-2d", headers=auth, timeout=30)
        assert uptime.status_code == 200 and uptime.json()["operating_h"] > 0, uptime.text
        month = re.search(r"reports/(\d{4}-\d{2})\?", output).group(1)  # type: ignore[union-attr]
        report = httpx.get(f"{url}/api/v1/plants/{plant.id}/reports/{month}?format=json", headers=auth, timeout=60)
        assert report.status_code == 200, report.text
        left_s = ALERT_WITHIN_S - (time.monotonic() - demo.started)
        demo.wait_for(lambda: "alert raised    #1 major    kotim/plant_no_data/link" in demo.output(), timeout_s=left_s,
                      what="the outage's alert to be raised and printed within three minutes of the start")
        # the alert reaches the console: the printed login sees it in the inbox and acknowledges it there
        console, user, password = re.search(r"^console: +(\S+)  login (\S+) / (\S+)", output, re.M).groups()  # type: ignore[union-attr]
        with httpx.Client(base_url=url, timeout=30, headers={"Origin": url}) as browser:
            login = browser.post("/console/login", data={"name": user, "password": password, "next": "/console/alerts", "lang": "en"})
            assert login.status_code == 303, login.text
            rows = browser.get("/console/alerts/rows?lang=en")
            assert rows.status_code == 200 and "/console/alerts/1?" in rows.text and "No data from the plant" in rows.text, rows.text
            assert " WIB</td>" in rows.text, rows.text  # the plant's time, as the control room's clock shows it
            alert_page = browser.get("/console/alerts/1?lang=en")
            csrf = re.search(r'name="csrf" value="([^"]+)"', alert_page.text).group(1)  # type: ignore[union-attr]
            acked = browser.post("/console/alerts/1/ack", data={"csrf": csrf, "comment": "seen in the demo", "lang": "en"})
            assert acked.status_code == 303, acked.text
        alert = httpx.get(f"{url}/api/v1/alerts/1", headers=auth, timeout=10).json()["alert"]
        assert alert["acknowledged"] and alert["ack_by"] == user and console == f"{url}/console/", alert
        demo.wait_for(lambda: "alert cleared   #1" in demo.output(), timeout_s=120, what="the alert to clear after the outage")
        assert re.search(r"^alert cleared   #1 .*: recovered after \d+", demo.output(), re.M), demo.output()
        # the plant goes on live, in real time: its sensors report now, not a day behind
        sensors = httpx.get(f"{url}/api/v1/plants/{plant.id}/sensors", headers=auth, timeout=10).json()["sensors"]
        reporting = [s["id"] for s in sensors if s["reporting"] == "reporting"]
        assert len(reporting) >= 0.8 * len(sensors), sensors
        demo.interrupt()
    summary = demo.output().strip().splitlines()[-1]
    assert summary.startswith("demo stopped after"), summary
    assert "dead-lettered 0" in summary and "written 0," not in summary
    # a healthy run logs no warning: no route to a channel the demo lacks, no alert said twice by the log channel
    noise = [line for line in demo.errors().splitlines() if " ERROR " in line or " WARNING " in line or "Traceback" in line]
    assert not noise, noise


def test_two_demos_keep_their_own_keys_and_a_restart_writes_no_batch_twice(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with DemoProcess(tmp_path, ["--backfill", "1"], name="first", data_dir=data_dir) as first:
        first_url, first_auth = first.wait_running()
        with DemoProcess(tmp_path, ["--backfill", "1"], name="second", data_dir=data_dir) as second:  # the same alert database
            second_url, second_auth = second.wait_running()
            assert second_url != first_url  # the API port was left unset: the second takes a free one
            assert _plants_answer(first_url, first_auth) == 200 and _plants_answer(second_url, second_auth) == 200
            second.interrupt()
        assert _plants_answer(first_url, first_auth) == 200  # the second's stop revoked only its own key
        assert _plants_answer(first_url, second_auth) == 401
        first.interrupt()
    db = data_dir / "timeseries.sqlite3"
    before = _stored_batches(db)
    assert before, "a day of history holds batches"
    with DemoProcess(tmp_path, ["--backfill", "1"], name="restart", data_dir=data_dir) as restart:
        restart.wait_running()
        assert "since the store's newest data" in restart.output()
        restart.interrupt()
    after = _stored_batches(db)
    assert [b for b in after if b[0] <= before[-1][0]] == before  # the stored past is not written again
    ids = [batch_id for _, batch_id in after]
    assert len(ids) == len(set(ids))


def test_a_busy_explicit_api_port_is_an_error_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("WASTEWATCH_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("WASTEWATCH_API_PORT", str(port))
        assert main(["demo", "--backfill", "1"]) == 2
    err = capsys.readouterr().err
    assert f"WASTEWATCH_API_PORT={port}" in err and "in use" in err, err
    assert not (tmp_path / "data" / "timeseries.sqlite3").exists()  # refused before anything started


@pytest.mark.parametrize(("value", "why"), [("0", "must be 1 to 366"), ("-3", "not a number of days"),
                                            ("367", "must be 1 to 366"), ("30m", "not a number of days")])
def test_backfill_takes_a_sensible_number_of_days(value: str, why: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--backfill", value])
    assert exit_.value.code == 2
    assert "--backfill" in (err := capsys.readouterr().err) and why in err, err
