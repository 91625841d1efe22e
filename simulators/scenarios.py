"""Fault scenarios (domain.md §4): their names, defaults and parameters, and the CLI spec parser.

A spec reads `name[@START[/DURATION]][,key=value...]`, for example
`wet_batch@2026-11-28T10:00:00+07:00/30m`, `burner_trip@+2h/20m` or `clock_skew@+1h/2h,offset_s=90`.
START is `+<duration>` after the simulation start, an ISO-8601 date-time, or a date (local midnight).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

ParamValue = str | int | float | bool | tuple[str, ...]

INVALID_REASONS: tuple[str, ...] = (
    "malformed_json",
    "unknown_sensor",
    "non_numeric",
    "non_finite",
    "out_of_range",
    "timestamp_too_old",
)


@dataclass(frozen=True, slots=True)
class FaultKind:
    """What a fault is called, its default duration and the parameters it accepts (with defaults)."""

    name: str
    default_duration_s: float
    params: dict[str, ParamValue]
    summary: str


_KINDS = (
    FaultKind("wet_batch", 1800, {}, "the first batch fed in the window is wet: T_primary -80..150, T_secondary -30..80, burner on, CO up"),
    FaultKind("overcharge", 1800, {}, "an oversized batch: O2 < 6 %, CO 200-1000 mg/Nm3 for 2-10 min, opacity up"),
    FaultKind("door_puff", 900, {}, "the feeding door opens with a puff: draft positive, CO and opacity spike"),
    FaultKind("burner_trip", 1200, {"burner": "secondary"}, "burner flame failure: burner 0, chamber decays 5-15 degC/min"),
    FaultKind("startup_feed", 7200, {}, "a batch is fed before the hold: at start-up as the primary reads 800 degC, later while T_secondary < 1000 degC"),
    FaultKind("flatline", 1800, {"sensor": "t_secondary"}, "the sensor repeats its value exactly"),
    FaultKind("thermocouple_open", 900, {"sensor": "t_primary", "flag": False, "value": "full_scale"},
              "reading jumps to 1372 degC (type K burn-out); value=nan: the gateway passes NaN on, which the ingest dead-letters"),
    FaultKind("cems_calibration", 900, {}, "CEMS channels report status maintenance (zero, then span gas)"),
    FaultKind("analyzer_drift", 86400, {"sensor": "o2", "rate_per_h": 0.5 / 168},
              "an offset growing by rate_per_h (sensor units per hour; default 0.5 %/week on O2, §4.9)"),
    FaultKind("unit_change", 3600, {"sensor": "so2"}, "the analyser is switched to ppm while the channel still says mg/Nm3 (§4.13)"),
    FaultKind("network_outage", 7200, {"chunk": 100}, "messages are held back and back-filled after the window"),
    FaultKind("scrubber_failure", 3600, {}, "pH falls below 6: SO2 breaks through at 250-450 mg/Nm3, HCl rises only 6-15"),
    FaultKind("id_fan_failure", 900, {}, "ID fan stops: draft positive, O2 collapses, burners and feed interlocked"),
    FaultKind("exceedance_day", 86400, {},
              "dust and HCl daily averages over 10 mg/Nm3 (EU), and 2 h of dust over 50 (ID Kep-03 hourly, unconfirmed)"),
    FaultKind("duplicates", 3600, {"probability": 0.1}, "some messages are sent twice"),
    FaultKind("out_of_order", 3600, {"probability": 0.3, "max_delay_s": 30.0}, "messages delayed so they arrive shuffled"),
    FaultKind("clock_skew", 7200, {"offset_s": 90.0}, "payload timestamps shifted by offset_s"),
    FaultKind("invalid_messages", 600, {"interval_s": 60.0, "reasons": INVALID_REASONS}, "malformed messages for the dead-letter path"),
)
FAULT_KINDS: dict[str, FaultKind] = {kind.name: kind for kind in _KINDS}
FAULT_NAMES: tuple[str, ...] = tuple(FAULT_KINDS)


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """One fault switched on at `start_ms` for `duration_s`; `params` override the fault's defaults."""

    name: str
    start_ms: int
    duration_s: float
    params: dict[str, ParamValue] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        kind = FAULT_KINDS.get(self.name)
        if kind is None:
            raise ValueError(f"unknown fault {self.name!r}; known faults: {', '.join(FAULT_NAMES)}")
        if self.duration_s <= 0:
            raise ValueError(f"fault {self.name}: duration must be positive, got {self.duration_s} s")
        unknown = sorted(set(self.params) - set(kind.params))
        if unknown:
            accepted = ", ".join(kind.params) or "none"
            raise ValueError(f"fault {self.name}: unknown parameter {unknown[0]!r}; accepted: {accepted}")
        if self.name == "invalid_messages":
            bad = [r for r in _as_tuple(self.param("reasons")) if r not in INVALID_REASONS]
            if bad:
                raise ValueError(f"fault invalid_messages: unknown reason {bad[0]!r}; known: {', '.join(INVALID_REASONS)}")

    @property
    def end_ms(self) -> int:
        return self.start_ms + round(self.duration_s * 1000)

    def contains(self, t_ms: int) -> bool:
        return self.start_ms <= t_ms < self.end_ms

    def param(self, key: str) -> ParamValue:
        """A parameter's value, or the fault's default for it."""
        return self.params.get(key, FAULT_KINDS[self.name].params[key])

    def number(self, key: str) -> float:
        value = self.param(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"fault {self.name}: parameter {key} must be a number, got {value!r}")
        return float(value)

    def text(self, key: str) -> str:
        return str(self.param(key))


def _as_tuple(value: ParamValue) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else tuple(str(value).split("|"))


def reasons_of(window: FaultWindow) -> tuple[str, ...]:
    """The invalid-message reasons a window produces, in the order it cycles through them."""
    return _as_tuple(window.param("reasons"))


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNIT_S = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration_s(text: str) -> float:
    """Seconds from `90`, `90s`, `30m`, `2h`, `1d` or a sum such as `1h30m`."""
    text = text.strip().lower()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"bad duration {text!r}: use seconds or e.g. 90s, 30m, 2h, 1d, 1h30m")
    return sum(float(number) * _UNIT_S[unit] for number, unit in parts)


def parse_start_ms(text: str, *, sim_start_ms: int, zone: tzinfo | None) -> int:
    """Epoch ms from `+<duration>` (after the simulation start), an ISO date-time, or a date."""
    text = text.strip()
    if text.startswith("+"):
        return sim_start_ms + round(parse_duration_s(text[1:]) * 1000)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"bad start {text!r}: use +2h, 2026-11-28T10:00:00+07:00 or 2026-11-28") from None
    if moment.tzinfo is None:
        if zone is None:
            raise ValueError(f"start {text!r} has no UTC offset and no plant time zone was given")
        moment = moment.replace(tzinfo=zone)
    return round(moment.timestamp() * 1000)


def _param_value(text: str) -> ParamValue:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return tuple(text.split("|")) if "|" in text else text


def parse_fault_spec(spec: str, *, sim_start_ms: int, zone: tzinfo | None = None) -> FaultWindow:
    """A fault window from a CLI spec; raises ValueError naming what is wrong."""
    head, *assignments = spec.strip().split(",")
    name, _, when = head.partition("@")
    name = name.strip()
    if name not in FAULT_KINDS:
        raise ValueError(f"unknown fault {name!r} in {spec!r}; known faults: {', '.join(FAULT_NAMES)}")
    start_text, _, duration_text = when.partition("/")
    start_ms = parse_start_ms(start_text, sim_start_ms=sim_start_ms, zone=zone) if start_text else sim_start_ms
    duration_s = parse_duration_s(duration_text) if duration_text else FAULT_KINDS[name].default_duration_s
    params: dict[str, ParamValue] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"bad parameter {assignment!r} in {spec!r}: use key=value")
        params[key.strip()] = _param_value(value.strip())
    return FaultWindow(name, start_ms, duration_s, params)

