"""Process disturbances layered on the lagged process: a wet or oversized batch, a door puff, and
the window faults that change the stack gas (scrubber failure, exceedance day).

Each effect is a pure function of time since it started, with magnitudes drawn once when it is
created, so the same seed gives the same disturbance. Magnitudes follow domain.md §4 ([A]).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from random import Random
from typing import Protocol

from simulators.plant_state import WASTE_ACTIVITY, Phase
from simulators.scenarios import FaultWindow


class Effect(Protocol):
    def apply(self, t_ms: int, values: dict[str, float], phase: Phase) -> None:
        """Change the true process values at `t_ms` in place."""
        ...

    def over(self, t_ms: int) -> bool:
        """True once the effect can no longer change anything."""
        ...


def _blend(values: dict[str, float], name: str, toward: float, weight: float) -> None:
    values[name] = values[name] * (1.0 - weight) + toward * weight


@dataclass(frozen=True, slots=True)
class WetBatch:
    """Moisture cools both chambers within 2-5 min; recovery takes 10-20 min; CO and H2O rise.

    The water's evaporation is a heat sink in the chambers' heat balance (`heat_sink_c`), so the
    primary burner and the secondary's controller answer it; the sink is sized so that what is left
    after they do is the §4.1 signature (primary -80..150, secondary -30..80 degC)."""

    start_ms: int
    primary_drop_c: float
    secondary_drop_c: float
    ramp_s: float
    recovery_tau_s: float
    co_rise: float
    h2o_rise: float

    @classmethod
    def draw(cls, start_ms: int, rng: Random) -> WetBatch:
        return cls(start_ms, rng.uniform(80, 150), rng.uniform(30, 80), rng.uniform(120, 300),
                   rng.uniform(200, 400), rng.uniform(20, 60), rng.uniform(3, 6))

    def _envelope(self, t_ms: int) -> float:
        age_s = (t_ms - self.start_ms) / 1000.0
        if age_s < 0:
            return 0.0
        if age_s < self.ramp_s:
            return age_s / self.ramp_s
        return math.exp(-(age_s - self.ramp_s) / self.recovery_tau_s)

    PRIMARY_SINK_PER_C = 6.5  # the primary burner (400 degC of gas rise) lights into the sink
    SECONDARY_SINK_PER_C = 5.0  # the secondary's controller takes back about four fifths

    def heat_sink_c(self, t_ms: int) -> tuple[float, float]:
        """The heat the evaporating water takes from the primary and the secondary, in degC of gas rise."""
        env = self._envelope(t_ms)
        return self.primary_drop_c * self.PRIMARY_SINK_PER_C * env, self.secondary_drop_c * self.SECONDARY_SINK_PER_C * env

    def apply(self, t_ms: int, values: dict[str, float], phase: Phase) -> None:
        env = self._envelope(t_ms)
        values["co"] += self.co_rise * env
        values["h2o"] += self.h2o_rise * env

    def over(self, t_ms: int) -> bool:
        return t_ms - self.start_ms > (self.ramp_s + 10 * self.recovery_tau_s) * 1000


@dataclass(frozen=True, slots=True)
class Overcharge:
    """Too much waste at once: air runs short (O2 < 6 %), CO 200-1000 mg/Nm3 for 2-10 min, smoke."""

    start_ms: int
    plateau_s: float
    o2_low: float
    co_peak: float
    opacity_rise: float
    dust_rise: float
    toc_rise: float

    RAMP_UP_S = 60.0
    RAMP_DOWN_S = 90.0

    @classmethod
    def draw(cls, start_ms: int, rng: Random) -> Overcharge:
        return cls(start_ms, rng.uniform(120, 600), rng.uniform(3.0, 5.0), rng.uniform(250, 900),
                   rng.uniform(8, 20), rng.uniform(3, 8), rng.uniform(5, 15))

    def _envelope(self, t_ms: int) -> float:
        age_s = (t_ms - self.start_ms) / 1000.0
        if age_s < 0 or age_s > self.RAMP_UP_S + self.plateau_s + self.RAMP_DOWN_S:
            return 0.0
        if age_s < self.RAMP_UP_S:
            return age_s / self.RAMP_UP_S
        if age_s < self.RAMP_UP_S + self.plateau_s:
            return 1.0
        return 1.0 - (age_s - self.RAMP_UP_S - self.plateau_s) / self.RAMP_DOWN_S

    def apply(self, t_ms: int, values: dict[str, float], phase: Phase) -> None:
        env = self._envelope(t_ms)
        if env <= 0.0:
            return
        _blend(values, "o2", self.o2_low, env)
        values["co"] += self.co_peak * env
        values["opacity"] += self.opacity_rise * env
        values["dust"] += self.dust_rise * env
        values["toc"] += self.toc_rise * env

    def over(self, t_ms: int) -> bool:
        return t_ms - self.start_ms > (self.RAMP_UP_S + self.plateau_s + self.RAMP_DOWN_S) * 1000


@dataclass(frozen=True, slots=True)
class ChargePuff:
    """Every charge: the fresh waste's volatiles outrun the secondary air for a minute, so CO spikes
    (§3: 5-20 mg/Nm3 with spikes above 100) and O2 dips a little. Most puffs stay under 100 (a
    log-normal peak, median 45), about one charge in ten goes over; they never starve the air."""

    start_ms: int
    co_peak: float

    RISE_S = 20.0
    DECAY_S = 45.0
    O2_DIP = 0.8

    @classmethod
    def draw(cls, start_ms: int, rng: Random) -> ChargePuff:
        return cls(start_ms, min(450.0, rng.lognormvariate(math.log(45.0), 0.7)))

    def apply(self, t_ms: int, values: dict[str, float], phase: Phase) -> None:
        age_s = (t_ms - self.start_ms) / 1000.0
        if age_s < 0:
            return
        env = age_s / self.RISE_S if age_s < self.RISE_S else math.exp(-(age_s - self.RISE_S) / self.DECAY_S)
        values["co"] += self.co_peak * env
        values["o2"] -= self.O2_DIP * env

    def over(self, t_ms: int) -> bool:
        return t_ms - self.start_ms > (self.RISE_S + 10 * self.DECAY_S) * 1000


@dataclass(frozen=True, slots=True)
class DoorPuff:
    """Combustible gas flashes as the door opens: draft goes positive for ~20 s, a CO and smoke spike."""

    start_ms: int
    draft_peak_pa: float
    co_peak: float
    opacity_rise: float

    POSITIVE_S = 20.0

    @classmethod
    def draw(cls, start_ms: int, rng: Random) -> DoorPuff:
        return cls(start_ms, rng.uniform(15, 50), rng.uniform(100, 300), rng.uniform(8, 15))

    def apply(self, t_ms: int, values: dict[str, float], phase: Phase) -> None:
        age_s = (t_ms - self.start_ms) / 1000.0
        if age_s < 0:
            return
        draft = 1.0 if age_s <= self.POSITIVE_S else math.exp(-(age_s - self.POSITIVE_S) / 15.0)
        _blend(values, "draft_primary", self.draft_peak_pa, draft)
        spike = math.exp(-age_s / 90.0)
        values["co"] += self.co_peak * spike
        values["opacity"] += self.opacity_rise * spike

    def over(self, t_ms: int) -> bool:
        return t_ms - self.start_ms > 900_000


def _window_weight(window: FaultWindow, t_ms: int, on_tau_s: float, off_tau_s: float) -> float:
    """0 → 1 with `on_tau_s` inside the window, then back toward 0 with `off_tau_s` after it."""
    if t_ms < window.start_ms:
        return 0.0
    inside_s = (min(t_ms, window.end_ms) - window.start_ms) / 1000.0
    weight = -math.expm1(-inside_s / on_tau_s)
    if t_ms >= window.end_ms:
        weight *= math.exp(-(t_ms - window.end_ms) / 1000.0 / off_tau_s)
    return weight


@dataclass(frozen=True, slots=True)
class ScrubberFailure:
    """Caustic dosing fails and the liquor turns acid (pH 4.8-5.6). SO2 needs the alkali to be
    absorbed, so it breaks through (250-450 mg/Nm3); HCl dissolves in plain water and only creeps up
    (+6-15 mg/Nm3) as the acid liquor loses some of its capacity."""

    window: FaultWindow
    ph_low: float
    hcl_rise: float
    so2_peak: float

    @classmethod
    def draw(cls, window: FaultWindow, rng: Random) -> ScrubberFailure:
        return cls(window, rng.uniform(4.8, 5.6), rng.uniform(6, 15), rng.uniform(250, 450))

    def apply(self, t_ms: int, values: dict[str, float], phase: Phase) -> None:
        weight = _window_weight(self.window, t_ms, 300.0, 900.0)
        if weight <= 0.0:
            return
        _blend(values, "scrubber_ph", self.ph_low, weight)
        acid = weight * WASTE_ACTIVITY[phase]
        values["hcl"] += self.hcl_rise * acid
        _blend(values, "so2", self.so2_peak, acid)

    def over(self, t_ms: int) -> bool:
        return t_ms > self.window.end_ms + 15 * 900_000


@dataclass(frozen=True, slots=True)
class ExceedanceDay:
    """Poor waste sorting all day: dust and HCl raised so the daily averages pass 10 mg/Nm3 (EU IED),
    and for two hours around the window's middle a torn demister lets dust through at 60-80 mg/Nm3,
    over the Indonesian (unconfirmed Kep-03/1995) hourly dust limit of 50 too."""

    window: FaultWindow
    dust_rise: float
    hcl_rise: float
    burst_dust: float

    BURST_S = 7200.0

    @classmethod
    def draw(cls, window: FaultWindow, rng: Random) -> ExceedanceDay:
        return cls(window, rng.uniform(14, 18), rng.uniform(12, 16), rng.uniform(60, 80))

    def _in_burst(self, t_ms: int) -> bool:
        middle_ms = (self.window.start_ms + self.window.end_ms) // 2
        return abs(t_ms - middle_ms) < self.BURST_S * 500

    def apply(self, t_ms: int, values: dict[str, float], phase: Phase) -> None:
        weight = _window_weight(self.window, t_ms, 600.0, 600.0) * WASTE_ACTIVITY[phase]
        values["dust"] += (self.burst_dust if self._in_burst(t_ms) else self.dust_rise) * weight
        values["hcl"] += self.hcl_rise * weight

    def over(self, t_ms: int) -> bool:
        return t_ms > self.window.end_ms + 10 * 600_000


def window_effects(faults: list[FaultWindow], seed: int) -> list[Effect]:
    """The process effects of the window faults, each with magnitudes drawn from its own stream."""
    effects: list[Effect] = []
    for index, window in enumerate(faults):
        rng = Random(f"{seed}:window:{index}:{window.name}")
        if window.name == "scrubber_failure":
            effects.append(ScrubberFailure.draw(window, rng))
        elif window.name == "exceedance_day":
            effects.append(ExceedanceDay.draw(window, rng))
    return effects
