"""The dashboards as committed: no drift from their definitions, stable uids, units and thresholds on
every panel, the one provisioned datasource everywhere, and provisioning YAML that Grafana can load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from grafana.build import OUTPUT_DIR, build, drift
from grafana.panels import DATASOURCE_UID
from launch.cli import main

GRAFANA = Path(__file__).resolve().parents[1] / "grafana"
UIDS = {"operations.json": "ww-operations", "emissions.json": "ww-emissions", "evaluator.json": "ww-evaluator"}


def _boards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(OUTPUT_DIR.glob("*.json"))}


def test_committed_json_equals_a_fresh_build() -> None:
    assert drift() == []


def test_build_command_writes_sorted_deterministic_json(tmp_path: Path, capsys) -> None:
    assert main(["dashboards", "build", "--out", str(tmp_path)]) == 0
    for path in build(tmp_path / "again"):
        assert path.read_text() == (tmp_path / path.name).read_text()
    text = (tmp_path / "operations.json").read_text()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert main(["dashboards", "build", "--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "operations.json").write_text("{}\n")
    assert main(["dashboards", "build", "--check", "--out", str(tmp_path)]) == 1
    assert "operations.json: differs" in capsys.readouterr().err


def test_dashboards_have_stable_uids_and_a_plant_variable() -> None:
    boards = _boards()
    assert {name: b["uid"] for name, b in boards.items()} == UIDS
    for board in boards.values():
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["plant"]["query"] == 'SHOW TAG VALUES FROM "reading" WITH KEY = "plant"'
        assert variables["plant"]["datasource"]["uid"] == DATASOURCE_UID
    assert boards["operations.json"]["refresh"] == "10s"


def test_every_panel_has_a_unit_thresholds_and_the_provisioned_datasource() -> None:
    for name, board in _boards().items():
        for panel in board["panels"]:
            if panel["type"] in ("row", "text"):
                continue
            defaults = panel["fieldConfig"]["defaults"]
            where = f"{name}: {panel['title']}"
            assert defaults.get("unit"), where
            assert defaults["thresholds"]["steps"] and defaults["thresholds"]["steps"][0]["value"] is None, where
            assert panel["datasource"]["uid"] == DATASOURCE_UID, where
            assert panel["targets"] and all(t["rawQuery"] and t["datasource"]["uid"] == DATASOURCE_UID for t in panel["targets"]), where


def test_thresholds_come_from_the_plant_catalogue_and_profiles() -> None:
    ops = {p["title"]: p for p in _boards()["operations.json"]["panels"]}
    secondary = ops["Secondary chamber temperature vs 1000 °C minimum"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    primary = ops["Primary chamber temperature vs 800 °C minimum"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in secondary] == [None, 1000.0] and [s["value"] for s in primary] == [None, 800.0]
    emissions = {p["title"]: p for p in _boards()["emissions.json"]["panels"]}
    dust = emissions["DUST 30min averages — eu-ied-annex-vi"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [(s["value"], s["color"]) for s in dust] == [(None, "green"), (10.0, "orange"), (30.0, "red")]


def test_alert_events_are_annotations_on_every_dashboard() -> None:
    for board in _boards().values():
        queries = [a.get("query", "") for a in board["annotations"]["list"]]
        assert any('FROM "alert_event"' in q and "$timeFilter" in q for q in queries)


def test_datasource_provisioning_is_influxql_with_a_login_from_the_environment() -> None:
    doc = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "influxdb.yaml").read_text())
    (source,) = doc["datasources"]
    assert source["uid"] == DATASOURCE_UID and source["type"] == "influxdb"
    assert source["jsonData"]["version"] == "InfluxQL"
    assert source["url"] == "${WASTEWATCH_GRAFANA_INFLUX_URL}"
    assert source["database"] == "${WASTEWATCH_GRAFANA_INFLUX_DATABASE}"
    assert source["user"] == "${WASTEWATCH_GRAFANA_INFLUX_USER}"
    assert source["secureJsonData"] == {"password": "${WASTEWATCH_GRAFANA_INFLUX_PASSWORD}"}


def test_dashboard_provisioning_loads_the_folder_tree() -> None:
    doc = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "wastewatch.yaml").read_text())
    (provider,) = doc["providers"]
    assert provider["type"] == "file" and "folder" not in provider  # Grafana refuses folder + foldersFromFilesStructure
    assert provider["options"] == {"path": "/var/lib/grafana/dashboards", "foldersFromFilesStructure": True}
    compose = yaml.safe_load((GRAFANA.parent / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert "./grafana/dashboards:/var/lib/grafana/dashboards/wastewatch:ro" in mounts
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in mounts
