"""The readings of an alert's sensor around the alert, for its page: from an hour before it was raised
to half an hour after (or to now, if sooner), one mean per minute (or per the sensor's own period if
longer), drawn as a sparkline with the sensor's process requirements (P.56's minimums) as lines.

The sensor is the alert's subject when that is a sensor of the plant (a rule with `sensors:` raises
one alert per sensor); for a rule-wide subject, the first sensor the bundled rule reads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from alerts.conditions import leaf_sensors
from alerts.rules import RuleSet, bundled_rules_path, load_rules
from alerts.store import AlertRecord
from api.console.plant_now import process_requirements
from api.console.sparkline import Sparkline, sparkline
from wastewatch.compliance.profiles import UNCONFIRMED
from wastewatch.errors import ConfigError
from wastewatch.plant import PlantConfig
from wastewatch.points import Store
from wastewatch.records import READING

BEFORE_MS = 3_600_000
AFTER_MS = 1_800_000
STEP_S = 60
_SIGN = {">=": "≥", "<=": "≤"}


@dataclass(frozen=True, slots=True)
class AlertReadings:
    sensor: str
    unit: str
    step_s: int
    start_ms: int
    end_ms: int
    samples: tuple[tuple[int, float], ...]
    chart: Sparkline


@functools.lru_cache(maxsize=8)
def _bundled_rules(plant_id: str) -> RuleSet | None:
    path = bundled_rules_path(plant_id)
    try:
        return load_rules(path) if path.is_file() else None
    except ConfigError:
        return None


def alert_sensor(alert: AlertRecord, plant: PlantConfig) -> str | None:
    if plant.sensor(alert.subject) is not None:
        return alert.subject
    rules = _bundled_rules(plant.id)
    rule = next((r for r in rules.rules if r.id == alert.rule_id), None) if rules is not None else None
    if rule is None:
        return None
    read = [s for _, leaf in rule.leaves for s in leaf_sensors(leaf, rule.bound_sensor(alert.subject))]
    return next((s for s in read if plant.sensor(s) is not None), None)


def alert_readings(store: Store, alert: AlertRecord, plant: PlantConfig, now_ms: int, marks: dict[str, str]) -> AlertReadings | None:
    """The readings around the alert, or None when it is about no sensor. `marks` labels the lines
    drawn at the alert's raise and clear (`raised`, `cleared`)."""
    sensor = alert_sensor(alert, plant)
    spec = plant.sensor(sensor) if sensor is not None else None
    if sensor is None or spec is None:
        return None
    start_ms = alert.raised_at_ms - BEFORE_MS
    end_ms = max(start_ms + 60_000, min(alert.raised_at_ms + AFTER_MS, now_ms))
    step_s = max(STEP_S, int(spec.period_s))
    rows = store.aggregate(READING, "value", "mean", where={"plant": plant.id, "sensor": sensor}, start_ms=start_ms,
                           end_ms=end_ms, every_s=step_s)
    samples = tuple((r.time_ms, r.value) for r in rows if r.time_ms is not None and r.value is not None)
    lines = [(alert.raised_at_ms, marks["raised"])] + ([(alert.cleared_at_ms, marks["cleared"])] if alert.cleared_at_ms else [])
    levels = [(float(req.value), f"{_SIGN.get(req.op, req.op)} {req.value:g} {'°C' if req.unit == 'degC' else req.unit}") for _, req in process_requirements(plant)
              if req.parameter == sensor and req.status not in UNCONFIRMED]
    return AlertReadings(sensor, spec.unit, step_s, start_ms, end_ms, samples,
                         sparkline(samples, start_ms, end_ms, marks=lines, levels=levels))
