"""The combustion process as first-order lags toward targets set by the phase, controls and waste load.

Each signal is `lagged + wander`: the lag gives the smooth physics (a chamber heats over an hour,
O2 answers a batch in a minute), the wander is an Ornstein-Uhlenbeck drift that makes a steady
plant look alive. Fault effects are added on top by `effects.py`; sensor noise by `measurement.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from random import Random

from simulators.plant_state import ACTIVITY, Controls, Phase

AMBIENT_C = 28.0
SECONDARY_SETPOINT_C = 1050.0
PRIMARY_BURNER_SETPOINT_C = 850.0
MAX_HEATING_C_PER_S = 20.0 / 60.0  # refractory limits the heat-up rate
COOL_TAU_FAN_S = 3600.0
COOL_TAU_STILL_S = 7200.0


@dataclass(frozen=True, slots=True)
class Dynamics:
    """How a signal moves: its lag, the size and pace of its wander, and its physical floor/ceiling."""

    tau_s: float
    wander_sd: float
    wander_tau_s: float = 900.0
    floor: float = 0.0
    ceiling: float = math.inf
    fall_tau_s: float | None = None  # refractory: a hot chamber loses heat slower than it gains it


DYNAMICS: dict[str, Dynamics] = {
    "t_primary": Dynamics(600.0, 16.0, floor=-40.0),
    "t_secondary": Dynamics(900.0, 17.0, floor=-40.0, fall_tau_s=3000.0),
    "t_stack": Dynamics(300.0, 2.5, floor=-40.0),
    "draft_primary": Dynamics(8.0, 6.0, 300.0, floor=-math.inf),
    "o2": Dynamics(60.0, 0.5, 600.0, ceiling=20.95),
    "co": Dynamics(30.0, 2.5, 180.0),
    "nox": Dynamics(120.0, 16.0, 900.0),
    "so2": Dynamics(120.0, 5.0, 900.0),
    "hcl": Dynamics(120.0, 1.6, 900.0),
    "dust": Dynamics(120.0, 0.9, 900.0),
    "toc": Dynamics(60.0, 0.5, 600.0),
    "flow": Dynamics(60.0, 110.0, 600.0),
    "h2o": Dynamics(120.0, 0.6, 900.0),
    "opacity": Dynamics(60.0, 0.5, 600.0),
    "scrubber_ph": Dynamics(600.0, 0.12, 1800.0, ceiling=14.0),
    "scrubber_dp": Dynamics(60.0, 0.14, 900.0),
}
TEMPERATURES = ("t_primary", "t_secondary")


def _combusting(controls: Controls, load: float) -> bool:
    return controls.id_fan and (controls.burner_primary or controls.burner_secondary or load > 0.02)


def _temperature_targets(controls: Controls, load: float) -> dict[str, float]:
    heat = min(load, 1.35)
    primary = AMBIENT_C + 822.0 * math.sqrt(heat)  # the primary burns the waste, so it feels each batch
    if controls.burner_primary:
        primary = max(primary + 60.0, PRIMARY_BURNER_SETPOINT_C)
    secondary = AMBIENT_C + 700.0 * heat  # without its burner the secondary cannot hold 1000 degC
    if controls.burner_secondary:
        secondary = max(secondary, SECONDARY_SETPOINT_C)
    return {"t_primary": primary, "t_secondary": secondary}


def _gas_targets(controls: Controls, load: float, now: dict[str, float]) -> dict[str, float]:
    """Stack gas as measured (dry) for the current combustion; a cold or unventilated plant shows air."""
    t_sec, t_pri = now["t_secondary"], now["t_primary"]
    if not controls.id_fan:
        hot = t_pri > 400.0
        return {
            "o2": 2.0 if hot else 20.9, "co": 600.0 * min(load, 1.0) if hot else 0.5, "nox": 1.0, "so2": 0.3,
            "hcl": 0.2, "dust": 0.2, "toc": 0.3, "flow": 250.0, "h2o": 3.0, "opacity": 0.5,
        }
    if not _combusting(controls, load):
        return {
            "o2": 20.9, "co": 0.8, "nox": 2.0, "so2": 0.4, "hcl": 0.2, "dust": 0.3, "toc": 0.4,
            "flow": 3800.0, "h2o": 3.0, "opacity": 0.6,
        }
    burner_o2 = 3.0 * controls.burner_secondary + 2.4 * controls.burner_primary
    cold_burn = max(0.0, 1000.0 - t_sec) if load > 0.1 else 0.0
    return {
        "o2": 20.9 - burner_o2 - 6.4 * load,
        "co": 6.0 + 4.0 * min(load, 1.0) + 60.0 * max(0.0, load - 1.15) + 0.5 * cold_burn,
        "nox": max(5.0, 90.0 * (1.0 - min(load, 1.0)) + 180.0 * min(load, 1.0) + 0.9 * (t_sec - SECONDARY_SETPOINT_C)),
        "so2": 2.0 + 16.0 * load,
        "hcl": 0.8 + 6.2 * load,
        "dust": 0.8 + 2.7 * load,
        "toc": 1.2 + 1.3 * load + 0.01 * cold_burn,
        "flow": 4200.0 + 1550.0 * min(load, 1.5),
        "h2o": 8.0 + 9.5 * min(load, 1.5),
        "opacity": 1.5 + 2.0 * load,
    }


def _plant_targets(controls: Controls, now: dict[str, float]) -> dict[str, float]:
    """Draft, stack temperature and scrubber: set by the fan and the chamber heat."""
    t_pri, t_sec = now["t_primary"], now["t_secondary"]
    if controls.id_fan:
        draft = -55.0 + (25.0 if controls.feed_door else 0.0)
        t_stack = AMBIENT_C + (75.0 - AMBIENT_C) * min(1.0, max(0.0, t_sec) / 1000.0) ** 0.5
        dp = 2.2
    else:
        draft = 25.0 * t_pri / 850.0 if t_pri > 300.0 else -2.0
        t_stack, dp = AMBIENT_C, 0.05
    return {"draft_primary": draft, "t_stack": t_stack, "scrubber_dp": dp, "scrubber_ph": 7.8}


def process_targets(controls: Controls, load: float, now: dict[str, float]) -> dict[str, float]:
    """Where each signal is heading, given the controls, the waste load (1.0 = nominal) and the present values."""
    targets = _temperature_targets(controls, load)
    targets.update(_gas_targets(controls, load, now))
    targets.update(_plant_targets(controls, now))
    return targets


class Process:
    """The lagged process signals and their wander; advance it, then read `values`."""

    def __init__(self, rng: Random) -> None:
        self._rng = rng
        cold = _gas_targets(Controls(), 0.0, {"t_primary": AMBIENT_C, "t_secondary": AMBIENT_C})
        cold.update({"t_primary": AMBIENT_C, "t_secondary": AMBIENT_C})
        cold.update(_plant_targets(Controls(), cold))
        self.lagged: dict[str, float] = cold
        self.wander: dict[str, float] = {name: 0.0 for name in DYNAMICS}
        self._cache: dict[float, list[tuple[str, Dynamics, float, float, float]]] = {}

    def advance(self, dt_s: float, controls: Controls, load: float) -> None:
        targets = process_targets(controls, load, self.lagged)
        heated = controls.burner_primary or controls.burner_secondary or load > 0.05
        cool_tau_s = COOL_TAU_FAN_S if controls.id_fan else COOL_TAU_STILL_S
        gauss = self._rng.gauss
        lagged, wander = self.lagged, self.wander
        for name, dyn, pull, keep, shock_sd in self._coefficients(dt_s):
            current, target = lagged[name], targets[name]
            if name in TEMPERATURES:
                if target < current:
                    fall_tau_s = dyn.fall_tau_s if heated else cool_tau_s
                    pull = pull if fall_tau_s is None else -math.expm1(-dt_s / fall_tau_s)
                step = min((target - current) * pull, MAX_HEATING_C_PER_S * dt_s)
            else:
                step = (target - current) * pull
            lagged[name] = current + step
            wander[name] = wander[name] * keep + gauss(0.0, shock_sd)

    def _coefficients(self, dt_s: float) -> list[tuple[str, Dynamics, float, float, float]]:
        """Per signal: the lag's pull, the wander's memory and its shock size for a step of `dt_s`."""
        cached = self._cache.get(dt_s)
        if cached is None:
            cached = []
            for name, dyn in DYNAMICS.items():
                keep = math.exp(-dt_s / dyn.wander_tau_s)
                cached.append((name, dyn, -math.expm1(-dt_s / dyn.tau_s), keep, dyn.wander_sd * math.sqrt(1.0 - keep * keep)))
            self._cache[dt_s] = cached
        return cached

    def values(self, phase: Phase) -> dict[str, float]:
        """The true process values now: lag plus wander, scaled by how active the plant is."""
        activity = ACTIVITY[phase]
        out: dict[str, float] = {}
        for name, dyn in DYNAMICS.items():
            value = self.lagged[name] + self.wander[name] * activity
            out[name] = min(max(value, dyn.floor), dyn.ceiling)
        return out


class WasteLoad:
    """The burning rate of the charged waste, 1.0 = nominal: each batch burns as a gamma-shaped pulse
    whose integral is one batch interval, so batches of 65 kg every 15 min average 1.0."""

    PEAK_S = 420.0
    HORIZON_MS = 3_600_000
    NOMINAL_KG = 65.0
    INTERVAL_S = 900.0

    def __init__(self) -> None:
        self._batches: list[tuple[int, float]] = []

    def add(self, t_ms: int, mass_kg: float) -> None:
        self._batches.append((t_ms, mass_kg))

    def at(self, t_ms: int) -> float:
        self._batches = [(s, m) for s, m in self._batches if t_ms - s < self.HORIZON_MS]
        total = 0.0
        for start_ms, mass_kg in self._batches:
            age_s = (t_ms - start_ms) / 1000.0
            if age_s > 0:
                shape = age_s / self.PEAK_S**2 * math.exp(-age_s / self.PEAK_S)
                total += mass_kg / self.NOMINAL_KG * self.INTERVAL_S * shape
        return total
