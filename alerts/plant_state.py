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
- BURNOUT → SHUTDOWN: `burnout_duration_s` has passed since the last batch (the waste has burnt
  out, [A]) and both burners are off. Burners that trip with waste in the chamber are not a
  shut-down: the plant stays in BURNOUT, P.56 keeps applying, and relit burners are no start-up.
- SHUTDOWN → COLD: both chamber temperatures are below `cold_below_c` ([A]).

A missing signal (never reported) satisfies no rule. The start-up hold is judged on the readings'
own timestamps (deterministic, whatever the worker's clock did between them); the burn-out timers
run on `now_ms`, the worker's clock, against the last batch's own time.

A worker that starts watching a plant mid-operation (first start, restart after a long stop, lease
takeover) does not assume COLD: `seed_state` places the plant from its first signals (a hot
chamber with a burner on is already running, its start-up hold done; the worker cannot have
watched it). The ID fan is tracked for the rules but gates no transition: the burner management
system already refuses to fire a burner without it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from wastewatch.operating_state import OperatingState as OperatingState  # re-exported for alerts modules
from wastewatch.points import Point
from wastewatch.records import PLANT_STATE, Batch, Reading


class PlantStateConfig(BaseModel):
    """Thresholds and sensor ids of the state machine; a plant's rule file may override each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secondary_min_c: float = Field(default=1000.0, description="P.56/2015 Ps.22(1)c [C]")
    primary_min_c: float = Field(default=800.0, description="P.56/2015 Ps.22(1)b [C]")
    hold_s: float = Field(default=900.0, ge=0, description="secondary at minimum before READY; Québec 15 min [C] S22")
    ready_requires_primary: bool = True
    cold_below_c: float = Field(default=200.0, description="[A] both chambers below this is COLD")
    burnout_after_s: float = Field(default=1800.0, gt=0, description="[A] no batch for this long ends BURNING")
    burnout_duration_s: float = Field(
        default=3600.0, gt=0, description="[A] waste may be present this long after the last batch; no shut-down before"
    )
    seed_wait_s: float = Field(default=60.0, gt=0, description="[A] seed from what is known after this long")
    reseed_after_s: float = Field(
        default=900.0, gt=0, description="[A] a plant not heard from for this long is seeded afresh (a hold unwatched)"
    )
    t_primary_sensor: str = "t_primary"
    t_secondary_sensor: str = "t_secondary"
    burner_primary_sensor: str = "burner_primary"
    burner_secondary_sensor: str = "burner_secondary"
    id_fan_sensor: str = "id_fan"

    @property
    def sensors(self) -> frozenset[str]:
        return frozenset((self.t_primary_sensor, self.t_secondary_sensor, self.burner_primary_sensor,
                          self.burner_secondary_sensor, self.id_fan_sensor))


class PlantSignals(BaseModel):
    """The latest value of each signal the state machine reads, folded in by `observe_signal`."""

    t_primary_c: float | None = None
    t_secondary_c: float | None = None
    burner_primary_on: bool | None = None
    burner_secondary_on: bool | None = None
    id_fan_on: bool | None = None
    last_batch_ms: int | None = Field(default=None, description="data time of the last batch")
    batch_seen_ms: int | None = Field(default=None, description="worker time the last batch was handled")
    t_secondary_ms: int | None = Field(default=None, description="data time of the latest t_secondary reading")
    data_ms: int | None = Field(default=None, description="the newest data time of any reading folded in")
    secondary_hot_since_ms: int | None = Field(
        default=None, description="data time since which t_secondary >= secondary_min_c, unbroken"
    )

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
    seeded: bool = Field(default=False, description="placed from the signals mid-operation, not watched into it")


class PlantStateTransition(BaseModel):
    """A past fact: the plant went from one operating state to another, and why."""

    model_config = ConfigDict(frozen=True)

    plant: str
    from_state: OperatingState
    to_state: OperatingState
    at_ms: int
    reason: str
    seeded: bool = False

    def apply(self, state: PlantState) -> PlantState:
        return state.model_copy(update={"operating": self.to_state, "since_ms": self.at_ms, "seeded": self.seeded})

    def as_state(self) -> PlantState:
        """The state this transition enters, for a plant with no state before it (a seed)."""
        return PlantState(plant=self.plant, operating=self.to_state, since_ms=self.at_ms, seeded=self.seeded)


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
        last = max(record.time_ms, signals.last_batch_ms or record.time_ms)
        return signals.model_copy(update={"last_batch_ms": last, "batch_seen_ms": now_ms})
    if record.status != "valid":
        return signals
    sensor = record.sensor
    if sensor not in config.sensors:
        return signals
    if signals.data_ms is None or record.time_ms > signals.data_ms:
        signals = signals.model_copy(update={"data_ms": record.time_ms})
    on = record.value >= 0.5
    if sensor == config.t_primary_sensor:
        return signals.model_copy(update={"t_primary_c": record.value})
    if sensor == config.t_secondary_sensor:
        if signals.t_secondary_ms is not None and record.time_ms <= signals.t_secondary_ms:
            return signals  # a late or repeated reading: the hold is judged on the data's own order
        hot = record.value >= config.secondary_min_c
        since = (signals.secondary_hot_since_ms or record.time_ms) if hot else None
        return signals.model_copy(
            update={"t_secondary_c": record.value, "t_secondary_ms": record.time_ms, "secondary_hot_since_ms": since}
        )
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
    fed = s.batch_seen_ms is not None and s.batch_seen_ms >= state.since_ms
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
    since_batch_ms = now_ms - (s.last_batch_ms or state.since_ms)
    if current == OperatingState.BURNING and since_batch_ms >= cfg.burnout_after_s * 1000:
        return OperatingState.BURNOUT, f"no batch for {cfg.burnout_after_s:g} s"
    if current == OperatingState.BURNOUT and s.burners_off and since_batch_ms >= cfg.burnout_duration_s * 1000:
        return OperatingState.SHUTDOWN, f"burn-out time ({cfg.burnout_duration_s:g} s since the last batch) over, burners off"
    if current == OperatingState.SHUTDOWN and _below(s.t_secondary_c, cfg.cold_below_c) and _below(s.t_primary_c, cfg.cold_below_c):
        return OperatingState.COLD, f"both chambers below {cfg.cold_below_c:g} degC"
    return None


def _held(s: PlantSignals, now_ms: int, cfg: PlantStateConfig) -> bool:
    # on the data's own clock: the newest reading's time against the first hot reading's
    hot_since, latest = s.secondary_hot_since_ms, s.data_ms
    return hot_since is not None and latest is not None and latest - hot_since >= cfg.hold_s * 1000


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


def seed_state(
    plant: str, signals: PlantSignals, now_ms: int, watching_since_ms: int, config: PlantStateConfig | None = None
) -> PlantStateTransition | None:
    """Where a plant already is when the worker starts watching it, from its first signals; None until
    both chamber temperatures and both burners are known (or a batch is seen), or `seed_wait_s` passed.

    A batch, or a hot chamber (both at their P.56 minimums) with a burner on, is a plant already
    running: BURNING, its start-up hold taken as done. Hot with the burners off is a plant shutting
    down; a burner on in a chamber still short of its minimums is a start-up (the hold counts from the
    worker's first hot reading); otherwise COLD when both chambers are cold, else SHUTDOWN.
    """
    cfg = config or PlantStateConfig()
    s = signals
    known = None not in (s.t_primary_c, s.t_secondary_c, s.burner_primary_on, s.burner_secondary_on)
    if s.batch_seen_ms is None and not known and now_ms - watching_since_ms < cfg.seed_wait_s * 1000:
        return None
    hot = s.t_secondary_c is not None and s.t_secondary_c >= cfg.secondary_min_c and _primary_ready(s, cfg)
    if s.batch_seen_ms is not None:
        to_state, reason = OperatingState.BURNING, "seeded: a batch fed"
    elif hot and s.any_burner_on:
        to_state, reason = OperatingState.BURNING, "seeded: chambers hot, a burner on (already running)"
    elif hot:
        to_state, reason = OperatingState.SHUTDOWN, "seeded: chambers hot, burners off"
    elif s.any_burner_on:
        to_state, reason = OperatingState.PREHEAT, "seeded: a burner on, chambers below their minimums"
    elif all(t < cfg.cold_below_c for t in (s.t_primary_c, s.t_secondary_c) if t is not None):
        to_state, reason = OperatingState.COLD, f"seeded: the chambers known are below {cfg.cold_below_c:g} degC"
    else:
        to_state, reason = OperatingState.SHUTDOWN, "seeded: burners off, chambers warm"
    return PlantStateTransition(plant=plant, from_state=to_state, to_state=to_state, at_ms=now_ms, reason=reason, seeded=True)
