"""The reads of the alerts table in `alerts.queries` (the API's listing, the alert-response and
downtime summaries) on both alert database backends, SQLite and PostgreSQL."""

from __future__ import annotations

from alerts import actions
from alerts.lifecycle import Lifecycle
from alerts.queries import AlertFilter, open_rows, raised_rows
from tests.test_alert_lifecycle import MIN, T0, alert_db_url, apply, cleared, db, lifecycle, raised


def _three_alerts(lifecycle: Lifecycle) -> None:
    """1: critical process, acknowledged, open; 2: warning, cleared; 3: major regulatory, open."""
    apply(lifecycle, raised(T0))
    apply(lifecycle, raised(T0 + MIN, rule="scrubber_ph_low", subject="scrubber_ph", severity="warning", value=5.0))
    apply(lifecycle, cleared(T0 + 2 * MIN, T0 + MIN, rule="scrubber_ph_low", subject="scrubber_ph", severity="warning"))
    apply(lifecycle, raised(T0 + 3 * MIN, rule="co_a100", subject="co", severity="major", category="regulatory"))
    actions.acknowledge(lifecycle.db, 1, "budi", now_ms=T0 + 4 * MIN)


def test_find_filters_pages_and_scopes_newest_first(lifecycle: Lifecycle) -> None:
    _three_alerts(lifecycle)
    store = lifecycle.alerts

    def ids(**filters: object) -> list[int]:
        return [a.id for a in store.find(AlertFilter(**filters))]  # type: ignore[arg-type]

    assert ids() == [3, 2, 1]
    assert ids(active=True) == [3, 1] and ids(active=False) == [2]
    assert ids(acknowledged=True) == [1] and ids(acknowledged=False, active=True) == [3]
    assert ids(severity="warning") == [2] and ids(category="regulatory") == [3] and ids(rule_id="t_secondary_low") == [1]
    assert ids(since_ms=T0 + MIN) == [3, 2] and ids(until_ms=T0 + MIN) == [1]
    assert ids(limit=1, offset=1) == [2]
    assert ids(plants=()) == [] and ids(plants=("kotim",)) == [3, 2, 1] and ids(plant="elsewhere") == []
    # the CLI's listing is the same query
    assert [a.id for a in store.list_alerts(active_only=True, plant="kotim")] == [3, 1]
    assert [a.id for a in store.list_alerts(plant="", limit=2)] == [3, 2]


def test_summary_reads_pick_the_alerts_they_count(lifecycle: Lifecycle) -> None:
    _three_alerts(lifecycle)
    db = lifecycle.db
    # alert response: critical or of the categories, raised in the range, oldest first
    rows = raised_rows(db, "kotim", T0, T0 + 10 * MIN, {"regulatory"})
    assert [(r["id"], r["ack_by"], r["ack_at_ms"]) for r in rows] == [(1, "budi", T0 + 4 * MIN), (3, None, None)]
    assert [r["id"] for r in raised_rows(db, "kotim", T0, T0 + 10 * MIN, ())] == [1]
    assert raised_rows(db, "kotim", T0 + MIN, T0 + 10 * MIN, ()) == []
    # downtime causes: of the severities, open at some time in the range
    assert sorted(r["id"] for r in open_rows(db, "kotim", ("critical", "major"), T0 + 5 * MIN, T0 + 6 * MIN)) == [1, 3]
    assert [r["id"] for r in open_rows(db, "kotim", ("critical",), T0 - MIN, T0)] == []
    assert [r["id"] for r in open_rows(db, "kotim", ("warning",), T0 + 2 * MIN, T0 + 3 * MIN)] == []
    assert [r["id"] for r in open_rows(db, "kotim", ("warning",), T0 + MIN, T0 + 3 * MIN)] == [2]
