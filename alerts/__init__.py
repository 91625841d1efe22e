"""Alert worker core: rules as data, the plant's operating state, and pure rule evaluation.

`load_rules` reads a plant's rule set. `alerts.evaluate.evaluate(rule, state, observation, now_ms)`
advances one (rule, subject) and returns the alert events (past facts) it caused; it is not
re-exported here, where its name would shadow its module. `RuleBook` routes each observation to
every rule it concerns. `next_state` derives the plant's operating state from its signals;
`seed_state` places a plant the worker starts watching mid-operation.
"""

from alerts.conditions import CONDITION_KINDS, Condition
from alerts.dispatch import RuleBook
from alerts.evaluate import concerns, initial_state
from alerts.events import AlertCleared, AlertEvent, AlertRaised, AlertUpdated, Category, Severity
from alerts.observations import Observation, Tick
from alerts.plant_state import (
    OperatingState,
    PlantSignals,
    PlantState,
    PlantStateConfig,
    PlantStateTransition,
    next_state,
    observe_signal,
    seed_state,
    settle,
)
from alerts.rule_state import RuleState, alert_key
from alerts.rules import Rule, RuleConfigError, RuleSet, bundled_rules_path, load_rules

__all__ = [
    "CONDITION_KINDS",
    "AlertCleared",
    "AlertEvent",
    "AlertRaised",
    "AlertUpdated",
    "Category",
    "Condition",
    "Observation",
    "OperatingState",
    "PlantSignals",
    "PlantState",
    "PlantStateConfig",
    "PlantStateTransition",
    "Rule",
    "RuleBook",
    "RuleConfigError",
    "RuleSet",
    "RuleState",
    "Severity",
    "Tick",
    "alert_key",
    "bundled_rules_path",
    "concerns",
    "initial_state",
    "load_rules",
    "next_state",
    "observe_signal",
    "seed_state",
    "settle",
]
