"""`wastewatch compliance` as a subprocess against a SQLite store holding a morning of simulated CEMS
readings and plant states: `run-day` judges the day, `show` prints it; bad input is one line and exit 2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from alerts.plant_state import PlantSignals, PlantState, PlantStateConfig, observe_signal, settle
from simulators import generate_messages
from tests.helpers import wait_until
from tests.test_cli import run_cli
from wastewatch.compliance.pipeline import Channels
from wastewatch.compliance.windows import day_bounds_ms
from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.operating_state import OperatingState
from wastewatch.plant import PlantCatalog
from wastewatch.points import Point
from wastewatch.records import PLANT_STATE, Batch, Reading
from wastewatch.store.sqlite import SqliteStore

DAY = date(2026, 11, 20)
HOUR_S = 3600


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, catalog: PlantCatalog) -> Path:
    """05:00–11:00 local of a past day: pre-heat, then burning with batches fed, as the ingest stores it."""
    plant = catalog.get("kotim")
    assert plant is not None
    day_start, _ = day_bounds_ms(DAY, plant.zone)
    start_ms = day_start + 5 * HOUR_S * 1000
    generated = generate_messages(plant, seed=3, start_ms=start_ms, duration_s=6 * HOUR_S)
    cems = set(Channels.of(plant).sensor_ids)
    config, signals = PlantStateConfig(), PlantSignals()
    state = PlantState(plant="kotim", operating=OperatingState.COLD, since_ms=start_ms)
    points = [Point(PLANT_STATE, {"plant": "kotim"}, {"state": "cold", "from_state": "cold", "reason": "start"}, start_ms)]
    for message in generated.messages:
        for record in decode_message(message.topic, message.payload, catalog, message.at_ms, DecodeLimits()).records:
            if not isinstance(record, (Reading, Batch)):
                continue
            signals = observe_signal(signals, record, message.at_ms, config)
            state, transitions = settle(state, signals, message.at_ms, config)
            points += [
                Point(PLANT_STATE, {"plant": "kotim"}, {"state": t.to_state.value, "from_state": t.from_state.value}, t.at_ms)
                for t in transitions
            ]
            if isinstance(record, Batch) or record.sensor in cems:
                points.append(record.to_point())
    directory = tmp_path_factory.mktemp("compliance-cli")
    store = SqliteStore(directory / "timeseries.sqlite3")
    try:
        for i in range(0, len(points), 5000):
            store.write(points[i : i + 5000])
    finally:
        store.close()
    return directory


def test_run_day_then_show_prints_each_profile_and_pollutant_with_the_day_kpis(data_dir: Path) -> None:
    env = {"WASTEWATCH_DATA_DIR": str(data_dir)}
    ran = run_cli("compliance", "run-day", "--date", DAY.isoformat(), "--plant", "kotim", env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith(f"kotim {DAY}: ") and "written" in ran.stdout
    assert "eu-ied-annex-vi" in ran.stdout
    assert f"sealed into the ledger: {DAY}" in ran.stdout  # the day job seals the judged day
    verified = run_cli("verify", "--plant", "kotim", env=env)
    assert verified.returncode == 0 and verified.stdout.startswith("kotim: OK, 1 sealed day checked"), verified.stdout + verified.stderr

    shown = run_cli("compliance", "show", "--date", DAY.isoformat(), env=env)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    for profile in ("eu-ied-annex-vi", "id-data-availability", "id-kep03-1995-unconfirmed"):
        assert profile in out, out
    lines = out.splitlines()
    eu_co = next(line for line in lines if "eu-ied-annex-vi" in line and " co " in line and "valid=" in line)
    assert "half-hours:" in eu_co and "V4 " in eu_co
    assert any("eu-ied-annex-vi" in line and " dust " in line and "valid=" in line for line in lines), out
    assert "not judged" not in out  # run-day judged every day-basis series
    kpis = lines[-1]
    assert kpis.startswith("KPIs: tonnage ") and "operating hours" in kpis and "availability" in kpis
    assert "tonnage 0.000 t" not in kpis and "operating hours 0.00 h" not in kpis


def test_show_before_run_day_says_the_day_is_not_judged(tmp_path: Path) -> None:
    shown = run_cli("compliance", "show", "--date", DAY.isoformat(), env={"WASTEWATCH_DATA_DIR": str(tmp_path)})
    assert shown.returncode == 0, shown.stderr
    assert "not judged" in shown.stdout and f"run-day --date {DAY}" in shown.stdout


@pytest.mark.parametrize(
    "args,expected",
    [
        (["run-day", "--date", "2026-02-30"], "--date"),
        (["show", "--date", "28.11.2026"], "YYYY-MM-DD"),
        (["show", "--date", "2026-11-20", "--plant", "nowhere"], "unknown plant"),
        (["run-day", "--date", "2099-01-01"], "has not begun"),
        (["recompute", "--from", "2026-11-20T10:00", "--to", "2026-11-20"], "offset"),
        (["recompute", "--from", "2026-11-21", "--to", "2026-11-20T00:00:00+07:00"], "not after"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    result = run_cli("compliance", *args, env={"WASTEWATCH_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_recompute_of_a_local_date_range_reports_what_it_wrote(data_dir: Path) -> None:
    result = run_cli(
        "compliance", "recompute", "--from", DAY.isoformat(), "--to", "2026-11-20T12:00:00+07:00",
        "--reason", "test", env={"WASTEWATCH_DATA_DIR": str(data_dir)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"kotim {DAY} 00:00 to {DAY} 12:00: ")


def test_the_service_runs_until_ctrl_c_and_exits_0(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASTEWATCH_")}
    env["WASTEWATCH_DATA_DIR"] = str(tmp_path)
    err_path = tmp_path / "stderr.txt"
    with open(err_path, "wb") as err, subprocess.Popen(
        [sys.executable, "-m", "launch.cli", "compliance"], env=env, stdout=subprocess.DEVNULL, stderr=err
    ) as proc:
        try:
            wait_until(lambda: "compliance service started" in err_path.read_text() or proc.poll() is not None,
                       timeout_s=20, what="the compliance service to start")
            assert proc.poll() is None, err_path.read_text()
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=20) == 0, err_path.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "plants=kotim" in err_path.read_text()
