"""The combustion process: the chambers' heat balances (chambers.py) and the stack gas as first-order
lags toward targets set by the phase, controls, waste load and chamber temperatures.

The temperatures come out of the heat balance, their noise (the waste's heating value, the flame's
turbulence) entering as heat, inside the secondary burner's control loop. The other signals are
`lagged + wander`: the lag gives the smooth physics (O2 answers a batch in a minute), the wander is
an Ornstein-Uhlenbeck drift that makes a steady plant look alive. Fault effects are added on top by
`effects.py`; sensor noise by `measurement.py`.

The stack: a wet scrubber quenches the flue gas to its saturation temperature, so the gas leaves it
saturated (its moisture is the vapour pressure at the scrubber outlet temperature), and a reheater
lifts it `REHEAT_C` above that before the stack so the plume does not condense in the CEMS line or
the stack. [A] both: no number for this plant's stack was found (domain.md §3 "not found").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from random import Random

from simulators.chambers import AMBIENT_C, PRIMARY, SECONDARY, SECONDARY_SETPOINT_C, BurnerController, Chamber
from simulators.plant_state import ACTIVITY, Controls, Phase

__all__ = ["AMBIENT_C", "SECONDARY_SETPOINT_C", "Process", "WasteLoad", "process_targets", "saturated_h2o_pct"]

PRESSURE_KPA = 101.325
REHEAT_C = 18.0  # [A] reheater after the scrubber
SCRUBBER_OUT_HOT_C = 52.0  # [A] adiabatic saturation of hot flue gas with only the burners firing
SCRUBBER_OUT_PER_LOAD_C = 5.0  # [A] burning waste adds its own water: a higher saturation temperature
NOMINAL_FLOW_NM3_H = 5750.0
NOMINAL_DP_KPA = 2.2


def saturated_h2o_pct(t_c: float) -> float:
    """vol-% water in a gas saturated at `t_c` and atmospheric pressure (Magnus formula, over water)."""
    return 100.0 * 0.61094 * math.exp(17.625 * t_c / (t_c + 243.04)) / PRESSURE_KPA


@dataclass(frozen=True, slots=True)
class Dynamics:
    """How a signal moves: its lag, the size and pace of its wander, and its physical floor/ceiling.
    A `relative` wander is a fraction of the lagged value, so a signal with a floor keeps it."""

    tau_s: float
    wander_sd: float
    wander_tau_s: float = 900.0
    floor: float = 0.0
    ceiling: float = math.inf
    relative: bool = False


DYNAMICS: dict[str, Dynamics] = {
    "draft_primary": Dynamics(8.0, 6.0, 300.0, floor=-math.inf),
    "o2": Dynamics(60.0, 0.5, 600.0, ceiling=20.95),
    "co": Dynamics(30.0, 2.5, 180.0),
    "nox": Dynamics(120.0, 0.08, 900.0, relative=True),
    "so2": Dynamics(120.0, 0.25, 900.0, relative=True),
    "hcl": Dynamics(120.0, 0.2, 900.0, relative=True),
    "dust": Dynamics(120.0, 0.9, 900.0),
    "toc": Dynamics(60.0, 0.5, 600.0),
    "flow": Dynamics(60.0, 110.0, 600.0),
    "scrubber_out": Dynamics(300.0, 0.8, 900.0, floor=-40.0),
    "opacity": Dynamics(60.0, 0.5, 600.0),
    "scrubber_ph": Dynamics(600.0, 0.12, 1800.0, ceiling=14.0),
    "scrubber_dp": Dynamics(60.0, 0.1, 900.0, relative=True),
    "reheat": Dynamics(600.0, 0.6, 900.0, floor=0.0),
}
# the heat-input noise: the waste's heating value (relative) and each flame's turbulence (degC of gas rise)
HEATING_VALUE_SD, HEATING_VALUE_TAU_S = 0.18, 1200.0
TURBULENCE_SD_C, TURBULENCE_TAU_S = 6.0, 60.0
VOLATILE_SHARE = 0.6  # of the waste's heat released in the secondary, the share from the fast volatiles


def _combusting(controls: Controls, load: float) -> bool:
    return controls.id_fan and (controls.burner_primary or controls.burner_secondary or load > 0.02)


def _gas_targets(controls: Controls, load: float, now: dict[str, float], fire: float) -> dict[str, float]:
    """Stack gas as measured (dry) for the current combustion; a cold or unventilated plant shows air."""
    t_sec, t_pri = now["t_secondary"], now["t_primary"]
    if not controls.id_fan:
        hot = t_pri > 400.0
        return {
            "o2": 2.0 if hot else 20.9, "co": 600.0 * min(load, 1.0) if hot else 0.5, "nox": 1.0, "so2": 0.3,
            "hcl": 0.2, "dust": 0.2, "toc": 0.3, "flow": 250.0, "opacity": 0.5,
        }
    if not _combusting(controls, load):
        return {
            "o2": 20.9, "co": 0.8, "nox": 2.0, "so2": 0.4, "hcl": 0.2, "dust": 0.3, "toc": 0.4,
            "flow": 3800.0, "opacity": 0.6,
        }
    burner_o2 = 1.5 * controls.burner_secondary + 5.0 * fire + 2.4 * controls.burner_primary
    cold_burn = max(0.0, 1000.0 - t_sec) if load > 0.1 else 0.0
    # a lit burner makes thermal NOx at its flame whatever the chamber does: a floor while it fires
    burner_nox = 25.0 * controls.burner_primary + 25.0 * controls.burner_secondary + 20.0 * fire
    return {
        "o2": 20.9 - burner_o2 - 6.0 * load,
        "co": 6.0 + 4.0 * min(load, 1.0) + 60.0 * max(0.0, load - 1.15) + 0.5 * cold_burn,
        "nox": burner_nox + 135.0 * min(load, 1.2) + 0.5 * max(0.0, t_sec - 1000.0),
        "so2": 2.0 + 16.0 * load,
        "hcl": 0.8 + 6.2 * load,
        "dust": 0.8 + 2.7 * load,
        "toc": 1.2 + 1.3 * load + 0.01 * cold_burn,
        "flow": 4200.0 + 1550.0 * min(load, 1.5),
        "opacity": 1.5 + 2.0 * load,
    }


def _plant_targets(controls: Controls, load: float, now: dict[str, float], flow: float) -> dict[str, float]:
    """Draft, the scrubber and the reheater: set by the fan, the chamber heat and the acid load."""
    t_pri, t_sec = now["t_primary"], now["t_secondary"]
    if controls.id_fan:
        draft = -55.0 + (25.0 if controls.feed_door else 0.0)
        hot = min(1.0, max(0.0, t_sec - AMBIENT_C) / (1000.0 - AMBIENT_C))
        outlet = AMBIENT_C + (SCRUBBER_OUT_HOT_C - AMBIENT_C) * hot**0.5 + SCRUBBER_OUT_PER_LOAD_C * min(load, 1.5)
        dp = NOMINAL_DP_KPA * (flow / NOMINAL_FLOW_NM3_H) ** 2  # a packed bed's loss grows with the square of the flow
        reheat = REHEAT_C
    else:
        draft = 25.0 * t_pri / 850.0 if t_pri > 300.0 else -2.0
        outlet, dp, reheat = AMBIENT_C, 0.05, 0.0
    # the caustic dosing lags the acid the waste brings, so the liquor sags with the load
    ph = 7.95 - 0.25 * min(load, 1.5)
    return {"draft_primary": draft, "scrubber_out": outlet, "scrubber_dp": dp, "scrubber_ph": ph, "reheat": reheat}


def process_targets(controls: Controls, load: float, now: dict[str, float], fire: float = 0.0) -> dict[str, float]:
    """Where each lagged signal is heading, given the controls, the waste load (1.0 = nominal), the
    present chamber temperatures and the secondary burner's firing rate."""
    targets = _gas_targets(controls, load, now, fire)
    targets.update(_plant_targets(controls, load, now, targets["flow"]))
    return targets


class Process:
    """The chambers, the secondary burner's controller, the lagged gas signals and their wander;
    advance it, then read `values`."""

    def __init__(self, rng: Random) -> None:
        self._rng = rng
        self.primary, self.secondary = Chamber(PRIMARY), Chamber(SECONDARY)
        self.burner = BurnerController()
        now = {"t_primary": AMBIENT_C, "t_secondary": AMBIENT_C}
        cold = process_targets(Controls(), 0.0, now)
        self.lagged: dict[str, float] = cold
        self.wander: dict[str, float] = {name: 0.0 for name in DYNAMICS}
        self._heating_value = 0.0
        self._turbulence = [0.0, 0.0]
        self._cache: dict[float, list[tuple[str, Dynamics, float, float, float]]] = {}

    @property
    def temperatures(self) -> dict[str, float]:
        return {"t_primary": self.primary.gas_c, "t_secondary": self.secondary.gas_c}

    def advance(
        self, dt_s: float, controls: Controls, load: float, volatiles: float | None = None, sink_c: tuple[float, float] = (0.0, 0.0)
    ) -> None:
        """Step `dt_s`: `load` and `volatiles` as WasteLoad gives them, `sink_c` the heat a wet batch
        takes from the primary and the secondary (degC of gas rise)."""
        volatiles = load if volatiles is None else volatiles
        self._advance_heat(dt_s, controls, load, volatiles, sink_c)
        targets = process_targets(controls, load, self.temperatures, self.burner.fire)
        gauss = self._rng.gauss
        lagged, wander = self.lagged, self.wander
        for name, _dyn, pull, keep, shock_sd in self._coefficients(dt_s):
            lagged[name] += (targets[name] - lagged[name]) * pull
            wander[name] = wander[name] * keep + gauss(0.0, shock_sd)

    def _advance_heat(self, dt_s: float, controls: Controls, load: float, volatiles: float, sink_c: tuple[float, float]) -> None:
        gauss = self._rng.gauss
        keep = math.exp(-dt_s / HEATING_VALUE_TAU_S)
        self._heating_value = self._heating_value * keep + gauss(0.0, HEATING_VALUE_SD * math.sqrt(1.0 - keep * keep))
        keep = math.exp(-dt_s / TURBULENCE_TAU_S)
        shock = TURBULENCE_SD_C * math.sqrt(1.0 - keep * keep)
        self._turbulence = [t * keep + gauss(0.0, shock) for t in self._turbulence]
        fan, door = controls.id_fan, controls.feed_door and controls.id_fan
        heating = max(0.0, 1.0 + self._heating_value)
        burning = 1.0 if fan else 0.15  # without the fan's air the waste smoulders
        p, s = PRIMARY, SECONDARY
        primary_heat = p.burner_c * controls.burner_primary + p.waste_c * load * heating * burning + p.door_c * door - sink_c[0]
        fire = self.burner.advance(dt_s, self.secondary.gas_c, controls.burner_secondary)
        waste_heat = s.waste_c * ((1 - VOLATILE_SHARE) * load + VOLATILE_SHARE * volatiles) * heating * burning
        secondary_heat = s.burner_c * fire + waste_heat + s.door_c * door - sink_c[1]
        lit = (controls.burner_primary, controls.burner_secondary or load > 0.05)
        self.primary.advance(dt_s, primary_heat + self._turbulence[0] * lit[0], fan)
        self.secondary.advance(dt_s, secondary_heat + self._turbulence[1] * lit[1], fan)

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
        """The true process values now: the chamber temperatures, lag plus wander (scaled by how
        active the plant is), and the stack's moisture and temperature from the scrubber outlet."""
        activity = ACTIVITY[phase]
        out: dict[str, float] = self.temperatures
        for name, dyn in DYNAMICS.items():
            wander = self.wander[name] * activity
            value = self.lagged[name] * (1.0 + wander) if dyn.relative else self.lagged[name] + wander
            out[name] = min(max(value, dyn.floor), dyn.ceiling)
        outlet = out.pop("scrubber_out")
        out["h2o"] = saturated_h2o_pct(outlet)
        out["t_stack"] = outlet + out.pop("reheat")
        return out


class WasteLoad:
    """The burning rate of the charged waste, 1.0 = nominal: each batch burns as a gamma-shaped pulse
    whose integral is one batch interval, so batches of 65 kg every 15 min average 1.0. Its volatiles
    come off faster (`volatiles_at`: the same integral, an earlier peak) and burn in the secondary."""

    PEAK_S = 420.0
    VOLATILE_PEAK_S = 150.0
    HORIZON_MS = 3_600_000
    NOMINAL_KG = 65.0
    INTERVAL_S = 900.0

    def __init__(self) -> None:
        self._batches: list[tuple[int, float]] = []

    def add(self, t_ms: int, mass_kg: float) -> None:
        self._batches.append((t_ms, mass_kg))

    def at(self, t_ms: int) -> float:
        self._batches = [(s, m) for s, m in self._batches if t_ms - s < self.HORIZON_MS]
        return self._pulses(t_ms, self.PEAK_S)

    def volatiles_at(self, t_ms: int) -> float:
        return self._pulses(t_ms, self.VOLATILE_PEAK_S)

    def _pulses(self, t_ms: int, peak_s: float) -> float:
        total = 0.0
        for start_ms, mass_kg in self._batches:
            age_s = (t_ms - start_ms) / 1000.0
            if age_s > 0:
                shape = age_s / peak_s**2 * math.exp(-age_s / peak_s)
                total += mass_kg / self.NOMINAL_KG * self.INTERVAL_S * shape
        return total
