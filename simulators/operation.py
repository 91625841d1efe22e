"""The operator and the PLC: phase transitions (domain.md §8.4), burner and fan control, and feeding.

Feeding is gated the way P.56 and the Québec rule require, on what the PLC *measures* (the readings
as published, noise included), since that is all the operator and the alert rules can see: no batch
until the measured secondary has held >= 1000 degC for the hold time, and none while it reads below
1000 degC, the primary reads below 800 degC (plus a margin), the secondary burner is out or the ID fan
is stopped. The primary burner's controller keeps the primary above 800 degC while burning.
The `startup_feed` fault is the one deliberate breach of that interlock (at start-up: the first batch
charged as the primary reads 800 degC, before the secondary has held 1000 degC); the other batch faults
(wet, oversized, door puff) change the first batch fed inside their window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from random import Random
from typing import Literal

from simulators.plant_state import HOT_PHASES, Controls, Phase
from simulators.scenarios import FaultWindow
from simulators.schedule import OperatingSchedule

FeedKind = Literal["normal", "wet", "overcharge", "door_puff", "startup"]
SECONDARY_MIN_C = 1000.0
PRIMARY_MIN_C = 800.0
# no batch on a primary below the burner's band: the open door's cold air costs the chamber ~20 degC
PRIMARY_FEED_MARGIN_C = 25.0
# The auxiliary burner's band sits above the legal 800 degC, so the chamber stays above it while
# burning: lit 40 degC above the minimum (the gas keeps falling for a sample or two after the PLC
# sees it low, ~10 degC a sample with the flame out), out again 70 degC above it. The same band
# heats the cold chamber at start-up.
PRIMARY_BURNER_ON_C = 840.0
PRIMARY_BURNER_OFF_C = 870.0
# [A] At start-up the operator charges the first batch a few minutes after the hold is complete, not
# on the second it completes: 3-10 min, drawn at each start-up, never less than the hold.
FIRST_BATCH_MARGIN_S = (180.0, 600.0)
# What the operator's feed permit and the primary burner controller read: the PLC's measurements.
PLC_INPUTS = ("t_primary", "t_secondary", "burner_secondary", "id_fan")
# the ID fan stops once the secondary reads this: the stagnant gas then warms toward the refractory
COLD_BELOW_C = 150.0
DOOR_OPEN_MS = 40_000
_FORCED_KINDS: dict[str, FeedKind] = {
    "wet_batch": "wet",
    "overcharge": "overcharge",
    "door_puff": "door_puff",
    "startup_feed": "startup",
}


@dataclass(frozen=True, slots=True)
class Feed:
    """A batch charged at `t_ms`, and how it differs from a normal one."""

    t_ms: int
    mass_kg: float
    kind: FeedKind


class Operator:
    """Runs the plant through its phases and decides when to charge a batch."""

    def __init__(
        self, schedule: OperatingSchedule, faults: list[FaultWindow], rng: Random, *, sample_period_s: float = 10.0
    ) -> None:
        self._schedule = schedule
        self._rng = rng
        self._trips = [f for f in faults if f.name == "burner_trip"]
        self._fan_failures = [f for f in faults if f.name == "id_fan_failure"]
        self._forced = [f for f in faults if f.name in _FORCED_KINDS]
        self._fired: set[int] = set()
        self.phase = Phase.COLD
        self.controls = Controls()
        self._hold_since_ms: int | None = None
        self._next_batch_ms = 0
        self._door_until_ms = 0
        self._primary_burner_on = False
        self._measured: dict[str, float] = {}
        self._measured_hot_since_ms: int | None = None
        self._measured_hold_done = False
        self._rule_hold_done = False
        # The hold is judged one sample late: the reading that completes it must be out before the batch.
        self._hold_base_ms = round((schedule.hold_s + sample_period_s) * 1000)
        self._hold_ms = self._hold_base_ms + round(rng.uniform(*FIRST_BATCH_MARGIN_S) * 1000)

    def observe(self, t_ms: int, sensor_id: str, value: float) -> None:
        """A valid reading of a PLC input, as the instrument reported it at `t_ms`."""
        if sensor_id not in PLC_INPUTS:
            return
        self._measured[sensor_id] = value
        if sensor_id == "t_secondary":
            if value < SECONDARY_MIN_C:
                self._measured_hot_since_ms = None
            elif self._measured_hot_since_ms is None:
                self._measured_hot_since_ms = t_ms

    def update(self, t_ms: int, local: datetime, values: dict[str, float]) -> Feed | None:
        """Advance the phase to `t_ms` given the true process values, and the controls given the
        measured ones; maybe charge a batch."""
        self._advance_phase(t_ms, local, values["t_secondary"])
        hot_since_ms = self._measured_hot_since_ms
        if hot_since_ms is not None and t_ms - hot_since_ms >= self._hold_ms:
            self._measured_hold_done = True
        # what the alert rules count: the start-up hold alone, without the operator's few minutes
        if hot_since_ms is not None and t_ms - hot_since_ms >= self._hold_base_ms:
            self._rule_hold_done = True
        self._set_controls(t_ms)
        feed = self._feed(t_ms)
        if feed is not None:
            self._door_until_ms = t_ms + DOOR_OPEN_MS
            self._set_controls(t_ms)
        return feed

    def _advance_phase(self, t_ms: int, local: datetime, t_secondary: float) -> None:
        hot, feeding = self._schedule.hot(local), self._schedule.feeding(local)
        phase = self.phase
        if phase in (Phase.COLD, Phase.SHUTDOWN) and hot:
            phase, self._hold_since_ms = Phase.PREHEAT, None
            # every start-up holds the secondary again, counted from a reading after the start
            self._measured_hot_since_ms, self._measured_hold_done, self._rule_hold_done = None, False, False
            self._hold_ms = self._hold_base_ms + round(self._rng.uniform(*FIRST_BATCH_MARGIN_S) * 1000)
        elif phase == Phase.SHUTDOWN and t_secondary < COLD_BELOW_C:
            phase = Phase.COLD
        elif phase in (Phase.PREHEAT, Phase.READY) and not hot:
            phase = Phase.SHUTDOWN
        elif phase == Phase.PREHEAT:
            if t_secondary < SECONDARY_MIN_C:
                self._hold_since_ms = None
            elif self._hold_since_ms is None:
                self._hold_since_ms = t_ms
            elif t_ms - self._hold_since_ms >= self._schedule.hold_s * 1000:
                phase = Phase.READY
        elif phase == Phase.READY:
            if t_secondary < SECONDARY_MIN_C:
                phase, self._hold_since_ms = Phase.PREHEAT, None
            elif feeding:
                phase, self._next_batch_ms = Phase.BURNING, t_ms
        elif phase == Phase.BURNING and not feeding:
            phase = Phase.BURNOUT
        elif phase == Phase.BURNOUT and feeding:
            phase = Phase.BURNING
        elif phase == Phase.BURNOUT and not hot:
            phase = Phase.SHUTDOWN
        self.phase = phase

    def _set_controls(self, t_ms: int) -> None:
        t_primary = self._measured.get("t_primary", -math.inf)
        tripped = {f.text("burner") for f in self._trips if f.contains(t_ms)}
        fan = self.phase != Phase.COLD and not any(f.contains(t_ms) for f in self._fan_failures)
        hot = self.phase in HOT_PHASES
        if self.phase in HOT_PHASES:
            if t_primary < PRIMARY_BURNER_ON_C:
                self._primary_burner_on = True
            elif t_primary > PRIMARY_BURNER_OFF_C:
                self._primary_burner_on = False
        else:
            self._primary_burner_on = False
        primary_tripped = bool(tripped & {"primary", "both"})
        secondary_tripped = bool(tripped & {"secondary", "both"})
        # the burner management system will not fire a burner without the ID fan running
        self.controls = Controls(
            burner_primary=self._primary_burner_on and fan and not primary_tripped,
            burner_secondary=hot and fan and not secondary_tripped,
            id_fan=fan,
            feed_door=t_ms < self._door_until_ms,
        )

    def feed_permitted(self) -> bool:
        """Whether the PLC permits a batch now: the burner and fan it drives run, and the last
        readings it published say so too (the alert rules judge the batch on those)."""
        c, m = self.controls, self._measured
        return (
            self.phase == Phase.BURNING
            and c.burner_secondary
            and c.id_fan
            and self._measured_hold_done
            and m.get("t_secondary", -math.inf) >= SECONDARY_MIN_C
            and m.get("t_primary", -math.inf) >= PRIMARY_MIN_C + PRIMARY_FEED_MARGIN_C
            and m.get("burner_secondary", 0.0) >= 0.5
            and m.get("id_fan", 0.0) >= 0.5
        )

    def _feed(self, t_ms: int) -> Feed | None:
        """The next scheduled batch when feeding is permitted; a batch fault changes that batch.
        `startup_feed` instead charges one batch at the first moment feeding is *not* permitted."""
        permitted = self.feed_permitted()
        breach = self._breach()
        for index, window in enumerate(self._forced):
            if index in self._fired or not window.contains(t_ms):
                continue
            kind = _FORCED_KINDS[window.name]
            if (kind == "startup" and breach) or (kind != "startup" and permitted and t_ms >= self._next_batch_ms):
                self._fired.add(index)
                return self._charge(t_ms, kind)
        if permitted and t_ms >= self._next_batch_ms:
            return self._charge(t_ms, "normal")
        return None

    def _breach(self) -> bool:
        """Whether a batch now breaks the interlock as the rules judge it, on their own thresholds
        (the operator's margins above them are no breach): at start-up, a batch as the primary reads
        800 degC before the hold is complete; later, one while the secondary reads under 1000 degC, the
        primary under 800 degC or the secondary burner is out."""
        c, m = self.controls, self._measured
        if self.phase not in HOT_PHASES or not c.id_fan:
            return False
        primary, secondary = m.get("t_primary", -math.inf), m.get("t_secondary", -math.inf)
        if self.phase in (Phase.PREHEAT, Phase.READY):
            return primary >= PRIMARY_MIN_C and not self._rule_hold_done
        return not self._rule_hold_done or not c.burner_secondary or secondary < SECONDARY_MIN_C or primary < PRIMARY_MIN_C

    def _charge(self, t_ms: int, kind: FeedKind) -> Feed:
        plan = self._schedule.batches
        rng = self._rng
        jitter_s = max(-2 * plan.interval_jitter_s, min(2 * plan.interval_jitter_s, rng.gauss(0, plan.interval_jitter_s)))
        self._next_batch_ms = t_ms + round((plan.interval_s + jitter_s) * 1000)
        spread = plan.mass_spread_kg
        mass_kg = max(plan.mass_kg - spread, min(plan.mass_kg + spread, rng.gauss(plan.mass_kg, spread / 2)))
        if kind == "overcharge":
            mass_kg = plan.mass_kg * rng.uniform(1.7, 2.1)
        return Feed(t_ms, mass_kg, kind)
