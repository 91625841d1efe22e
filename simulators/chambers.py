"""The two combustion chambers as heat balances, and the secondary burner's controller.

Each chamber has a gas node that answers its heat input within a minute or two and a refractory
node that stores heat for hours: the gas leans toward the wall temperature plus what the burner and
the burning waste add, the wall toward the gas, and the wall loses heat through the casing. So a
cold chamber takes about an hour of burner to reach its temperature, a charge shows within a
minute, a tripped burner lets the gas fall by several degrees a minute, and a chamber switched off
at night cools over hours. Heat input is in degC of gas rise (what it would add at a steady wall),
which keeps the model to a handful of numbers ([A] throughout, tuned to domain.md §3-4).

The secondary burner modulates: a PI controller holds the gas at `SECONDARY_SETPOINT_C`, far enough
above the P.56 1000 degC that the charges and the waste's varying heating value (the noise, inside
the loop) never take a healthy plant below it. The primary burner is on/off, switched by the
operator (operation.py) on the measured primary temperature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

AMBIENT_C = 28.0
SECONDARY_SETPOINT_C = 1075.0  # [A] 75 degC above P.56 Ps.22(1)c; §3 "typically 980-1095"


@dataclass(frozen=True, slots=True)
class ChamberDesign:
    """How one chamber stores and passes heat."""

    gas_tau_s: float  # the gas answers a change of heat input this fast
    wall_tau_s: float  # gas-to-refractory exchange
    loss_tau_s: float  # refractory to the surroundings, through the casing
    air_share_fan: float  # with the fan drawing air through, the gas keeps this share of the wall's heat
    air_share_still: float  # with the fan stopped the gas stagnates at nearly the wall's temperature
    burner_c: float  # the gas rise at full fire
    waste_c: float  # the gas rise at the nominal waste load (1.0)
    door_c: float  # the cold air an open feed door lets in, as a (negative) gas rise


PRIMARY = ChamberDesign(300.0, 1800.0, 36_000.0, 0.8, 0.97, burner_c=400.0, waste_c=165.0, door_c=-45.0)
SECONDARY = ChamberDesign(90.0, 1800.0, 36_000.0, 0.8, 0.97, burner_c=420.0, waste_c=120.0, door_c=-90.0)


class Chamber:
    """The gas and refractory temperatures of one chamber."""

    def __init__(self, design: ChamberDesign, gas_c: float = AMBIENT_C, wall_c: float = AMBIENT_C) -> None:
        self.design = design
        self.gas_c = gas_c
        self.wall_c = wall_c

    def advance(self, dt_s: float, heat_c: float, fan: bool) -> None:
        d = self.design
        share = d.air_share_fan if fan else d.air_share_still
        settled_c = AMBIENT_C + share * (self.wall_c - AMBIENT_C) + heat_c
        self.gas_c += (settled_c - self.gas_c) * -math.expm1(-dt_s / d.gas_tau_s)
        # the refractory is hours slow, so an explicit step of up to a minute is exact enough
        self.wall_c += dt_s * ((self.gas_c - self.wall_c) / d.wall_tau_s - (self.wall_c - AMBIENT_C) / d.loss_tau_s)


@dataclass(slots=True)
class BurnerController:
    """PI control of the secondary burner's firing rate (0..1) on the chamber's gas temperature, with
    a minimum fire while lit and a modulating motor that takes `stroke_s` from low to full fire."""

    setpoint_c: float = SECONDARY_SETPOINT_C
    gain_per_c: float = 1.0 / 100.0
    reset_s: float = 300.0
    min_fire: float = 0.1
    stroke_s: float = 120.0
    fire: float = 0.0
    _integral: float = 0.0

    def advance(self, dt_s: float, gas_c: float, lit: bool) -> float:
        """The firing rate after `dt_s` at `gas_c`; 0 while the burner is out (it relights at low fire)."""
        if not lit:
            self.fire, self._integral = 0.0, self.min_fire
            return 0.0
        error = self.setpoint_c - gas_c
        proportional = self.gain_per_c * error
        unclamped = proportional + self._integral
        # anti-windup: no integrating further into a limit the burner already sits at
        if (unclamped < 1.0 or error < 0) and (unclamped > self.min_fire or error > 0):
            self._integral = min(max(self._integral + self.gain_per_c * error * dt_s / self.reset_s, 0.0), 1.0)
        wanted = min(max(proportional + self._integral, self.min_fire), 1.0)
        if self.fire <= 0.0:
            self.fire = self.min_fire  # a burner lights at low fire
        travel = dt_s / self.stroke_s
        self.fire = min(max(wanted, self.fire - travel), self.fire + travel)
        return self.fire
