"""Rule files: the shipped Kotim rules load, and every load error names the rule and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.conditions import AnyOf, ChargeRate, FeedInterlock, NoData, Threshold, leaf_sensors
from alerts.messages import MessageTemplates, render
from alerts.rules import Rule, RuleConfigError, RuleSet, bundled_rules_path, load_rules
from wastewatch.compliance.profiles import load_bundled_profiles
from wastewatch.plant import PlantCatalog


def a_rule(**overrides: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": "t_secondary_low",
        "sensors": ["t_secondary"],
        "condition": {"kind": "threshold", "op": "<", "value": 1000},
        "tolerance_s": 60,
        "severity": "critical",
        "category": "process",
        "source": "P.56/2015 Ps.22(1)c",
        "message": {"raised": "{subject} at {value:.0f}"},
    }
    rule.update(overrides)
    return rule


def write(tmp_path: Path, *rules: dict[str, Any], **top: Any) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"plant": "kotim", **top, "rules": list(rules)}), encoding="utf-8")
    return path


def load_error(tmp_path: Path, *rules: dict[str, Any], catalog: PlantCatalog | None = None, **top: Any) -> str:
    path = write(tmp_path, *rules, **top)
    with pytest.raises(RuleConfigError) as caught:
        load_rules(path, catalog.get("kotim") if catalog else None)
    return str(caught.value)


def test_shipped_kotim_rules_load_against_the_kotim_plant(catalog: PlantCatalog) -> None:
    ruleset = load_rules(bundled_rules_path("kotim"), catalog.get("kotim"))
    assert ruleset.plant == "kotim"
    ids = {r.id for r in ruleset.rules}
    assert {
        "t_primary_low", "t_secondary_low", "feed_interlock", "t_secondary_falling", "draft_positive",
        "id_fan_stopped", "scrubber_ph_low", "thermocouple_open", "flatline", "cems_no_data", "overcharging",
        "charge_rate", "plant_no_data",
    } <= ids
    assert all(r.plant == "kotim" and r.source for r in ruleset.rules)
    assert ruleset.plant_state.secondary_min_c == 1000 and ruleset.plant_state.hold_s == 900


def test_shipped_numbers_match_the_domain_reference(catalog: PlantCatalog) -> None:
    ruleset = load_rules(bundled_rules_path("kotim"), catalog.get("kotim"))
    secondary = ruleset.rule("t_secondary_low")
    assert secondary is not None and secondary.status == "C" and "Ps.22(1)c" in secondary.source
    assert secondary.condition.kind == "threshold" and secondary.condition.value == 1000
    ph = ruleset.rule("scrubber_ph_low")
    assert ph is not None and ph.status == "U"  # the pH minimum is configuration until the permit is read
    interlock = ruleset.rule("feed_interlock")
    assert interlock is not None and isinstance(interlock.condition, FeedInterlock)
    assert (interlock.condition.secondary_min_c, interlock.condition.primary_min_c, interlock.condition.hold_s) == (1000, 800, 900)
    thermocouple = ruleset.rule("thermocouple_open")
    assert thermocouple is not None and isinstance(thermocouple.condition, AnyOf)
    cems = ruleset.rule("cems_no_data")
    assert cems is not None and isinstance(cems.condition, NoData) and cems.subjects() == ["cems"]


def test_a_minimal_rule_file_loads_and_rules_take_the_file_plant(tmp_path: Path) -> None:
    ruleset = load_rules(write(tmp_path, a_rule()))
    rule = ruleset.rules[0]
    assert rule.plant == "kotim" and rule.subjects() == ["t_secondary"]
    assert rule.recovery_s == 60  # the tolerance applies in both directions unless told otherwise


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"tolerance_s": -5}, "rule t_secondary_low: tolerance_s: must be >= 0"),
        ({"recovery_tolerance_s": -1}, "rule t_secondary_low: recovery_tolerance_s: must be >= 0"),
        ({"source": ""}, "rule t_secondary_low: source: must not be empty"),
        ({"severity": "fatal"}, "rule t_secondary_low: severity: must be one of"),
        ({"category": "misc"}, "rule t_secondary_low: category: must be one of"),
        ({"states": ["warm"]}, "rule t_secondary_low: states.0: must be one of"),
        ({"tolerence_s": 5}, "rule t_secondary_low: tolerence_s: unknown field"),
        ({"condition": {"kind": "threshold", "op": "=", "value": 1}}, "rule t_secondary_low: condition.op: must be one of"),
        ({"condition": {"kind": "threshold", "op": "<"}}, "rule t_secondary_low: condition.value: required"),
        ({"condition": {"kind": "treshold", "op": "<", "value": 1}}, "rule t_secondary_low: condition.kind: unknown kind 'treshold'"),
        (
            {"condition": {"kind": "threshold", "op": "<", "value": 1000, "recovery_value": 990}},
            "rule t_secondary_low: condition.recovery_value: must be >= value (1000) for op '<'",
        ),
        (
            {"condition": {"kind": "flatline", "window_samples": 10, "window_s": 60}},
            "rule t_secondary_low: condition.window_samples: give exactly one of window_samples or window_s",
        ),
        ({"condition": {"kind": "rate_of_change", "max_rate_per_s": 0}}, "rule t_secondary_low: condition.max_rate_per_s: must be > 0"),
        (
            {"condition": {"kind": "all", "conditions": [{"kind": "repeating", "op": ">", "value": 0, "count": 1, "window_s": 60}]}},
            "rule t_secondary_low: condition.conditions.0.count: must be >= 2",
        ),
        ({"message": {"raised": "{sensor} low"}}, "rule t_secondary_low: message.raised: unknown placeholder {sensor}"),
        ({"message": {"raised": "{detail:.1f}"}}, "rule t_secondary_low: message.raised: cannot fill template"),
        ({"message": {}}, "rule t_secondary_low: message.raised: required"),
        ({"condition": {"op": "<", "value": 1}}, "rule t_secondary_low: condition.kind: required, one of threshold"),
        ({"sensors": "t_secondary"}, "rule t_secondary_low: sensors: must be a list"),
    ],
)
def test_validation_errors_name_the_rule_and_the_field(tmp_path: Path, overrides: dict[str, Any], expected: str) -> None:
    assert expected in load_error(tmp_path, a_rule(**overrides))


def test_a_missing_source_is_refused(tmp_path: Path) -> None:
    rule = a_rule()
    del rule["source"]
    assert "rule t_secondary_low: source: required" in load_error(tmp_path, rule)


def test_a_leaf_without_sensor_needs_the_rule_to_list_sensors(tmp_path: Path) -> None:
    rule = a_rule(sensors=[], condition={"kind": "all", "conditions": [
        {"kind": "threshold", "sensor": "o2", "op": "<", "value": 6},
        {"kind": "threshold", "op": ">", "value": 100},
    ]})
    assert "rule t_secondary_low: condition.conditions.1.sensor: required when the rule lists no sensors" in load_error(tmp_path, rule)


def test_every_problem_is_reported_and_rules_without_id_are_numbered(tmp_path: Path) -> None:
    nameless = a_rule(tolerance_s=-1)
    del nameless["id"]
    message = load_error(tmp_path, a_rule(severity="fatal"), nameless)
    assert "rule t_secondary_low: severity" in message
    assert "rule #2: id: required" in message
    assert "rule #2: tolerance_s: must be >= 0" in message


def test_duplicate_ids_and_a_foreign_plant_are_refused(tmp_path: Path) -> None:
    assert "rule t_secondary_low: id: defined twice" in load_error(tmp_path, a_rule(), a_rule())
    assert "rule t_secondary_low: plant: 'other' is not this file's plant 'kotim'" in load_error(tmp_path, a_rule(plant="other"))


def test_unknown_sensors_and_devices_are_refused_against_the_plant(tmp_path: Path, catalog: PlantCatalog) -> None:
    typo = a_rule(sensors=["t_secundary"])
    silent = a_rule(id="scada_silent", sensors=[], condition={"kind": "no_data", "device": "scada", "max_silence_s": 60})
    message = load_error(tmp_path, typo, silent, catalog=catalog)
    assert "rule t_secondary_low: sensors: unknown sensor 't_secundary' (plant kotim)" in message
    assert "rule scada_silent: condition.device: unknown device 'scada' (plant kotim)" in message


def test_an_unreadable_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(RuleConfigError, match="broken.yaml"):
        load_rules(path)
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text(yaml.safe_dump({"rules": [a_rule()]}), encoding="utf-8")
    with pytest.raises(RuleConfigError, match="nameless.yaml: plant: required"):
        load_rules(nameless)


def test_rule_subjects_and_plant_state_thresholds_are_configuration(tmp_path: Path) -> None:
    ruleset = load_rules(write(tmp_path, a_rule(), plant_state={"secondary_min_c": 1100, "hold_s": 1200}))
    assert ruleset.plant_state.secondary_min_c == 1100  # e.g. > 1 % halogenated organics (IED)
    combined = Rule.model_validate(a_rule(plant="kotim", sensors=[], subject="combustion", condition={
        "kind": "all", "conditions": [
            {"kind": "threshold", "sensor": "o2", "op": "<", "value": 6},
            {"kind": "threshold", "sensor": "co", "op": ">", "value": 100},
        ]}))
    assert combined.subjects() == ["combustion"]
    assert combined.watched_sensors == {"combustion": frozenset({"o2", "co"})}
    with pytest.raises(ValueError, match="subject: only for rules without sensors"):
        Rule.model_validate(a_rule(plant="kotim", subject="x"))
    assert isinstance(RuleSet.model_validate({"plant": "kotim", "rules": []}), RuleSet)


def test_messages_fill_unknown_values_as_n_a() -> None:
    templates = MessageTemplates(raised="{subject} {value:.1f} below {threshold:.0f}")
    assert render(templates.raised, {"subject": "t_secondary", "value": None, "threshold": 1000.0}) == "t_secondary n/a below 1000"


def test_no_shipped_rule_judges_a_burner_bit_and_the_fan_only_with_waste_present(catalog: PlantCatalog) -> None:
    """Issue 17 finding 4: a modulating burner is off on a healthy plant; a fan may stop in a cold shut-down."""
    ruleset = load_rules(bundled_rules_path("kotim"), catalog.get("kotim"))
    for rule in ruleset.rules:
        for _, leaf in rule.leaves:
            if isinstance(leaf, NoData):
                continue
            read = set(rule.sensors) | set(leaf_sensors(leaf, None))
            assert not read & {"burner_primary", "burner_secondary"}, rule.id
    fan = ruleset.rule("id_fan_stopped")
    assert fan is not None and set(fan.states or []) == {"burning", "burnout"}
    interlock = ruleset.rule("feed_interlock")
    assert interlock is not None and isinstance(interlock.condition, FeedInterlock)
    assert interlock.condition.requires_running == ["id_fan"]
    falling = ruleset.rule("t_secondary_falling")
    assert falling is not None and {leaf.kind for _, leaf in falling.leaves} == {"threshold", "trend"}
    overcharging = ruleset.rule("overcharging")
    assert overcharging is not None and {"id_fan", "draft_primary"} <= set(overcharging.watched_sensors["combustion"])
    flatline = ruleset.rule("flatline")
    assert flatline is not None and "t_primary" in flatline.sensors


def test_the_charge_rate_rule_reads_the_plant_capacity(catalog: PlantCatalog) -> None:
    plant = catalog.get("kotim")
    ruleset = load_rules(bundled_rules_path("kotim"), plant)
    rule = ruleset.rule("charge_rate")
    assert rule is not None and isinstance(rule.condition, ChargeRate) and plant is not None
    assert rule.condition.max_kg_h == plant.capacity_kg_h and rule.status == "U"


def test_shipped_sources_say_what_is_confirmed_and_what_is_borrowed(catalog: PlantCatalog) -> None:
    """Issue 17 finding 5."""
    ruleset = load_rules(bundled_rules_path("kotim"), catalog.get("kotim"))
    interlock, ph = ruleset.rule("feed_interlock"), ruleset.rule("scrubber_ph_low")
    assert interlock is not None and interlock.status != "C" and "Québec" in interlock.source
    assert "not an Indonesian requirement" in interlock.source
    assert ph is not None and ph.category != "regulatory" and ph.status == "U"
    # the P.56 1000 degC minimum, the same everywhere, in the same plant states
    secondary, profile = ruleset.rule("t_secondary_low"), load_bundled_profiles()["id-p56-2015"]
    requirement = next(r for r in profile.requirements if r.id == "t_secondary_min")  # type: ignore[union-attr]
    assert secondary is not None and isinstance(secondary.condition, Threshold)
    assert isinstance(interlock.condition, FeedInterlock)
    assert secondary.condition.value == interlock.condition.secondary_min_c == ruleset.plant_state.secondary_min_c == requirement.value
    assert set(secondary.states or []) == set(requirement.states or [])
    primary, primary_min = ruleset.rule("t_primary_low"), next(r for r in profile.requirements if r.id == "t_primary_min")  # type: ignore[union-attr]
    assert primary is not None and set(primary.states or []) == set(primary_min.states or [])


def test_suppressed_by_must_name_another_rule_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("""
plant: kotim
rules:
  - {id: a, sensors: [t_secondary], condition: {kind: threshold, op: "<", value: 1}, severity: minor,
     category: process, source: s, suppressed_by: [nope], message: {raised: r, cleared: c}}
""")
    with pytest.raises(RuleConfigError, match="rule a: suppressed_by: 'nope' is not another rule"):
        load_rules(path)
