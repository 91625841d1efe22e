"""The production stack as files: docker-compose.yml, Dockerfile, .env.example, the InfluxDB init
script, and the settings' refusal of example secrets. (No Docker engine here: the files are checked.)
Each container's secrets: tests/test_stack_secrets.py; the InfluxDB users on the real InfluxDB:
tests/test_stack_influx_users.py; the broker with the shipped configuration: tests/test_stack_broker.py;
the HTTPS proxy on the real nginx: tests/test_stack_proxy.py."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from launch.settings import load_every_settings
from wastewatch.settings import BrokerSettings, SettingsError

ROOT = Path(__file__).resolve().parents[1]
STATEFUL = {  # service -> the container paths whose contents must outlive the container
    "mosquitto": {"/mosquitto/data"}, "influxdb": {"/var/lib/influxdb"},
    "grafana": {"/var/lib/grafana"}, "ingest": {"/var/lib/wastewatch"}, "alerts": {"/var/lib/wastewatch/alerts"},
}
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_image_is_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and re.match(r"^\d+\.\d+", tag), f"{name}: {image} is not pinned to a version"
    from_line = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("FROM"))
    assert re.match(r"FROM python:3\.11\.\d+-slim", from_line)


def test_the_services_the_stack_needs_are_there(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"mosquitto", "influxdb", "grafana", "ingest", "alerts", "api", "simulator"} <= set(services)
    assert services["simulator"]["profiles"] == ["simulator"]
    assert [services[s]["command"][0] for s in ("ingest", "alerts", "api")] == ["ingest", "alerts", "api"]
    assert {services[s]["image"] for s in ("ingest", "alerts", "api", "simulator")} == {"wastewatch:0.1.0"}


def test_every_service_has_a_healthcheck_a_restart_policy_and_waits_for_healthy(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert service["healthcheck"]["test"], name
        assert service["restart"] in ("unless-stopped", "always"), name
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"
            assert dependency in compose["services"]


def test_the_ingest_healthcheck_is_the_stall_check(compose: dict[str, Any]) -> None:
    """The container is unhealthy when messages wait and nothing is written, not merely when /metrics is down
    (`test_ingest_hostile.py` runs `wastewatch ingest --check` against a stalled ingest)."""
    ingest = compose["services"]["ingest"]
    assert ingest["healthcheck"]["test"] == ["CMD", "wastewatch", "ingest", "--check"]
    assert ingest["environment"]["WASTEWATCH_METRICS_PORT"]


def test_all_state_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, paths in STATEFUL.items():
        mounts = dict(reversed(v.split(":")[:2]) for v in compose["services"][name]["volumes"])
        for path in paths:
            assert mounts.get(path) in declared, f"{name}: {path} is not a named volume"
    used = {v.split(":")[0] for s in compose["services"].values() for v in s.get("volumes", [])}
    assert declared <= used


def test_no_secret_is_written_into_the_compose_file(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "change-me" not in text.lower()
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                # a variable from .env, at most behind a fixed user name (Grafana's "user:password" token)
                assert re.fullmatch(r"(wastewatch-[a-z]+:)?\$\{[A-Z0-9_]+:\?[^}]*\}", str(value)), f"{name}: {key}"
            if key == "WASTEWATCH_MQTT_URL":
                assert re.fullmatch(
                    r"mqtt://(wastewatch-[a-z]+:\$\{MQTT_[A-Z]+_PASSWORD:\?[^}]*\}@)?mosquitto:1883", value
                ), name


def test_env_example_names_every_variable_the_compose_file_requires_with_example_secrets() -> None:
    compose_text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", compose_text))
    example = dict(
        line.lstrip("# ").split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
        if re.match(r"^#? ?[A-Z][A-Z0-9_]*=", line)
    )
    assert required <= set(example), required - set(example)
    for key, value in example.items():
        if SECRET_NAME.search(key):
            assert value.startswith("change-me"), key
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    assert "passwd" in (ROOT / "deploy" / "mosquitto" / ".gitignore").read_text().splitlines()


def test_dockerfile_runs_as_a_non_root_user() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    user = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert user and user[-1] not in ("root", "0")
    assert 'ENTRYPOINT ["wastewatch"]' in lines


def test_influxdb_runs_with_authentication_and_the_users_init(compose: dict[str, Any]) -> None:
    influxdb = compose["services"]["influxdb"]
    assert "./deploy/influxdb/init:/docker-entrypoint-initdb.d:ro" in influxdb["volumes"]
    assert influxdb["environment"]["INFLUXDB_HTTP_AUTH_ENABLED"] == "true"
    assert (ROOT / "deploy" / "influxdb" / "init" / "10-wastewatch-users.sh").exists()
    for name in ("ingest", "alerts", "compliance", "reports", "api"):
        environment = compose["services"][name]["environment"]
        assert environment["WASTEWATCH_INFLUX_USERNAME"] == f"wastewatch-{name}"
        assert "WASTEWATCH_INFLUX_TOKEN" not in environment


def test_broker_config_refuses_anonymous_and_uses_the_acl() -> None:
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text().splitlines()
    assert "allow_anonymous false" in conf and "acl_file /mosquitto/config/acl" in conf
    assert "password_file /mosquitto/data/passwd" in conf and "include_dir /mosquitto/tuning" in conf


@pytest.mark.parametrize("variable", ["WASTEWATCH_INFLUX_TOKEN", "WASTEWATCH_ALERTS_WEBHOOK_SECRET", "WASTEWATCH_ALERTS_SMTP_PASSWORD",
                                      "WASTEWATCH_INFLUX_PASSWORD", "WASTEWATCH_MQTT_URL"])
def test_services_refuse_an_example_secret(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("WASTEWATCH_"):
            monkeypatch.delenv(key)
    example = "mqtt://wastewatch-ingest:change-me-mqtt-ingest-password@mosquitto:1883" if variable.endswith("MQTT_URL") else "change-me-please"
    monkeypatch.setenv(variable, example)
    with pytest.raises(SettingsError, match=f"{variable}.*example secret"):
        load_every_settings()
    monkeypatch.setenv("WASTEWATCH_DEMO", "1")
    assert load_every_settings()


def test_a_real_mqtt_password_is_accepted() -> None:
    assert BrokerSettings(url="mqtt://wastewatch-ingest:s3cret-Long-enough@mosquitto:1883").address is not None


def test_no_secret_made_on_the_server_enters_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", "deploy/mosquitto/passwd", "deploy/certs", "deploy/ca", "deploy/env/*.env"} <= set(ignored)
