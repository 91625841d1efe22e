"""One fault, one alert (issue 17, finding 3): a rule's `suppressed_by` roots make its alert a
consequence that is never sent. Pure, through the rule book, then the shipped rules on simulated faults."""

from __future__ import annotations

from typing import Any

import pytest

from alerts import AlertEvent, OperatingState, PlantState, Rule, RuleBook, bundled_rules_path, load_rules
from alerts.rule_state import RuleState
from alerts.templates import TITLES_ID
from tests.replay import Day, replayer
from tests.test_alert_worker import morning_start_ms
from wastewatch.plant import PlantCatalog
from wastewatch.records import Reading

T0 = 1_764_280_800_000


def rule(rule_id: str, sensor: str, **extra: Any) -> Rule:
    return Rule.model_validate({
        "id": rule_id, "plant": "kotim", "sensors": [sensor], "condition": {"kind": "threshold", "op": "<", "value": 0.5},
        "severity": "critical", "category": "process", "source": "test", "message": {"raised": "r", "cleared": "c"}, **extra,
    })


class Book:
    def __init__(self, *rules: Rule) -> None:
        self.book = RuleBook(rules)
        self.states: dict[str, RuleState] = self.book.initial_states()
        self.book.advance(self.states, PlantState(plant="kotim", operating=OperatingState.BURNING, since_ms=T0), T0, set())

    def read(self, seconds: float, **values: float) -> list[tuple[str, str]]:
        events: list[AlertEvent] = []
        for sensor, value in values.items():
            at_ms = T0 + round(seconds * 1000)
            events += self.book.advance(self.states, Reading("kotim", sensor, at_ms, value), at_ms, set())
        return [(e.kind, e.rule_id) for e in events]


def test_an_alert_raised_while_its_root_is_active_is_never_sent_until_it_clears() -> None:
    book = Book(rule("fan", "id_fan", settle_s=600), rule("draft", "draft_ok", suppressed_by=["fan"]))
    assert book.read(0, id_fan=0) == [("raised", "fan")]
    assert book.read(10, draft_ok=0) == []  # a consequence
    assert book.states["kotim/draft/draft_ok"].suppressed
    assert book.read(20, id_fan=1) == [("cleared", "fan")]
    assert book.read(30, draft_ok=1) == []  # its clear is not sent either
    assert book.read(40, draft_ok=0) == []  # within the root's settle time: still its consequence
    assert book.read(50, draft_ok=1) == []
    assert book.read(700, draft_ok=0) == [("raised", "draft")]  # a fault of its own


def test_an_alert_raised_before_its_root_is_sent_and_roots_may_name_each_other() -> None:
    book = Book(rule("primary", "t_primary", suppressed_by=["secondary"]), rule("secondary", "t_secondary", suppressed_by=["primary"]))
    assert book.read(0, t_secondary=0) == [("raised", "secondary")]
    assert book.read(10, t_primary=0) == []
    assert book.read(20, t_secondary=1, t_primary=1) == [("cleared", "secondary")]
    both = Book(rule("primary", "x", suppressed_by=["secondary"]), rule("secondary", "x", suppressed_by=["primary"]))
    assert both.read(0, x=0) == [("raised", "primary")]  # the same reading raises both: the first in rule order is sent


FAULTS = {
    # fault: the rules whose alerts are sent, for a fault 5 h after the 05:00 pre-heat
    "id_fan_failure@+5h/15m": ["id_fan_stopped"],
    "burner_trip@+5h/20m": ["t_secondary_falling", "t_secondary_low"],
    "burner_trip@+5h/45m,burner=both": ["t_secondary_falling", "t_secondary_low"],
    "network_outage@+5h/2h": ["plant_no_data"],
    "overcharge@+5h/30m": ["charge_rate"],
    "thermocouple_open@+5h/15m,sensor=t_primary": ["thermocouple_open"],
    "flatline@+5h/20m,sensor=t_primary": ["flatline"],
    "scrubber_failure@+5h/1h": ["scrubber_ph_low"],
}


def replay_alerts(catalog: PlantCatalog, faults: list[str], seed: int = 11, hours: float = 9) -> list[AlertEvent]:
    """`hours` from 05:00 (pre-heat) three days ago through the engine as the worker runs it
    (`tests.replay`: the fault-free run shared by the tests, each faulted one resumed at its fault)."""
    return replayer(catalog).replay(Day(seed, morning_start_ms(3), hours * 3600), faults)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_one_fault_raises_its_root_alert_and_no_consequence(fault: str, catalog: PlantCatalog) -> None:
    events = replay_alerts(catalog, [fault])
    assert sorted(e.rule_id for e in events if e.kind == "raised") == sorted(FAULTS[fault])
    assert sum(1 for e in events if e.kind == "raised" and e.severity == "critical") <= 1  # the agency: at most one


def test_over_charging_advice_never_follows_a_stopped_fan(catalog: PlantCatalog) -> None:
    events = replay_alerts(catalog, ["id_fan_failure@+5h/15m", "id_fan_failure@+7h/30m"])
    assert not [e for e in events if e.rule_id in ("overcharging", "t_secondary_falling", "draft_positive")]


def test_every_shipped_rule_has_an_indonesian_title(catalog: PlantCatalog) -> None:
    ruleset = load_rules(bundled_rules_path("kotim"), catalog.get("kotim"))
    assert [r.id for r in ruleset.rules if r.id not in TITLES_ID] == []
