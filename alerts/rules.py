"""Alert rules as data: one YAML rule set per plant, validated at load; errors name the rule and field.

    plant: kotim
    plant_state: {secondary_min_c: 1000, hold_s: 900}     # alerts.plant_state.PlantStateConfig
    rules:
      - id: t_secondary_low
        sensors: [t_secondary]                # one alert per sensor; or `subject:` for a rule-wide alert
        condition: {kind: threshold, op: "<", value: 1000, recovery_value: 1010}
        states: [burning, burnout]            # applies only in these plant states (default: always)
        outside_states: clear                 # leaving them clears an active alert (hold: keep it until recovery)
        suppressed_by: [id_fan_stopped]       # raised while one of these is active: a consequence, never sent
        settle_s: 900                         # as a root: what it suppresses stays so this long after it clears
        tolerance_s: 60                       # to raise, and (unless recovery_tolerance_s) to clear
        severity: critical                    # critical | major | minor | warning
        category: process                     # process | safety | data_quality | regulatory | interlock
        source: "P.56/2015 Ps.22(1)c"         # required
        status: C                             # domain.md tag of the numbers: C, C-pred, D, U, A
        message: {raised: "...{value}...", cleared: "..."}
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alerts.conditions import BATCH_KINDS, CONDITION_KINDS, Condition, Leaf, NoData, Repeating, leaf_sensors, walk
from alerts.events import Category, Severity
from alerts.messages import MessageTemplates
from alerts.plant_state import OperatingState, PlantStateConfig
from wastewatch.errors import ConfigError
from wastewatch.plant import PlantConfig
from wastewatch.topics import ID_PATTERN

StatusTag = Literal["C", "C-pred", "D", "U", "A"]
RULESETS_DIR = Path(__file__).parent / "rulesets"


class Rule(BaseModel):
    """One alert rule: what to watch, when it applies, how long it must hold, and who says so."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    plant: str = Field(pattern=ID_PATTERN)
    title: str = ""
    sensors: list[str] = Field(default_factory=list)
    subject: str | None = Field(default=None, pattern=ID_PATTERN)
    condition: Condition
    states: list[OperatingState] | None = Field(default=None, min_length=1)
    outside_states: Literal["clear", "hold"] = Field(
        default="clear", description="clear: leaving `states` clears an active alert; hold: it stays until recovery"
    )
    suppressed_by: list[str] = Field(
        default_factory=list,
        description="rules of the same plant whose active alert is this one's root cause: raised meanwhile, it is not sent",
    )
    settle_s: float = Field(
        default=0.0, ge=0, description="as a root: the rules it suppresses stay suppressed this long after it clears"
    )
    tolerance_s: float = Field(default=0.0, ge=0)
    recovery_tolerance_s: float | None = Field(default=None, ge=0)
    severity: Severity
    category: Category
    source: str = Field(min_length=1)
    status: StatusTag | None = None
    message: MessageTemplates

    @model_validator(mode="after")
    def _leaves_have_sensors(self) -> Rule:
        if len(set(self.sensors)) != len(self.sensors):
            raise ValueError("sensors: a sensor is listed twice")
        if self.sensors and self.subject is not None:
            raise ValueError("subject: only for rules without sensors (each sensor is its own subject)")
        for path, leaf in walk(self.condition):
            if isinstance(leaf, BATCH_KINDS) or self.sensors:
                continue
            if isinstance(leaf, NoData) and (leaf.device or leaf.sensors):
                continue
            if leaf.sensor is None:
                raise ValueError(f"{field_path(path)}.sensor: required when the rule lists no sensors")
        return self

    @property
    def recovery_s(self) -> float:
        return self.tolerance_s if self.recovery_tolerance_s is None else self.recovery_tolerance_s

    def subjects(self) -> list[str]:
        """Who an alert of this rule is about: each sensor, or one rule-wide subject."""
        if self.sensors:
            return list(self.sensors)
        if self.subject:
            return [self.subject]
        if isinstance(self.condition, NoData) and self.condition.device:
            return [self.condition.device]
        return ["plant"]

    def applies_in(self, plant_state: OperatingState | None) -> bool:
        """Whether the rule applies in this plant state (a rule with `states` never in an unknown one)."""
        return self.states is None or plant_state in self.states

    def bound_sensor(self, subject: str) -> str | None:
        """The sensor a leaf without `sensor` reads for this subject."""
        return subject if subject in self.sensors else None

    @cached_property
    def leaves(self) -> tuple[tuple[str, Leaf], ...]:
        """The condition's leaves with their paths (computed once; rules are frozen)."""
        return tuple(walk(self.condition))

    @cached_property
    def watched_sensors(self) -> dict[str, frozenset[str]]:
        """Per subject, every sensor whose readings can change the rule's state."""
        return {
            subject: frozenset(s for _, leaf in self.leaves for s in leaf_sensors(leaf, self.bound_sensor(subject)))
            for subject in self.subjects()
        }

    @cached_property
    def time_dependent(self) -> bool:
        """Whether time passing alone can change a leaf (silence, crossings leaving the window)."""
        return any(isinstance(leaf, (NoData, Repeating)) for _, leaf in self.leaves)


class RuleSet(BaseModel):
    """The rules of one plant and the thresholds of its state machine."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plant: str = Field(pattern=ID_PATTERN)
    plant_state: PlantStateConfig = Field(default_factory=lambda: PlantStateConfig())
    rules: list[Rule]

    @model_validator(mode="before")
    @classmethod
    def _rules_default_to_file_plant(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and isinstance(raw.get("rules"), list):
            plant = raw.get("plant")
            rules = [{"plant": plant, **r} if isinstance(r, dict) and isinstance(plant, str) else r for r in raw["rules"]]
            return {**raw, "rules": rules}
        return raw

    @model_validator(mode="after")
    def _one_plant_unique_ids(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.plant != self.plant:
                raise ValueError(f"rule {rule.id}: plant: {rule.plant!r} is not this file's plant {self.plant!r}")
            if rule.id in seen:
                raise ValueError(f"rule {rule.id}: id: defined twice")
            seen.add(rule.id)
        for rule in self.rules:
            for root in rule.suppressed_by:
                if root == rule.id or root not in seen:
                    raise ValueError(f"rule {rule.id}: suppressed_by: {root!r} is not another rule of this file")
        return self

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


class RuleConfigError(ConfigError):
    """A rule file is missing or invalid; each line of the message names the rule and the field."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


def load_rules(path: Path, plant: PlantConfig | None = None) -> RuleSet:
    """Load and validate a rule file; with `plant`, also check every sensor and device it names."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleConfigError(f"{path}: {exc}", [str(exc)]) from exc
    try:
        ruleset = RuleSet.model_validate(raw)
    except ValidationError as exc:
        problems = [describe_error(e, raw) for e in exc.errors()]
        raise RuleConfigError(f"{path}: " + f"\n{path}: ".join(problems), problems) from exc
    problems = unknown_references(ruleset, plant) if plant is not None else []
    if problems:
        raise RuleConfigError(f"{path}: " + f"\n{path}: ".join(problems), problems)
    return ruleset


def field_path(path: str) -> str:
    """A condition path ("c.1.0") as its field in the rule file ("condition.conditions.1.conditions.0")."""
    return "condition" + "".join(f".conditions.{index}" for index in path.split(".")[1:])


def bundled_rules_path(plant_id: str = "kotim") -> Path:
    """A rule set shipped with the package (alerts/rulesets/<plant>.yaml)."""
    return RULESETS_DIR / f"{plant_id}.yaml"


def unknown_references(ruleset: RuleSet, plant: PlantConfig) -> list[str]:
    """A problem line for each sensor or device a rule names that the plant does not have."""
    if ruleset.plant != plant.id:
        return [f"plant: rules are for {ruleset.plant!r}, not {plant.id!r}"]
    problems = []
    for rule in ruleset.rules:
        named = set(rule.sensors)
        for _, leaf in walk(rule.condition):
            named.update(leaf_sensors(leaf, None))
            if isinstance(leaf, NoData) and leaf.device and leaf.device not in plant.devices:
                problems.append(f"rule {rule.id}: condition.device: unknown device {leaf.device!r} (plant {plant.id})")
        for sensor in sorted(s for s in named if plant.sensor(s) is None):
            problems.append(f"rule {rule.id}: sensors: unknown sensor {sensor!r} (plant {plant.id})")
    return problems


_FIELD_FIRST = re.compile(r"^([a-z_][a-z0-9_.]*): (.+)$", re.DOTALL)


def describe_error(error: Any, raw: Any) -> str:
    """One pydantic error as "rule <id>: <field>: <problem>"."""
    loc = list(error["loc"])
    prefix = ""
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        prefix = f"rule {_rule_id(raw, loc[1])}: "
        loc = loc[2:]
    where = ".".join(str(p) for p in loc if p not in CONDITION_KINDS)
    problem = _problem(error)
    nested = _FIELD_FIRST.match(problem)
    if nested:
        where = f"{where}.{nested.group(1)}" if where else nested.group(1)
        problem = nested.group(2)
    return f"{prefix}{where}: {problem}" if where else f"{prefix}{problem}"


def _rule_id(raw: Any, index: int) -> str:
    try:
        rule_id = raw["rules"][index]["id"]
    except (KeyError, IndexError, TypeError):
        rule_id = None
    return str(rule_id) if isinstance(rule_id, str) else f"#{index + 1}"


def _problem(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
    if kind in bounds:
        return f"must be {bounds[kind]} {next(iter(ctx.values()))}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    simple = {
        "missing": "required",
        "extra_forbidden": "unknown field",
        "union_tag_not_found": f"kind: required, one of {', '.join(CONDITION_KINDS)}",
        "too_short": "must not be empty",
        "string_too_short": "must not be empty",
        "string_type": "must be a string",
        "list_type": "must be a list",
        "dict_type": "must be a mapping",
        "model_type": "must be a mapping",
        "float_parsing": "must be a number",
        "int_parsing": "must be an integer",
        "bool_parsing": "must be true or false",
    }
    if kind in simple:
        return simple[kind]
    if kind in ("literal_error", "enum"):
        return f"must be one of {ctx.get('expected')}"
    if kind == "union_tag_invalid":
        return f"kind: unknown kind {ctx.get('tag')!r}, expected one of {', '.join(CONDITION_KINDS)}"
    if kind == "string_pattern_mismatch":
        return f"must be a lower-case id matching {ctx.get('pattern')}"
    return str(error["msg"])
