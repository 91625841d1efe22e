"""The plant's operating phase (domain.md §8.4) and its discrete controls: burners, ID fan, feed door."""

from __future__ import annotations

from dataclasses import dataclass

from wastewatch.operating_state import OperatingState

Phase = OperatingState  # the simulated plant's true operating state, in the shared vocabulary


HOT_PHASES = frozenset({Phase.PREHEAT, Phase.READY, Phase.BURNING, Phase.BURNOUT})

# How strongly the slow process wander shows in each phase: a cold plant barely moves.
ACTIVITY = {
    Phase.COLD: 0.1,
    Phase.SHUTDOWN: 0.3,
    Phase.PREHEAT: 0.6,
    Phase.READY: 0.6,
    Phase.BURNING: 1.0,
    Phase.BURNOUT: 1.0,
}

# How much acid gas and dust the waste gives off, by phase (scales the emission faults).
WASTE_ACTIVITY = {
    Phase.COLD: 0.0,
    Phase.SHUTDOWN: 0.1,
    Phase.PREHEAT: 0.3,
    Phase.READY: 0.3,
    Phase.BURNING: 1.0,
    Phase.BURNOUT: 1.0,
}


@dataclass(frozen=True, slots=True)
class Controls:
    """The on/off states the PLC reports."""

    burner_primary: bool = False
    burner_secondary: bool = False
    id_fan: bool = False
    feed_door: bool = False

    def as_values(self) -> dict[str, float]:
        return {
            "burner_primary": float(self.burner_primary),
            "burner_secondary": float(self.burner_secondary),
            "id_fan": float(self.id_fan),
            "feed_door": float(self.feed_door),
        }
