"""`wastewatch alerts list|show|ack|comment|assign` against a real alert database."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from alerts import bundled_rules_path, load_rules
from alerts.cli import add_arguments
from alerts.lifecycle import Lifecycle
from alerts.routing import parse_routes
from alerts.schema import open_database
from alerts.store import AlertStore
from tests.test_alert_lifecycle import T0, alert_db_url, raised
from wastewatch.plant import PlantCatalog
from wastewatch.settings import Settings


def run(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wastewatch")
    add_arguments(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["alerts", *argv])
    return int(args.func(args, settings))


@pytest.fixture
def settings(tmp_path: Path, catalog: PlantCatalog, alert_db_url: str) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", alerts_db_url=alert_db_url)  # type: ignore[call-arg]
    db = open_database(settings)
    rules = load_rules(bundled_rules_path("kotim"), catalog.get("kotim")).rules
    lifecycle = Lifecycle(db, parse_routes("operators=log", ["regulatory"], ["log"]), rules, catalog)
    with db.transaction():
        lifecycle.apply(raised(T0))
    db.close()
    return settings


def test_list_ack_comment_assign_and_show(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(settings, "list") == 0
    assert "#1 ACTIVE_UNACK  critical kotim/t_secondary_low/t_secondary" in capsys.readouterr().out
    assert run(settings, "assign", "1", "budi", "--by", "supervisor") == 0
    assert run(settings, "comment", "1", "technician called", "--by", "budi") == 0
    assert run(settings, "ack", "1", "--by", "budi", "--comment", "on it") == 0
    assert "acknowledged: #1 ACTIVE_ACK" in capsys.readouterr().out.splitlines()[-1]
    assert run(settings, "ack", "1", "--by", "siti") == 1
    assert "acknowledged by budi already" in capsys.readouterr().out
    assert run(settings, "list", "--json") == 0
    (line,) = capsys.readouterr().out.splitlines()
    document = json.loads(line)
    assert (document["status"], document["ack_by"], document["ack_comment"], document["assignee"]) == (
        "ACTIVE_ACK", "budi", "on it", "budi")
    assert run(settings, "show", "1") == 0
    shown = capsys.readouterr().out
    assert "assigned     by supervisor" in shown and "commented    by budi: technician called" in shown
    assert "notification raised    operators  log" in shown
    db = open_database(settings)
    assert [t.kind for t in AlertStore(db).transitions(1)] == ["raised", "assigned", "commented", "acknowledged"]
    db.close()


def test_an_unknown_alert_is_an_error_not_a_traceback(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(settings, "ack", "99") == 1
    assert "no alert 99" in capsys.readouterr().out
    assert run(settings, "show", "99") == 1
