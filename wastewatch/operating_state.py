"""The plant's operating states (domain notes §8.4), shared by the simulator, alerts and compliance.

COLD → PREHEAT → READY (feed permitted) → BURNING → BURNOUT → SHUTDOWN → COLD. The alert worker
derives the state from the signals; the compliance engine counts effective operating time from it;
the simulator drives its plant through the same states.
"""

from __future__ import annotations

from enum import StrEnum


class OperatingState(StrEnum):
    COLD = "cold"
    PREHEAT = "preheat"
    READY = "ready"
    BURNING = "burning"
    BURNOUT = "burnout"
    SHUTDOWN = "shutdown"
