"""The production stack's secrets (docker-compose.yml, .env.example, deploy/env/*.env.example): each
container gets exactly the secrets it needs, and every container refuses empty and example ones at
start. No Docker engine here: the compose file is parsed and interpolated the way Compose does, and
what each container runs at start (the wastewatch settings, the broker's entrypoint, the
check-secrets script in front of InfluxDB and Grafana) is run for real with that environment.

The helpers (`interpolate`, `service_environment`, …) are shared with the other tests/test_stack_*.py.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from launch.settings import known_variables, load_every_settings
from wastewatch.settings import SettingsError

ROOT = Path(__file__).resolve().parents[1]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SECRET = re.compile(r"PASSWORD|TOKEN|SECRET", re.IGNORECASE)
WASTEWATCH_IMAGE = "wastewatch:0.1.0"

# service -> the secrets it needs, and no more
NEEDS: dict[str, set[str]] = {
    # builds the broker's password file
    "mosquitto": {"MQTT_INGEST_PASSWORD", "MQTT_ALERTS_PASSWORD", "MQTT_SIMULATOR_PASSWORD", "MQTT_HEALTHCHECK_PASSWORD"},
    # makes the admin and one user per service on its first start
    "influxdb": {
        "INFLUXDB_ADMIN_PASSWORD", "INFLUXDB_INGEST_PASSWORD", "INFLUXDB_ALERTS_PASSWORD", "INFLUXDB_COMPLIANCE_PASSWORD",
        "INFLUXDB_REPORTS_PASSWORD", "INFLUXDB_API_PASSWORD", "INFLUXDB_GRAFANA_PASSWORD",
    },
    "grafana": {"GRAFANA_ADMIN_PASSWORD", "INFLUXDB_GRAFANA_PASSWORD"},
    "proxy": set(),
    "ingest": {"MQTT_INGEST_PASSWORD", "INFLUXDB_INGEST_PASSWORD"},
    "alerts": {"MQTT_ALERTS_PASSWORD", "INFLUXDB_ALERTS_PASSWORD", "WASTEWATCH_ALERTS_WEBHOOK_SECRET", "WASTEWATCH_ALERTS_SMTP_PASSWORD",
               "WASTEWATCH_ALERTS_TELEGRAM_TOKEN", "WASTEWATCH_ALERTS_WHATSAPP_TOKEN"},
    "api": {"INFLUXDB_API_PASSWORD"},
    "compliance": {"INFLUXDB_COMPLIANCE_PASSWORD"},
    "reports": {"INFLUXDB_REPORTS_PASSWORD", "WASTEWATCH_ALERTS_SMTP_PASSWORD"},
    "simulator": {"MQTT_SIMULATOR_PASSWORD"},
}

_REFERENCE = re.compile(r"\$(?:\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*)|(?P<dollar>\$))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>.*))?", re.DOTALL)


class MissingVariable(Exception):
    """A `${VAR:?message}` with VAR unset or empty: `docker compose` stops with the message."""


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation of one value: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}."""

    def substitute(match: re.Match[str]) -> str:
        if match.group("dollar"):
            return "$"
        if match.group("named"):
            return env.get(match.group("named"), "")
        braced = _BRACED.fullmatch(match.group("braced"))
        assert braced is not None and "${" not in match.group("braced"), f"unsupported: {match.group(0)}"
        name, op, arg = braced.group("name", "op", "arg")
        current = env.get(name)
        if op is None:
            return current or ""
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if current is not None else arg
        if (op == ":?" and not current) or (op == "?" and current is None):
            raise MissingVariable(f"required variable {name} is missing a value: {arg}")
        return current or ""

    return _REFERENCE.sub(substitute, value)


def references(value: str) -> list[tuple[str, str | None]]:
    """The variables a value refers to, each with its operator (None, ':-', ':?', …)."""
    found = []
    for match in _REFERENCE.finditer(value):
        if match.group("named"):
            found.append((match.group("named"), None))
        elif match.group("braced") is not None:
            braced = _BRACED.fullmatch(match.group("braced"))
            assert braced is not None, match.group(0)
            found.append((braced.group("name"), braced.group("op")))
    return found


def read_env_file(path: Path, *, commented: bool = False) -> dict[str, str]:
    """KEY=VALUE lines of an env file; with `commented`, also the `# KEY=VALUE` lines an operator may uncomment."""
    pattern = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
    values = {}
    for line in path.read_text().splitlines():
        match = pattern.match(line.strip())
        if match and (commented or not match.group(1)):
            values[match.group(2)] = match.group(3)
    return values


def env_file_paths(service: Mapping[str, Any]) -> list[str]:
    entries = service.get("env_file") or []
    if isinstance(entries, (str, dict)):
        entries = [entries]
    return [entry["path"] if isinstance(entry, dict) else entry for entry in entries]


def example_of(path: str) -> Path:
    """The committed example of an env file (.env -> .env.example, deploy/env/x.env -> deploy/env/x.env.example)."""
    return ROOT / (path.removeprefix("./") + ".example")


def dotenv(**overrides: str) -> dict[str, str]:
    """.env as an operator makes it from .env.example, with `overrides` (e.g. real secrets) applied."""
    values = read_env_file(ROOT / ".env.example")
    values.update(overrides)
    return values


def real_secrets() -> dict[str, str]:
    """Every secret of .env.example replaced by a real one."""
    return {key: os.urandom(16).hex() for key in read_env_file(ROOT / ".env.example") if SECRET.search(key)}


def service_environment(name: str, env: Mapping[str, str], env_files: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, str]:
    """The environment the container `name` starts with: its env files (given by path), then `environment:`."""
    service = COMPOSE["services"][name]
    result: dict[str, str] = {}
    for path in env_file_paths(service):
        result.update((env_files or {}).get(path, {}))
    for key, value in (service.get("environment") or {}).items():
        result[key] = interpolate(str(value), env)
    return result


def secrets_received(name: str) -> set[str]:
    """The secret variables the container `name` is given: referred to in `environment:`, or in its env files."""
    service = COMPOSE["services"][name]
    received: set[str] = set()
    for key, value in (service.get("environment") or {}).items():
        names = {ref for ref, _ in references(str(value))}
        received |= {ref for ref in names if SECRET.search(ref)}
        if SECRET.search(key) and not names:
            received.add(key)  # a literal secret in the compose file
    for path in env_file_paths(service):
        received |= {key for key in read_env_file(example_of(path), commented=True) if SECRET.search(key)}
    return received


def checked_secrets(name: str) -> list[str] | None:
    """The variables the container's check-secrets entrypoint refuses empty or example values of."""
    entrypoint = COMPOSE["services"][name].get("entrypoint") or []
    if not entrypoint or not entrypoint[0].endswith("check-secrets.sh"):
        return None
    return entrypoint[1:entrypoint.index("--")]


def run_check_secrets(variables: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ROOT / "deploy" / "check-secrets.sh"), *variables, "--", "true"],
        env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True,
    )


# --- each container gets exactly what it needs ---------------------------------------------------------


def test_every_service_is_accounted_for() -> None:
    assert set(COMPOSE["services"]) == set(NEEDS)


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_each_container_receives_exactly_the_secrets_it_needs(name: str) -> None:
    assert secrets_received(name) == NEEDS[name]


def test_no_container_reads_the_whole_env_file() -> None:
    for name, service in COMPOSE["services"].items():
        for path in env_file_paths(service):
            assert path.removeprefix("./") == f"deploy/env/{name}.env", f"{name}: {path}"
            assert example_of(path).exists(), f"{name}: no {example_of(path)}"


def test_every_secret_in_the_compose_file_must_be_set() -> None:
    # ${VAR:?…}: an unset or empty secret stops `docker compose up` with a message, never becomes ""
    text = (ROOT / "docker-compose.yml").read_text()
    for name, op in references(text):
        if SECRET.search(name):
            assert op == ":?", name
    with pytest.raises(MissingVariable, match="MQTT_INGEST_PASSWORD"):
        service_environment("ingest", dotenv(MQTT_INGEST_PASSWORD=""))


def test_the_examples_hold_only_example_secrets_and_the_real_files_are_never_committed() -> None:
    compose_text = (ROOT / "docker-compose.yml").read_text()
    example = read_env_file(ROOT / ".env.example")
    assert {ref for ref, op in references(compose_text) if op == ":?"} <= set(example)
    for path in [ROOT / ".env.example", *sorted((ROOT / "deploy" / "env").glob("*.env.example"))]:
        for key, value in read_env_file(path, commented=True).items():
            if SECRET.search(key):
                assert value.startswith("change-me"), f"{path.name}: {key}"
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    ignored = (ROOT / "deploy" / ".gitignore").read_text().splitlines()
    assert {"env/*.env", "certs/", "ca/"} <= set(ignored)


# --- every container refuses empty and example secrets at start -----------------------------------------


def _wastewatch_services() -> list[str]:
    return sorted(n for n, s in COMPOSE["services"].items() if s.get("image") == WASTEWATCH_IMAGE)


def _examples_uncommented(name: str) -> dict[str, dict[str, str]]:
    service = COMPOSE["services"][name]
    return {path: read_env_file(example_of(path), commented=True) for path in env_file_paths(service)}


def _load_service_settings(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> object:
    for key in list(os.environ):
        if key.startswith("WASTEWATCH_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_every_settings()


@pytest.mark.parametrize("name", _wastewatch_services())
def test_wastewatch_services_refuse_every_example_secret(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # one example secret at a time, the others real: each one alone stops the service
    secrets = real_secrets()
    files = _examples_uncommented(name)
    file_secrets = {(path, key) for path, values in files.items() for key in values if SECRET.search(key)}
    real_files = {path: {k: (os.urandom(16).hex() if SECRET.search(k) else v) for k, v in values.items()} for path, values in files.items()}
    env_secrets = NEEDS[name] - {key for _, key in file_secrets}
    assert env_secrets <= set(secrets)
    for key in sorted(env_secrets):
        example = service_environment(name, dotenv(**{**secrets, key: read_env_file(ROOT / ".env.example")[key]}), real_files)
        with pytest.raises(SettingsError, match="example secret"):
            _load_service_settings(monkeypatch, example)
    for path, key in sorted(file_secrets):
        with_example = {**real_files, path: {**real_files[path], key: files[path][key]}}
        with pytest.raises(SettingsError, match="example secret"):
            _load_service_settings(monkeypatch, service_environment(name, dotenv(**secrets), with_example))
    # all real: the service starts (settings load)
    _load_service_settings(monkeypatch, service_environment(name, dotenv(**secrets), real_files))


def test_the_broker_refuses_every_example_password(tmp_path: Path) -> None:
    secrets = real_secrets()
    for key in sorted(NEEDS["mosquitto"]):
        env = service_environment("mosquitto", dotenv(**{**secrets, key: "change-me-mqtt"}))
        env.update(WASTEWATCH_DEVICES_PASSWD=str(tmp_path / "none"), WASTEWATCH_BROKER_PASSWD=str(tmp_path / "passwd"), PATH=os.environ["PATH"])
        result = subprocess.run(["sh", str(ROOT / "deploy" / "mosquitto" / "entrypoint.sh")], env=env, capture_output=True, text=True)
        assert result.returncode == 1 and key in result.stderr and "example secret" in result.stderr
        assert not (tmp_path / "passwd").exists()
    env = service_environment("mosquitto", dotenv(**secrets))
    env.update(WASTEWATCH_DEVICES_PASSWD=str(tmp_path / "none"), WASTEWATCH_BROKER_PASSWD=str(tmp_path / "passwd"), PATH=os.environ["PATH"])
    subprocess.run(["sh", str(ROOT / "deploy" / "mosquitto" / "entrypoint.sh")], env=env, check=True, capture_output=True)


@pytest.mark.parametrize("name", ["influxdb", "grafana"])
def test_influxdb_and_grafana_start_behind_the_secret_check(name: str) -> None:
    service = COMPOSE["services"][name]
    checked = checked_secrets(name)
    assert checked, f"{name} does not start with deploy/check-secrets.sh"
    assert "./deploy/check-secrets.sh:/wastewatch/check-secrets.sh:ro" in service["volumes"]
    assert service["entrypoint"][0] == "/wastewatch/check-secrets.sh"
    # every secret-bearing variable the container gets is checked
    env = service_environment(name, dotenv(**real_secrets()))
    assert {key for key in env if SECRET.search(key)} <= set(checked)
    # the image's own start follows the check: its entrypoint, and a command (a compose entrypoint drops the image's CMD)
    image_entrypoint = {"influxdb": "/entrypoint.sh", "grafana": "/run.sh"}[name]
    assert service["entrypoint"][service["entrypoint"].index("--") + 1] == image_entrypoint
    if name == "influxdb":
        assert service["command"] == ["influxd"]


@pytest.mark.parametrize("name", ["influxdb", "grafana"])
def test_influxdb_and_grafana_refuse_every_example_and_empty_secret(name: str) -> None:
    checked = checked_secrets(name) or []
    secrets = real_secrets()
    assert run_check_secrets(checked, service_environment(name, dotenv(**secrets))).returncode == 0
    for key in sorted(NEEDS[name]):
        # .env.example's own value for this secret, the others real
        env = service_environment(name, dotenv(**{**secrets, key: read_env_file(ROOT / ".env.example")[key]}))
        result = run_check_secrets(checked, env)
        assert result.returncode == 1 and "example secret" in result.stderr, key
        assert "refusing to start" in result.stderr
    # all of .env.example as it is: every checked variable is named
    result = run_check_secrets(checked, service_environment(name, dotenv()))
    assert result.returncode == 1 and all(var in result.stderr for var in checked)


def test_check_secrets_refuses_empty_even_in_a_demo_and_accepts_examples_only_in_a_demo() -> None:
    assert run_check_secrets(["A", "B"], {"A": "", "B": "x" * 20, "WASTEWATCH_DEMO": "1"}).returncode == 1
    assert "A is empty or not set" in run_check_secrets(["A"], {}).stderr
    assert run_check_secrets(["A"], {"A": "Change-Me-please"}).returncode == 1
    assert run_check_secrets(["A"], {"A": "change-me-please", "WASTEWATCH_DEMO": "1"}).returncode == 0
    # a short secret is refused outside a demo, whatever it holds
    short = run_check_secrets(["A"], {"A": "s3cr3t-pw"})
    assert short.returncode == 1 and "A is shorter than 16 characters" in short.stderr
    assert run_check_secrets(["A"], {"A": "s3cr3t-pw", "WASTEWATCH_DEMO": "1"}).returncode == 0
    assert run_check_secrets(["A"], {"A": "x" * 16}).returncode == 0
    # it runs the command that follows `--` only when every check passed
    ran = subprocess.run(["sh", str(ROOT / "deploy" / "check-secrets.sh"), "A", "--", "echo", "started"],
                         env={"PATH": os.environ["PATH"], "A": os.urandom(8).hex()}, capture_output=True, text=True)
    assert ran.stdout == "started\n"


# --- what is published -------------------------------------------------------------------------------


def _published(service: Mapping[str, Any]) -> list[tuple[str, int]]:
    ports = []
    for entry in service.get("ports", []):
        parts = str(entry).split(":")
        host_ip = parts[0] if len(parts) == 3 else "0.0.0.0"
        ports.append((host_ip, int(parts[-1].split("/")[0])))
    return ports


def test_no_plaintext_port_is_published_beyond_the_server() -> None:
    published = {name: _published(service) for name, service in COMPOSE["services"].items()}
    public = {(name, port) for name, ports in published.items() for ip, port in ports if ip != "127.0.0.1"}
    # MQTT over TLS, HTTPS for Grafana and the API, and port 80 that only redirects (tests/test_stack_proxy.py)
    assert public == {("mosquitto", 8883), ("proxy", 443), ("proxy", 8443), ("proxy", 80)}
    # nothing else at all, not even on 127.0.0.1 (InfluxDB: docker compose exec influxdb influx …)
    assert {(name, port) for name, ports in published.items() for _, port in ports} == public


@pytest.mark.parametrize("name", _wastewatch_services())
def test_every_wastewatch_variable_a_service_is_given_is_read_by_a_settings_class(name: str) -> None:
    # a misspelt or stale variable in docker-compose.yml or an env file would be ignored silently
    given = service_environment(name, dotenv(**real_secrets()), _examples_uncommented(name))
    unknown = sorted(key for key in given if key.startswith("WASTEWATCH_") and key not in known_variables())
    assert unknown == []
