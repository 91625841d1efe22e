"""The command line: help names the settings; a bad setting or plant file stops with one clear line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from alerts.settings import AlertSettings
from api.settings import ApiSettings, ReportSettings
from compliance.settings import ComplianceSettings
from ingest.settings import IngestSettings
from wastewatch.settings import BrokerSettings, DecodeSettings, InfluxSettings, Settings, SmtpSettings, env_name


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WASTEWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "launch.cli", *args], env={**clean, **(env or {})}, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("command", ["ingest", "demo", "simulate", "deadletters", "alerts", "compliance"])
def test_help_says_what_it_does_and_which_settings_it_reads(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "WASTEWATCH_" in result.stdout
    assert "WASTEWATCH_DATA_DIR" in result.stdout or "WASTEWATCH_MQTT_URL" in result.stdout


@pytest.mark.parametrize(("command", "classes"), [
    ("ingest", (Settings, BrokerSettings, InfluxSettings, DecodeSettings, IngestSettings)),
    ("alerts", (Settings, BrokerSettings, InfluxSettings, SmtpSettings, AlertSettings)),
    ("compliance", (Settings, InfluxSettings, ComplianceSettings)),
    ("api", (Settings, InfluxSettings, ApiSettings)),
    ("report", (Settings, SmtpSettings, ReportSettings)),
])
def test_each_help_lists_every_variable_of_the_settings_classes_its_command_reads(command: str, classes: tuple[type[BaseSettings], ...]) -> None:
    # generated from the classes: a setting added to one appears in its command's help
    shown = set(re.findall(r"^  (WASTEWATCH_[A-Z0-9_]+)", run_cli(command, "--help").stdout, re.MULTILINE))
    wanted = {env_name(cls, name) for cls in classes for name, field in cls.model_fields.items()
              if not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings))}
    assert wanted - shown == set()


@pytest.mark.parametrize(
    "name,value",
    [
        ("WASTEWATCH_INGEST_BATCH_MAX_LINES", "lots"),
        ("WASTEWATCH_SPOOL_MAX_BYTES", "1"),
        ("WASTEWATCH_MQTT_URL", "http://broker:1883"),
        ("WASTEWATCH_INFLUX_URL", "influx:8086"),
        ("WASTEWATCH_MQTT_PROTOCOL", "4"),
    ],
)
def test_a_bad_setting_stops_the_program_with_one_line_naming_it(name, value):
    result = run_cli("ingest", env={name: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], result.stderr


def test_a_bad_plant_file_names_the_file_and_the_field(tmp_path: Path):
    plant = tmp_path / "plant.yaml"
    plant.write_text("id: x\nname: X\ntimezone: Mars/Olympus\ncapacity_kg_h: 10\nsensors: []\n")
    result = run_cli("ingest", env={"WASTEWATCH_MQTT_URL": "mqtt://127.0.0.1:1", "WASTEWATCH_PLANT_CONFIG": str(plant)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(plant) in lines[0] and "timezone" in lines[0], result.stderr


def test_deadletters_lists_counts_by_reason(tmp_path: Path):
    from ingest.deadletters import DeadLetterStore

    store = DeadLetterStore(tmp_path / "deadletters.sqlite3", max_bytes=64 * 1024)
    payload = b'{"ts": 1, "value": NaN}'
    store.add(int(time.time() * 1000), "plants/kotim/sensors/o2", "non_finite", "o2 value is nan", payload)
    store.add(int(time.time() * 1000), "plants/kotim/telemetry", "malformed_json", "not JSON", b"x" * 100_000)
    store.close()
    result = run_cli("deadletters", env={"WASTEWATCH_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0
    assert "non_finite=1" in result.stdout and "plants/kotim/sensors/o2" in result.stdout
    assert "size=100000" in result.stdout  # the original size of a payload the record cut


def test_compliance_help_lists_its_settings_and_subcommands():
    result = run_cli("compliance", "--help")
    assert result.returncode == 0
    assert "WASTEWATCH_COMPLIANCE_SETTLE_S" in result.stdout and "WASTEWATCH_COMPLIANCE_DAY_AT_MIN" in result.stdout
    assert "WASTEWATCH_INFLUX_URL" in result.stdout
    assert all(name in result.stdout for name in ("run-day", "recompute", "show"))


def test_building_the_command_line_does_not_load_the_report_renderers() -> None:
    # Every worker starts through `wastewatch`: matplotlib, fpdf2 and numpy would cost each one tens of MB.
    probe = "import sys, launch.cli as c; c.build_parser(); print(sorted({'matplotlib', 'fpdf', 'numpy'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
