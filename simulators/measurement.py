"""From true process values to what each sensor reports: noise, rounding, the instrument's range,
and the instrument faults (flatline, thermocouple open circuit, calibration, analyser drift)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from random import Random

from simulators.scenarios import FaultWindow
from wastewatch.plant import PlantConfig, SensorSpec
from wastewatch.records import SampleStatus

TYPE_K_BURNOUT_C = 1372.0
# molar masses for a ppm reading of a mg/Nm3 channel: mg/Nm3 = ppm x MW / 22.41 (domain.md §2.3)
MOLAR_VOLUME_L = 22.41
MOLAR_MASS_G = {"so2": 64.1, "nox": 46.0, "co": 28.01, "hcl": 36.46}

# (noise standard deviation, decimals) of each known instrument
INSTRUMENTS: dict[str, tuple[float, int]] = {
    "t_primary": (2.0, 1),
    "t_secondary": (2.0, 1),
    "t_stack": (0.3, 1),
    "draft_primary": (1.5, 1),
    "o2": (0.05, 2),
    "co": (0.5, 1),
    "nox": (2.0, 1),
    "so2": (0.5, 1),
    "hcl": (0.2, 2),
    "dust": (0.1, 2),
    "toc": (0.1, 2),
    "flow": (30.0, 0),
    "h2o": (0.1, 2),
    "opacity": (0.1, 2),
    "scrubber_ph": (0.02, 2),
    "scrubber_dp": (0.02, 3),
}


@dataclass(slots=True)
class Instrument:
    """One sensor of the plant catalogue and the instrument faults that hit it."""

    spec: SensorSpec
    noise_sd: float
    decimals: int
    faults: list[tuple[int, FaultWindow]] = field(default_factory=list)
    held: dict[int, float] = field(default_factory=dict)

    @property
    def is_state(self) -> bool:
        return self.spec.quantity == "state"

    def fallback_value(self) -> float:
        """The value of a sensor the process model does not know: the middle of its range."""
        return 0.0 if self.is_state else (self.spec.min + self.spec.max) / 2.0

    def read(self, t_ms: int, true_value: float, rng: Random) -> tuple[float, SampleStatus]:
        """The reported value and its status at `t_ms`."""
        if self.is_state:
            return float(round(true_value)), "valid"
        value = true_value
        status: SampleStatus = "valid"
        for _, window in self.faults:
            if window.name == "analyzer_drift" and window.contains(t_ms):
                value += window.number("rate_per_h") * (t_ms - window.start_ms) / 3_600_000
        value += rng.gauss(0.0, self.noise_sd)
        for index, window in self.faults:
            if not window.contains(t_ms):
                continue
            if window.name == "flatline":
                value = self.held.setdefault(index, self._finish(value))
            elif window.name == "thermocouple_open":
                if window.text("value") == "nan":
                    # what a gateway writes when it passes the transmitter's NaN on: the ingest refuses it
                    return math.nan, "malfunction"
                value = TYPE_K_BURNOUT_C
                status = "malfunction" if window.param("flag") is True else status
            elif window.name == "unit_change":
                value *= MOLAR_VOLUME_L / MOLAR_MASS_G[self.spec.id]
            elif window.name == "cems_calibration":
                value = self._calibration_gas(t_ms, window, rng)
                status = "maintenance"
        return self._finish(value), status

    def _calibration_gas(self, t_ms: int, window: FaultWindow, rng: Random) -> float:
        """Zero gas in the first half of the window, span gas (20 % of range) in the second."""
        span = self.spec.max - self.spec.min
        if t_ms < window.start_ms + (window.end_ms - window.start_ms) // 2:
            return self.spec.min + abs(rng.gauss(0.0, 0.002 * span))
        return self.spec.min + 0.2 * span + rng.gauss(0.0, 0.002 * span)

    def _finish(self, value: float) -> float:
        value = min(max(value, self.spec.min), self.spec.max)
        return round(value, self.decimals)


_INSTRUMENT_FAULTS = ("flatline", "thermocouple_open", "analyzer_drift", "unit_change")


def build_instruments(plant: PlantConfig, faults: list[FaultWindow]) -> dict[str, Instrument]:
    """An instrument per catalogue sensor, each with the fault windows aimed at it."""
    instruments: dict[str, Instrument] = {}
    for spec in plant.sensors:
        noise_sd, decimals = INSTRUMENTS.get(spec.id, (0.002 * (spec.max - spec.min), 2))
        instruments[spec.id] = Instrument(spec, noise_sd, decimals)
    for index, window in enumerate(faults):
        if window.name in _INSTRUMENT_FAULTS:
            target = window.text("sensor")
            if target not in instruments:
                raise ValueError(f"fault {window.name}: sensor {target!r} is not in plant {plant.id}'s catalogue")
            if window.name == "unit_change" and target not in MOLAR_MASS_G:
                raise ValueError(f"fault unit_change: sensor {target!r} is not a gas with a molar mass ({', '.join(MOLAR_MASS_G)})")
            instruments[target].faults.append((index, window))
        elif window.name == "cems_calibration":
            for instrument in instruments.values():
                if instrument.spec.cems:
                    instrument.faults.append((index, window))
    return instruments
