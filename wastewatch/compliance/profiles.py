"""Regulatory profiles as configuration: one YAML file per regime, validated at load.

Every number carries `source` and `status` (domain.md §0: C, C-pred, D, U, A). Percentile rules:

    D100  every valid daily average <= value                      (V6a)
    D97   >= 97 % of a year's valid daily averages <= value        (V7, CO)
    A100  every valid half-hour <= value                           (V6b column A; V7 alternative)
    B97   >= 97 % of a year's valid half-hours <= value            (V6b column B)
    CO95  in any evaluation window, >= 95 % of 10-min averages <= value   (V7)
    H100  every valid hourly average <= value                      (Indonesian, basis [U])
    P100  every periodic (sampling) result <= value                (V6c)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from wastewatch.errors import ConfigError
from wastewatch.operating_state import OperatingState
from wastewatch.topics import ID_PATTERN

StatusTag = Literal["C", "C-pred", "D", "U", "A"]
AvgPeriod = Literal["10min", "30min", "1h", "24h", "sampling"]
PercentileRule = Literal["D100", "D97", "A100", "B97", "CO95", "H100", "P100"]
ProfileKind = Literal["emission_limits", "process_requirements", "data_availability"]

RULE_SHARE: dict[PercentileRule, float] = {
    "D100": 1.0, "D97": 0.97, "A100": 1.0, "B97": 0.97, "CO95": 0.95, "H100": 1.0, "P100": 1.0,
}
RULE_PERIODS: dict[PercentileRule, tuple[AvgPeriod, ...]] = {
    "D100": ("24h",), "D97": ("24h",), "A100": ("30min",), "B97": ("30min",),
    "CO95": ("10min",), "H100": ("1h",), "P100": ("sampling",),
}
UNCONFIRMED: frozenset[str] = frozenset({"U", "A"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Basis(_Strict):
    """Reference state of a concentration: dry gas at 273.15 K and 101.3 kPa (domain.md §2.3)."""

    gas: Literal["dry", "wet"] = "dry"
    temperature_k: float = 273.15
    pressure_kpa: float = 101.3


class Reference(_Strict):
    """The reference oxygen and how the O2 correction is applied (§2.3 rules 2 and 3)."""

    o2_pct: float = Field(ge=0, lt=21)
    o2_status: StatusTag
    o2_source: str = Field(min_length=1)
    basis: Basis = Basis()
    o2_correction: Literal["always", "only_above_reference"] = "always"
    o2_correction_status: StatusTag = "A"
    o2_guard_pct: float = Field(default=20.5, gt=0, le=21, description="[A] O_M at or above this is INVALID_O2")


class Limit(_Strict):
    """One emission limit value and the rule that judges it."""

    pollutant: str = Field(pattern=ID_PATTERN)
    value: float = Field(ge=0)
    unit: str = Field(min_length=1)
    avg_period: AvgPeriod
    rule: PercentileRule
    ci_pct: float | None = Field(default=None, ge=0, le=100, description="95 % CI as % of the daily ELV (V2)")
    ci_status: StatusTag | None = None
    source: str = Field(min_length=1)
    status: StatusTag

    @model_validator(mode="after")
    def _period_fits_rule(self) -> Limit:
        if self.avg_period not in RULE_PERIODS[self.rule]:
            raise ValueError(f"avg_period: rule {self.rule} needs {' or '.join(RULE_PERIODS[self.rule])}, not {self.avg_period}")
        if self.ci_pct is not None and self.ci_status is None:
            raise ValueError("ci_status: required with ci_pct")
        return self

    @property
    def required_share(self) -> float:
        return RULE_SHARE[self.rule]

    @property
    def confirmed(self) -> bool:
        return self.status not in UNCONFIRMED


class ProcessRequirement(_Strict):
    """A process condition, e.g. P.56 Ps.22(1)c: secondary chamber >= 1000 degC."""

    id: str = Field(pattern=ID_PATTERN)
    parameter: str = Field(min_length=1)
    op: Literal[">=", ">", "<=", "<"]
    value: float
    unit: str = Field(min_length=1)
    states: list[OperatingState] | None = None
    design_constant: bool = False
    source: str = Field(min_length=1)
    status: StatusTag


class DataAvailability(_Strict):
    """Indonesian data-availability rules (§1.3): hourly averages, valid days, quarterly share."""

    acquisition_period_s: float = Field(gt=0)
    average_period: AvgPeriod = "1h"
    min_valid_hours_per_day: int = Field(ge=1, le=24)
    min_valid_day_share: float = Field(gt=0, le=1)
    period: Literal["quarter"] = "quarter"
    source: str = Field(min_length=1)
    status: StatusTag


class AbnormalOperation(_Strict):
    """V8: abnormal-operation caps (IED Art. 46(6) via NL/AT transpositions: `source`, `status`), and
    the notice before the event cap, an alerting choice with its own source and status."""

    max_event_h: float = Field(gt=0)
    max_year_h: float = Field(gt=0)
    dust_cap_mg_nm3: float = Field(gt=0)
    warn_event_h: float = Field(gt=0)
    warn_event_h_source: str = Field(default="domain.md §8.5 (alert at 3 h, critical at 4 h)", min_length=1)
    warn_event_h_status: StatusTag = "A"
    source: str = Field(min_length=1)
    status: StatusTag

    @model_validator(mode="after")
    def _notice_before_cap(self) -> AbnormalOperation:
        if self.warn_event_h >= self.max_event_h:
            raise ValueError("warn_event_h: the notice must come before the event cap (max_event_h)")
        return self


class Averaging(_Strict):
    """How short averages are formed. `min_valid_share` is [U]: EN 17255-1's threshold is unavailable."""

    min_valid_share: float = Field(default=0.7, gt=0, le=1)
    min_valid_share_status: StatusTag = "U"
    effective_states: frozenset[OperatingState] = Field(
        default=frozenset({OperatingState.BURNING, OperatingState.BURNOUT}),
        description="[A] states in which waste is being incinerated (V1 effective operating time)",
    )
    max_discarded_half_hours_per_day: int = Field(default=5, ge=0, description="V4 [C] S16")
    max_discarded_days_per_year: int = Field(default=10, ge=0, description="V5 [C] S16")


class Loads(_Strict):
    """Emission loads (mass emissions) from this profile's day-basis windows (`wastewatch.compliance.loads`).

    One basis for concentration and flow [A]: the concentration at measured conditions on a dry basis
    (before the O2 correction, without CI subtraction) times the flue-gas flow as dry normalised Nm³/h
    (273.15 K, 101.3 kPa). `flow_basis` is how the flow meter reports: `dry` is used as it is, `wet`
    is converted with the paired H2O, Q_dry = Q_wet × (100 − H2O %) / 100.
    """

    flow_basis: Literal["dry", "wet"]
    flow_basis_status: StatusTag
    flow_basis_source: str = Field(min_length=1)
    source: str = Field(min_length=1)
    status: StatusTag

    @property
    def unconfirmed(self) -> bool:
        return self.status in UNCONFIRMED or self.flow_basis_status in UNCONFIRMED


class Profile(_Strict):
    """One regime: its limits, process requirements or data-availability rules, with provenance."""

    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    kind: ProfileKind
    jurisdiction: str = Field(min_length=1)
    source: str = Field(min_length=1)
    status: StatusTag
    note: str = ""
    reference: Reference | None = None
    averaging: Averaging = Averaging()
    limits: list[Limit] = Field(default_factory=list)
    requirements: list[ProcessRequirement] = Field(default_factory=list)
    data_availability: DataAvailability | None = None
    abnormal_operation: AbnormalOperation | None = None
    loads: Loads | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if self.kind == "emission_limits" and (self.reference is None or not self.limits):
            raise ValueError("emission_limits profiles need `reference` and at least one limit")
        if self.loads is not None and self.kind != "emission_limits":
            raise ValueError("loads: only an emission_limits profile computes emission loads")
        if self.kind == "data_availability" and self.data_availability is None:
            raise ValueError("data_availability: required for a data_availability profile")
        seen: set[tuple[str, str, str]] = set()
        for limit in self.limits:
            key = (limit.pollutant, limit.avg_period, limit.rule)
            if key in seen:
                raise ValueError(f"limits: {_limit_name(limit)} appears twice")
            seen.add(key)
            if limit.ci_pct is not None and self.daily_limit(limit.pollutant) is None:
                raise ValueError(f"limits: {_limit_name(limit)} has ci_pct but {limit.pollutant} has no daily limit")
        return self

    @property
    def unconfirmed(self) -> bool:
        """True when the profile or any of its numbers is [U] or [A]: the UI must flag it."""
        numbers = [lim.status for lim in self.limits] + [req.status for req in self.requirements]
        return self.status in UNCONFIRMED or any(s in UNCONFIRMED for s in numbers)

    def limits_for(self, pollutant: str) -> list[Limit]:
        return [lim for lim in self.limits if lim.pollutant == pollutant]

    def limit(self, pollutant: str, rule: PercentileRule) -> Limit | None:
        return next((lim for lim in self.limits if lim.pollutant == pollutant and lim.rule == rule), None)

    def daily_limit(self, pollutant: str) -> Limit | None:
        return next((lim for lim in self.limits if lim.pollutant == pollutant and lim.avg_period == "24h"), None)

    def ci_value(self, pollutant: str) -> float:
        """The confidence interval to subtract (V2): ci_pct × daily ELV, 0 when the profile sets none."""
        daily = self.daily_limit(pollutant)
        if daily is None or daily.ci_pct is None:
            return 0.0
        return daily.ci_pct / 100.0 * daily.value


def _limit_name(limit: Limit) -> str:
    return f"{limit.pollutant} {limit.avg_period} {limit.rule}"


class ProfileError(ConfigError):
    """A profile file is missing or invalid; the message names the file, profile, limit and field."""


def load_profile(path: Path) -> Profile:
    """Load and validate one profile YAML file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: a profile must be a mapping")
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ProfileError(f"{path}: profile {raw.get('id', '?')}: {_where(raw, first['loc'])}: {first['msg']}") from exc


def _where(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int) and i > 0 and loc[i - 1] in ("limits", "requirements"):
            item = raw.get(str(loc[i - 1]), [])[part]
            label = _item_label(item) if isinstance(item, dict) else ""
            parts[-1] = f"{parts[-1]}[{part}]{label}"
        else:
            parts.append(str(part))
    return ".".join(parts) or "(top level)"


def _item_label(item: dict[str, Any]) -> str:
    if "pollutant" in item:
        return f" ({item.get('pollutant')} {item.get('avg_period', '?')} {item.get('rule', '?')})"
    return f" ({item['id']})" if "id" in item else ""


def bundled_profiles_dir() -> Path:
    return Path(str(resources.files("wastewatch.compliance") / "profiles"))


def load_bundled_profiles() -> dict[str, Profile]:
    """Every shipped profile by id."""
    profiles: dict[str, Profile] = {}
    for path in sorted(bundled_profiles_dir().glob("*.yaml")):
        profile = load_profile(path)
        if profile.id in profiles:
            raise ProfileError(f"{path}: profile id {profile.id!r} is defined twice")
        profiles[profile.id] = profile
    return profiles


def select_profiles(ids: list[str], available: dict[str, Profile]) -> list[Profile]:
    """The profiles a plant selects, in its order; an unknown id is an error naming it."""
    missing = [pid for pid in ids if pid not in available]
    if missing:
        raise ProfileError(f"unknown compliance profile(s): {', '.join(missing)}; known: {', '.join(sorted(available))}")
    return [available[pid] for pid in ids]
