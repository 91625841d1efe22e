"""The plant's operating state (domain.md §8.4), derived from its signals by a pure state machine.

States: COLD → PREHEAT → READY → BURNING → BURNOUT → SHUTDOWN → COLD. `next_state` makes at most one
step per call (call it again until it returns None); the first matching rule below wins:

- any state but BURNING → BURNING: a batch was fed since the state was entered. Waste in the
  chamber is a physical fact, permitted or not; the feed interlock rule judges the permit.
- COLD, SHUTDOWN → PREHEAT: a burner is on.
- PREHEAT → READY: `t_secondary` has held >= `secondary_min_c` (P.56 Ps.22(1)c, 1000 °C [C]) for
  `hold_s` (Québec: 15 min [C] S22) and, with `ready_requires_primary`, `t_primary` >=
  `primary_min_c` (P.56 Ps.22(1)b, 800 °C [C]).
- PREHEAT, READY → SHUTDOWN: both burners are off (start-up abandoned).
- READY → PREHEAT: `t_secondary` fell below `secondary_min_c` before any feed; the hold restarts.
- BURNING → BURNOUT: no batch for `burnout_after_s` ([A]; two batch intervals of 15 min).
- BURNOUT → SHUTDOWN: both burners are off and `t_secondary` < `secondary_min_c`. (A burner trip
  during burn-out looks the same; only the operator can tell them apart.)
- SHUTDOWN → COLD: both chamber temperatures are below `cold_below_c` ([A]).

A missing signal (never reported) satisfies no rule. All timers run on `now_ms`, the worker's clock.
The ID fan is tracked for the rules ("ID fan stopped while not cold") but gates no transition: the
burner management system already refuses to fire a burner without it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from wastewatch.operating_state import OperatingState as OperatingState  # re-exported for alerts modules
from wastewatch.records import Batch, Reading
from wastewatch.store.base import Point

PLANT_STATE = "plant_state"  # the measurement: Grafana annotations, compliance timeline, API


class PlantStateConfig(BaseModel):
    """Thresholds and sensor ids of the state machine; a plant's rule file may override each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secondary_min_c: float = Field(default=1000.0, description="P.56/2015 Ps.22(1)c [C]")
    primary_min_c: float = Field(default=800.0, description="P.56/2015 Ps.22(1)b [C]")
    hold_s: float = Field(default=900.0, ge=0, description="secondary at minimum before READY; Québec 15 min [C] S22")
    ready_requires_primary: bool = True
    cold_below_c: float = Field(default=200.0, description="[A] both chambers below this is COLD")
    burnout_after_s: float = Field(default=1800.0, gt=0, description="[A] no batch for this long ends BURNING")
    t_primary_sensor: str = "t_primary"
    t_secondary_sensor: str = "t_secondary"
    burner_primary_sensor: str = "burner_primary"
    burner_secondary_sensor: str = "burner_secondary"
    id_fan_sensor: str = "id_fan"


class PlantSignals(BaseModel):
    """The latest value of each signal the state machine reads, folded in by `observe_signal`."""

    t_primary_c: float | None = None
    t_secondary_c: float | None = None
    burner_primary_on: bool | None = None
    burner_secondary_on: bool | None = None
    id_fan_on: bool | None = None
    last_batch_ms: int | None = None
    secondary_hot_since_ms: int | None = Field(default=None, description="since when t_secondary >= secondary_min_c, unbroken")

    @property
    def any_burner_on(self) -> bool:
        return bool(self.burner_primary_on) or bool(self.burner_secondary_on)

    @property
    def burners_off(self) -> bool:
        return self.burner_primary_on is False and self.burner_secondary_on is False


class PlantState(BaseModel):
    """Where the plant is, since when, and the compliance engine's flag (it fills it; False until then).

    Passed to `alerts.evaluate` as the observation "the plant state changed".
    """

    plant: str
    operating: OperatingState
    since_ms: int
    emission_limit_exceeded: bool = False


class PlantStateTransition(BaseModel):
    """A past fact: the plant went from one operating state to another, and why."""

    model_config = ConfigDict(frozen=True)

    plant: str
    from_state: OperatingState
    to_state: OperatingState
    at_ms: int
    reason: str

    def apply(self, state: PlantState) -> PlantState:
        return state.model_copy(update={"operating": self.to_state, "since_ms": self.at_ms})


def state_point(transition: PlantStateTransition) -> Point:
    """The transition as the time-series store keeps it (`plant_state`)."""
    return Point(
        PLANT_STATE,
        {"plant": transition.plant},
        {"state": transition.to_state.value, "from_state": transition.from_state.value, "reason": transition.reason},
        transition.at_ms,
    )


def observe_signal(signals: PlantSignals, record: Reading | Batch, now_ms: int, config: PlantStateConfig) -> PlantSignals:
    """The signals after one reading or batch; readings of other sensors and invalid samples change nothing."""
    if isinstance(record, Batch):
        return signals.model_copy(update={"last_batch_ms": now_ms})
    if record.status != "valid":
        return signals
    on = record.value >= 0.5
    sensor = record.sensor
    if sensor == config.t_primary_sensor:
        return signals.model_copy(update={"t_primary_c": record.value})
    if sensor == config.t_secondary_sensor:
        hot = record.value >= config.secondary_min_c
        since = (signals.secondary_hot_since_ms or now_ms) if hot else None
        return signals.model_copy(update={"t_secondary_c": record.value, "secondary_hot_since_ms": since})
    if sensor == config.burner_primary_sensor:
        return signals.model_copy(update={"burner_primary_on": on})
    if sensor == config.burner_secondary_sensor:
        return signals.model_copy(update={"burner_secondary_on": on})
    if sensor == config.id_fan_sensor:
        return signals.model_copy(update={"id_fan_on": on})
    return signals


def next_state(
    state: PlantState, signals: PlantSignals, now_ms: int, config: PlantStateConfig | None = None
) -> PlantStateTransition | None:
    """The one transition the signals call for now, or None when the plant stays where it is."""
    cfg = config or PlantStateConfig()
    found = _step(state, signals, now_ms, cfg)
    if found is None:
        return None
    to_state, reason = found
    return PlantStateTransition(plant=state.plant, from_state=state.operating, to_state=to_state, at_ms=now_ms, reason=reason)


def _step(state: PlantState, s: PlantSignals, now_ms: int, cfg: PlantStateConfig) -> tuple[OperatingState, str] | None:
    current = state.operating
    fed = s.last_batch_ms is not None and s.last_batch_ms >= state.since_ms
    if current != OperatingState.BURNING and fed:
        return OperatingState.BURNING, "batch fed"
    if current in (OperatingState.COLD, OperatingState.SHUTDOWN) and s.any_burner_on:
        return OperatingState.PREHEAT, "burner on"
    if current == OperatingState.PREHEAT and _held(s, now_ms, cfg) and _primary_ready(s, cfg):
        return OperatingState.READY, f"t_secondary >= {cfg.secondary_min_c:g} degC for {cfg.hold_s:g} s"
    if current in (OperatingState.PREHEAT, OperatingState.READY) and s.burners_off:
        return OperatingState.SHUTDOWN, "burners off"
    if current == OperatingState.READY and s.t_secondary_c is not None and s.t_secondary_c < cfg.secondary_min_c:
        return OperatingState.PREHEAT, f"t_secondary below {cfg.secondary_min_c:g} degC before feeding"
    if current == OperatingState.BURNING and now_ms - (s.last_batch_ms or state.since_ms) >= cfg.burnout_after_s * 1000:
        return OperatingState.BURNOUT, f"no batch for {cfg.burnout_after_s:g} s"
    if current == OperatingState.BURNOUT and s.burners_off and _below(s.t_secondary_c, cfg.secondary_min_c):
        return OperatingState.SHUTDOWN, f"burners off, t_secondary below {cfg.secondary_min_c:g} degC"
    if current == OperatingState.SHUTDOWN and _below(s.t_secondary_c, cfg.cold_below_c) and _below(s.t_primary_c, cfg.cold_below_c):
        return OperatingState.COLD, f"both chambers below {cfg.cold_below_c:g} degC"
    return None


def _held(s: PlantSignals, now_ms: int, cfg: PlantStateConfig) -> bool:
    return s.secondary_hot_since_ms is not None and now_ms - s.secondary_hot_since_ms >= cfg.hold_s * 1000


def _primary_ready(s: PlantSignals, cfg: PlantStateConfig) -> bool:
    return not cfg.ready_requires_primary or (s.t_primary_c is not None and s.t_primary_c >= cfg.primary_min_c)


def _below(value: float | None, limit: float) -> bool:
    return value is not None and value < limit


def settle(
    state: PlantState, signals: PlantSignals, now_ms: int, config: PlantStateConfig | None = None
) -> tuple[PlantState, list[PlantStateTransition]]:
    """Apply `next_state` until the plant stays put (a batch into a cold plant takes two steps)."""
    transitions: list[PlantStateTransition] = []
    for _ in range(len(OperatingState)):
        transition = next_state(state, signals, now_ms, config)
        if transition is None:
            break
        transitions.append(transition)
        state = transition.apply(state)
    return state, transitions
