"""Alerts through the API: list and filter, one alert with its trail; acknowledge, comment and assign
appear in the audit trail under the API key's name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.lifecycle import Lifecycle
from alerts.routing import parse_routes
from alerts.store import AlertStore
from api.roles import Role
from tests.api_support import Api, run_api
from tests.test_alert_lifecycle import MIN, T0, cleared, raised
from wastewatch.plant import PlantCatalog
from wastewatch.store.sqlite import SqliteStore


@pytest.fixture
def api(catalog: PlantCatalog, tmp_path: Path) -> Iterator[Api]:
    store = SqliteStore(tmp_path / "ts.sqlite3")
    for served in run_api(store, catalog, tmp_path):
        lifecycle = Lifecycle(served.ctx.alert_db, parse_routes("operators=log", ["regulatory"], ["log"]), [], catalog)
        with served.ctx.alert_db.transaction():
            lifecycle.apply(raised(T0))  # 1: critical, active
            lifecycle.apply(raised(T0 + MIN, rule="scrubber_ph_low", subject="scrubber_ph", severity="warning", value=5.0))  # 2
            lifecycle.apply(cleared(T0 + 2 * MIN, T0 + MIN, rule="scrubber_ph_low", subject="scrubber_ph", severity="warning"))
        yield served
    store.close()


def test_list_and_filter(api: Api) -> None:
    everything = api.get("/api/v1/alerts", role=Role.AGENCY).json()["alerts"]
    assert [a["id"] for a in everything] == [2, 1]
    assert everything[1]["status"] == "ACTIVE_UNACK" and everything[1]["severity"] == "critical"
    assert [a["id"] for a in api.get("/api/v1/alerts?active=true").json()["alerts"]] == [1]
    assert [a["id"] for a in api.get("/api/v1/alerts?severity=warning").json()["alerts"]] == [2]
    assert [a["id"] for a in api.get("/api/v1/alerts?rule_id=t_secondary_low&plant=kotim").json()["alerts"]] == [1]
    assert api.get("/api/v1/alerts?since=2030-01-01T00:00:00Z").json()["alerts"] == []
    assert [a["id"] for a in api.get("/api/v1/alerts?limit=1&offset=1").json()["alerts"]] == [1]
    assert api.get("/api/v1/alerts?plant=elsewhere").status_code == 404
    assert api.get("/api/v1/alerts?severity=huge").status_code == 422
    csv_text = api.get("/api/v1/alerts?format=csv").text
    assert csv_text.splitlines()[0].startswith("id,plant,rule_id") and len(csv_text.splitlines()) == 3


def test_ack_comment_assign_are_in_the_trail_with_the_key_name(api: Api) -> None:
    operator = api.auth(Role.OPERATOR)
    assigned = api.client.put("/api/v1/alerts/1/assignee", headers=operator, json={"assignee": "budi"})
    assert assigned.status_code == 200 and assigned.json()["alert"]["assignee"] == "budi"
    commented = api.client.post("/api/v1/alerts/1/comments", headers=operator, json={"text": "technician called"})
    assert commented.status_code == 201
    acked = api.client.post("/api/v1/alerts/1/ack", headers=api.auth(Role.ADMIN), json={"comment": "burner relit"})
    assert acked.status_code == 200 and acked.json()["alert"]["status"] == "ACTIVE_ACK"
    assert acked.json()["alert"]["ack_by"] == "admin-key"
    again = api.client.post("/api/v1/alerts/1/ack", headers=operator, json={})
    assert again.status_code == 409 and "acknowledged by admin-key already" in again.json()["detail"]
    detail = api.get("/api/v1/alerts/1", role=Role.AGENCY).json()
    trail = [(t["kind"], t["actor"], t["comment"]) for t in detail["trail"]]
    assert trail == [
        ("raised", "system", None), ("assigned", "operator-key", None),
        ("commented", "operator-key", "technician called"), ("acknowledged", "admin-key", "burner relit"),
    ]
    assert detail["trail"][1]["detail"] == {"assignee": "budi"}
    # the same trail the CLI reads
    assert [t.actor for t in AlertStore(api.ctx.alert_db).transitions(1)][1:] == ["operator-key", "operator-key", "admin-key"]
    unassigned = api.client.put("/api/v1/alerts/1/assignee", headers=operator, json={"assignee": None})
    assert unassigned.json()["alert"]["assignee"] is None


def test_agency_reads_but_cannot_act_and_unknown_alerts_are_404(api: Api) -> None:
    assert api.client.post("/api/v1/alerts/1/ack", headers=api.auth(Role.AGENCY), json={}).status_code == 403
    assert api.get("/api/v1/alerts/99").status_code == 404
    missing = api.client.post("/api/v1/alerts/99/comments", headers=api.auth(Role.OPERATOR), json={"text": "x"})
    assert missing.status_code == 404 and missing.json()["detail"] == "no alert 99"
    empty = api.client.post("/api/v1/alerts/1/comments", headers=api.auth(Role.OPERATOR), json={"text": ""})
    assert empty.status_code == 422 and "body parameter text" in empty.json()["detail"]
    assert api.client.post("/api/v1/alerts/1/comments", headers=api.auth(Role.OPERATOR), content=b"{").status_code == 422


def test_severity_filter_is_the_alerts_own_severities(api: Api) -> None:
    from typing import get_args

    from alerts.events import Severity

    for severity in get_args(Severity):
        assert api.get(f"/api/v1/alerts?severity={severity}").status_code == 200, severity
    assert [a["id"] for a in api.get("/api/v1/alerts?severity=critical").json()["alerts"]] == [1]
    assert api.get("/api/v1/alerts?severity=major").json()["alerts"] == []
    refused = api.get("/api/v1/alerts?severity=info")
    assert refused.status_code == 422 and "query parameter severity" in refused.json()["detail"]


@pytest.mark.parametrize("param", ["since", "until"])
@pytest.mark.parametrize("value", ["-999999w", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_extreme_since_and_until_are_a_422_with_a_message(api: Api, param: str, value: str) -> None:
    response = api.get("/api/v1/alerts", params={param: value})
    assert response.status_code == 422, response.text
    assert "outside 1970-2200" in response.json()["detail"]
