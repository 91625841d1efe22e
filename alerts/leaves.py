"""How each condition kind reads one observation: it updates its own leaf state and says whether a
discrete occurrence happened (a jump, a crossing, a violating batch, an offline report).

These functions change the leaf state they are given (the engine's own, or a private copy from
`alerts.evaluate`): they assign new lists and dicts, never change the old ones in place, as a
caller of `evaluate` still shares them.
Timers use `now_ms`; rates, flatline windows and the feed interlock's start-up hold use data
timestamps, which the physics needs (and a hold judged on data must come out the same every run).
Samples whose status is not `valid` (maintenance, malfunction) are excluded from value conditions,
as EN 17255 excludes them from averages, but still count as data for `no_data`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alerts.conditions import (
    ChargeRate,
    FeedInterlock,
    Flatline,
    Leaf,
    NoData,
    RateOfChange,
    Repeating,
    Threshold,
    Trend,
    compare,
    leaf_sensors,
)
from alerts.observations import Observation
from alerts.plant_state import OperatingState, PlantState
from alerts.rule_state import (
    ChargeState,
    FlatlineState,
    InterlockState,
    LeafState,
    NoDataState,
    RateState,
    RepeatingState,
    ThresholdState,
    TrendState,
)
from wastewatch.records import Batch, DeviceStatus, Reading

_RESTART_STATES = (OperatingState.COLD, OperatingState.SHUTDOWN)
_RUNNING_STATES = (OperatingState.READY, OperatingState.BURNING, OperatingState.BURNOUT)


@dataclass(slots=True)
class LeafContext:
    """What a leaf may know beyond its own state."""

    now_ms: int
    active: bool
    bound_sensor: str | None
    previous_plant_state: OperatingState | None
    emission_limit_exceeded: bool


def new_leaf_state(leaf: Leaf, now_ms: int) -> LeafState:
    if isinstance(leaf, Threshold):
        return ThresholdState()
    if isinstance(leaf, NoData):
        return NoDataState(watch_since_ms=now_ms)
    if isinstance(leaf, Flatline):
        return FlatlineState()
    if isinstance(leaf, RateOfChange):
        return RateState()
    if isinstance(leaf, Repeating):
        return RepeatingState()
    if isinstance(leaf, Trend):
        return TrendState()
    if isinstance(leaf, ChargeRate):
        return ChargeState()
    return InterlockState()


Fold = Callable[[Any, Any, Observation, LeafContext], bool]


def observe(leaf: Leaf, state: LeafState, obs: Observation, ctx: LeafContext) -> bool:
    """Fold `obs` into `state`; True when it was a new discrete occurrence of the condition."""
    state_type, fold = _FOLDS[type(leaf)]
    if type(state) is not state_type:
        raise TypeError(f"state {state.kind!r} does not belong to a {leaf.kind!r} condition")
    return fold(leaf, state, obs, ctx)


def _fresh(obs: Observation, sensor: str | None, last_time_ms: int | None) -> Reading | None:
    """A valid reading of `sensor` newer than the last one used (duplicates and late ones are dropped)."""
    if not isinstance(obs, Reading) or obs.sensor != sensor or obs.status != "valid":
        return None
    if last_time_ms is not None and obs.time_ms <= last_time_ms:
        return None
    return obs


def _threshold(leaf: Threshold, st: ThresholdState, obs: Observation, ctx: LeafContext) -> bool:
    if type(obs) is Reading:
        _reading_fold(leaf, leaf.sensor or ctx.bound_sensor)(st, obs, ctx.active)
    return False


def _no_data(leaf: NoData, st: NoDataState, obs: Observation, ctx: LeafContext) -> bool:
    occurred = False
    if isinstance(obs, Reading) and obs.sensor in leaf_sensors(leaf, ctx.bound_sensor):
        st.seen_ms = ctx.now_ms
    elif isinstance(obs, DeviceStatus) and obs.device == leaf.device:
        occurred = not obs.online and not st.offline
        st.offline = not obs.online
    silence_ms = ctx.now_ms - (st.watch_since_ms if st.seen_ms is None else st.seen_ms)
    silent = leaf.max_silence_s is not None and silence_ms >= leaf.max_silence_s * 1000
    st.truth = st.offline or silent
    what = leaf.sensor or ctx.bound_sensor or leaf.device or "sensors"
    if st.offline:
        st.detail = f"device {leaf.device} reports offline"
    elif silent:
        st.detail = f"nothing from {what} for {_duration(silence_ms)}"
    else:
        st.detail = ""
    return occurred


def _flatline(leaf: Flatline, st: FlatlineState, obs: Observation, ctx: LeafContext) -> bool:
    if type(obs) is not Reading:
        return False
    st.samples = [*st.samples]  # the compiled fold appends in place: never to a list a caller may share
    return _reading_fold(leaf, leaf.sensor or ctx.bound_sensor)(st, obs, ctx.active)


def _spread_at_most(samples: list[tuple[int, float]], limit: float) -> bool:
    """max - min of the values <= `limit`, scanning from the newest and stopping at the first proof
    that it is not (a moving signal usually fails on the sample before the newest). The spread of
    a subset never exceeds the whole's, so the early answer is the same as the full one."""
    low = high = samples[-1][1]
    for _, value in reversed(samples):
        if value != value:  # NaN (the decoder drops them; a direct caller might not): max/min's own answer
            values = [v for _, v in samples]
            return max(values) - min(values) <= limit
        if value < low:
            low = value
        elif value > high:
            high = value
        if high - low > limit:
            return False
    return True


def _rate(leaf: RateOfChange, st: RateState, obs: Observation, ctx: LeafContext) -> bool:
    return type(obs) is Reading and _reading_fold(leaf, leaf.sensor or ctx.bound_sensor)(st, obs, ctx.active)


def _repeating(leaf: Repeating, st: RepeatingState, obs: Observation, ctx: LeafContext) -> bool:
    sensor = leaf.sensor or ctx.bound_sensor
    reading = _fresh(obs, sensor, st.time_ms)
    crossed = False
    if reading is not None:
        beyond = compare(reading.value, leaf.op, leaf.value)
        # the side before the first sample is unknown, so the first sample is never a crossing
        crossed = beyond and st.beyond is False
        if crossed:
            st.crossings_ms = [*st.crossings_ms, ctx.now_ms]
        st.beyond, st.value, st.time_ms = beyond, reading.value, reading.time_ms
    horizon_ms = ctx.now_ms - leaf.window_s * 1000
    st.crossings_ms = [t for t in st.crossings_ms if t > horizon_ms]
    st.truth = len(st.crossings_ms) >= leaf.count
    st.detail = f"{len(st.crossings_ms)} crossings of {sensor} {leaf.op} {leaf.value:g} within {leaf.window_s:g} s" if st.truth else ""
    return crossed and st.truth


def _trend(leaf: Trend, st: TrendState, obs: Observation, ctx: LeafContext) -> bool:
    sensor = leaf.sensor or ctx.bound_sensor
    reading = _fresh(obs, sensor, st.samples[-1][0] if st.samples else None)
    if reading is None:
        return False
    horizon_ms = reading.time_ms - leaf.window_s * 1000
    # keep the newest sample at or before the window's start: it proves the window is covered
    samples = [*st.samples, (reading.time_ms, reading.value)]
    while len(samples) >= 2 and samples[1][0] <= horizon_ms:
        samples.pop(0)
    st.samples, st.value = samples, reading.value
    covered = samples[0][0] <= horizon_ms and len(samples) >= leaf.min_samples
    slope = _slope_per_s(samples) if covered else None
    st.truth = slope is not None and compare(slope, leaf.op, leaf.rate_per_s)
    st.detail = f"{sensor} {slope * 60:+.1f}/min over {leaf.window_s:g} s" if st.truth and slope is not None else ""
    return False


def _slope_per_s(samples: list[tuple[int, float]]) -> float | None:
    """The least-squares slope (units per second): one noisy sample moves it little."""
    n = len(samples)
    t0 = samples[0][0]
    mean_t = sum(t - t0 for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    spread = sum((t - t0 - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return None
    return sum((t - t0 - mean_t) * (v - mean_v) for t, v in samples) / spread * 1000


def _charge(leaf: ChargeRate, st: ChargeState, obs: Observation, ctx: LeafContext) -> bool:
    if not isinstance(obs, Batch):
        return False
    horizon_ms = obs.time_ms - leaf.window_s * 1000
    st.batches = [b for b in [*st.batches, (obs.time_ms, obs.mass_kg)] if b[0] > horizon_ms]
    st.value = obs.mass_kg
    reasons = []
    if leaf.max_batch_kg is not None and obs.mass_kg > leaf.max_batch_kg:
        reasons.append(f"batch {obs.batch_id} {obs.mass_kg:g} kg > {leaf.max_batch_kg:g} kg")
    first_ms, last_ms = st.batches[0][0], st.batches[-1][0]
    if last_ms - first_ms >= leaf.window_s * 500:
        rate_kg_h = sum(mass for _, mass in st.batches[1:]) / (last_ms - first_ms) * 3_600_000
        if rate_kg_h > leaf.max_kg_h:
            reasons.append(f"{rate_kg_h:.0f} kg/h charged over {(last_ms - first_ms) / 1000:g} s > {leaf.max_kg_h:g} kg/h")
    st.truth, st.detail = bool(reasons), "; ".join(reasons)
    return st.truth


def _interlock(leaf: FeedInterlock, st: InterlockState, obs: Observation, ctx: LeafContext) -> bool:
    if isinstance(obs, Reading) and obs.status == "valid" and obs.sensor in leaf_sensors(leaf, None):
        st.inputs = {**st.inputs, obs.sensor: obs.value}
        if obs.sensor == leaf.secondary_sensor:
            _track_hold(leaf, st, obs.value, obs.time_ms)
    elif isinstance(obs, PlantState):
        running = obs.operating in _RUNNING_STATES
        if obs.seeded or obs.operating in _RESTART_STATES:
            # a seeded state is where the worker started watching: a plant already running had its
            # start-up hold (the worker cannot have watched it); any other starts its hold afresh
            st.hold_since_ms, st.hold_complete = None, obs.seeded and running
        elif ctx.previous_plant_state is None and running:
            # first state this rule sees (a rule added to a running plant): the same reasoning
            st.hold_complete = True
    elif isinstance(obs, Batch) and not st.hold_complete and st.hold_since_ms is not None:
        # the batch's own time completes a hold the last reading left a few seconds short
        st.hold_complete = obs.time_ms - st.hold_since_ms >= leaf.hold_s * 1000
    st.value = st.inputs.get(leaf.secondary_sensor)
    reasons = _not_permitted(leaf, st, ctx)
    if isinstance(obs, Batch):
        st.truth = bool(reasons)
        st.detail = f"batch {obs.batch_id} ({obs.mass_kg:g} kg) fed while " + "; ".join(reasons) if reasons else ""
        return st.truth
    if st.truth and not reasons:
        # feeding is permitted again: the violation is over
        st.truth, st.detail = False, ""
    return False


def _track_hold(leaf: FeedInterlock, st: InterlockState, secondary_c: float, time_ms: int) -> None:
    """The hold on the readings' own times (`time_ms`), so it is judged the same on every replay."""
    if secondary_c < leaf.secondary_min_c:
        st.hold_since_ms = None
        return
    if st.hold_since_ms is None:
        st.hold_since_ms = time_ms
    if time_ms - st.hold_since_ms >= leaf.hold_s * 1000:
        st.hold_complete = True


def _not_permitted(leaf: FeedInterlock, st: InterlockState, ctx: LeafContext) -> list[str]:
    reasons = []
    secondary, primary = st.inputs.get(leaf.secondary_sensor), st.inputs.get(leaf.primary_sensor)
    if secondary is not None and secondary < leaf.secondary_min_c:
        reasons.append(f"{leaf.secondary_sensor} {secondary:g} degC < {leaf.secondary_min_c:g} degC")
    if primary is not None and primary < leaf.primary_min_c:
        reasons.append(f"{leaf.primary_sensor} {primary:g} degC < {leaf.primary_min_c:g} degC")
    if not st.hold_complete:
        reasons.append(f"start-up hold not complete ({leaf.secondary_sensor} >= {leaf.secondary_min_c:g} degC for {leaf.hold_s:g} s)")
    if leaf.check_emissions and ctx.emission_limit_exceeded:
        reasons.append("an emission limit is exceeded")
    for sensor in leaf.requires_running:
        if st.inputs.get(sensor, 1.0) < 0.5:
            reasons.append(f"{sensor} is off")
    return reasons


# by condition type: its state type and the function folding an observation into it (a table, not an
# isinstance chain: this runs for every rule a reading concerns)
_FOLDS: dict[type[Leaf], tuple[type[LeafState], Fold]] = {
    Threshold: (ThresholdState, _threshold),
    NoData: (NoDataState, _no_data),
    Flatline: (FlatlineState, _flatline),
    RateOfChange: (RateState, _rate),
    Repeating: (RepeatingState, _repeating),
    Trend: (TrendState, _trend),
    ChargeRate: (ChargeState, _charge),
    FeedInterlock: (InterlockState, _interlock),
}

# The reading folds of the kinds a reading's own values decide (threshold, flatline, rate of change),
# for a group of leaves of one kind reading one sensor: `fold_<kind>s(members, reading, sensor,
# active)` folds the reading into every member's state and returns the indices (each member's last
# item) of those that hold after it. The only code of these kinds for a reading: the engine folds all
# the quiet leaves of a sensor at once, and `compile_reading_fold` (a group of one) serves `observe`
# and every other caller. They change the states in place, sample lists too (the engine owns its
# states; `_flatline` first gives a state under `observe` a list of its own).
ReadingFold = Callable[[Any, Reading, bool], bool]
_OPS: dict[str, Callable[[float, float], bool]] = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
# (state, op, limit, recovery limit, " op limit" for the detail, index)
ThresholdMember = tuple[ThresholdState, Callable[[float, float], bool], float, "float | None", str, int]
RateMember = tuple[RateState, float, int]  # (state, max rate per s, index)
FlatlineMember = tuple[FlatlineState, "int | None", float, float, int]  # (state, window samples, window ms, max spread, index)


def threshold_member(leaf: Threshold, state: ThresholdState, index: int) -> ThresholdMember:
    return (state, _OPS[leaf.op], leaf.value, leaf.recovery_value, f" {leaf.op} {leaf.value:g}", index)


def rate_member(leaf: RateOfChange, state: RateState, index: int) -> RateMember:
    return (state, leaf.max_rate_per_s, index)


def flatline_member(leaf: Flatline, state: FlatlineState, index: int) -> FlatlineMember:
    return (state, leaf.window_samples, (leaf.window_s or 0.0) * 1000, leaf.max_spread, index)


def fold_thresholds(members: list[ThresholdMember], reading: Reading, sensor: str | None, active: bool) -> list[int]:
    if reading.sensor != sensor or reading.status != "valid":
        return []
    time_ms, value = reading.time_ms, reading.value
    held = []
    for st, op, limit, recovery, text, index in members:
        last_ms = st.time_ms
        if last_ms is not None and time_ms <= last_ms:
            continue  # a duplicate or a late one
        st.value, st.time_ms = value, time_ms
        st.firing = firing = op(value, limit)
        st.truth = truth = op(value, recovery) if active and recovery is not None else firing
        if truth:
            st.detail = f"{sensor} {value:g}{text}"
            held.append(index)
        else:
            st.detail = ""
    return held


def fold_rates(members: list[RateMember], reading: Reading, sensor: str | None, active: bool) -> list[int]:
    """A rate of change holds on the jump from the previous sample: the index is also an occurrence."""
    if reading.sensor != sensor or reading.status != "valid":
        return []
    time_ms, value = reading.time_ms, reading.value
    held = []
    for st, max_rate, index in members:
        previous_ms = st.time_ms
        if previous_ms is not None and time_ms <= previous_ms:
            continue  # a duplicate or a late one
        previous = st.value
        st.value, st.time_ms = value, time_ms
        if previous is None or previous_ms is None:
            st.truth, st.detail = False, ""
            continue
        dt_s = (time_ms - previous_ms) / 1000
        rate = abs(value - previous) / dt_s
        if rate > max_rate:
            st.truth = True
            st.detail = f"{sensor} jumped {previous:g} -> {value:g} in {dt_s:g} s ({rate:.3g}/s > {max_rate:g}/s)"
            held.append(index)
        else:
            st.truth, st.detail = False, ""
    return held


def fold_flatlines(members: list[FlatlineMember], reading: Reading, sensor: str | None, active: bool) -> list[int]:
    if reading.sensor != sensor or reading.status != "valid":
        return []
    time_ms, value = reading.time_ms, reading.value
    sample = (time_ms, value)
    held = []
    for st, count, window_ms, max_spread, index in members:
        samples = st.samples
        if samples and time_ms <= samples[-1][0]:
            continue  # a duplicate or a late one
        samples.append(sample)
        if count is not None:
            if len(samples) > count:
                del samples[: len(samples) - count]
            covered = len(samples) == count
        else:
            # keep the newest sample at or before the window's start: it proves the window is covered
            horizon, first = time_ms - window_ms, 0
            while len(samples) - first >= 2 and samples[first + 1][0] <= horizon:
                first += 1
            if first:
                del samples[:first]
            covered = time_ms - samples[0][0] >= window_ms
        st.value = value
        # (two samples further apart than the limit already spread too far: `_spread_at_most` is not asked)
        if covered and not (len(samples) >= 2 and abs(samples[-2][1] - value) > max_spread) and _spread_at_most(samples, max_spread):
            st.truth = True
            span_s = (samples[-1][0] - samples[0][0]) / 1000
            st.detail = f"{sensor} flat at {value:g} over {len(samples)} samples / {span_s:g} s"
            held.append(index)
        else:
            st.truth, st.detail = False, ""
    return held


def compile_reading_fold(leaf: Leaf, sensor: str | None) -> ReadingFold | None:
    """The reading fold of `leaf` reading `sensor` (its own, or the bound one): (state, reading, active)
    -> occurred, as `observe` for a reading; None for the kinds without one."""
    if isinstance(leaf, Threshold):
        _, op, limit, recovery, text, _ = threshold_member(leaf, ThresholdState(), 0)

        def threshold(st: ThresholdState, reading: Reading, active: bool) -> bool:
            fold_thresholds([(st, op, limit, recovery, text, 0)], reading, sensor, active)
            return False

        return threshold
    if isinstance(leaf, Flatline):
        _, count, window_ms, max_spread, _ = flatline_member(leaf, FlatlineState(), 0)

        def flatline(st: FlatlineState, reading: Reading, active: bool) -> bool:
            fold_flatlines([(st, count, window_ms, max_spread, 0)], reading, sensor, active)
            return False

        return flatline
    if isinstance(leaf, RateOfChange):
        max_rate = leaf.max_rate_per_s

        def rate(st: RateState, reading: Reading, active: bool) -> bool:
            return bool(fold_rates([(st, max_rate, 0)], reading, sensor, active))

        return rate
    return None


_COMPILED: dict[tuple[int, str | None], tuple[Leaf, ReadingFold]] = {}  # by leaf identity: hashing a model costs more


def _reading_fold(leaf: Leaf, sensor: str | None) -> ReadingFold:
    """The compiled fold of `leaf` and `sensor`, compiled once (for `observe`: a rule of several leaves,
    and the pure path)."""
    found = _COMPILED.get((id(leaf), sensor))
    if found is not None and found[0] is leaf:
        return found[1]
    fold = compile_reading_fold(leaf, sensor)
    assert fold is not None, leaf.kind
    if len(_COMPILED) >= 10_000:
        _COMPILED.clear()
    _COMPILED[(id(leaf), sensor)] = (leaf, fold)  # the leaf kept with it: its id cannot be reused meanwhile
    return fold


def fold_for(leaf: Leaf) -> tuple[type[LeafState], Fold]:
    """The state type of `leaf` and the function `observe` folds an observation with (looked up once
    by callers that compile their steps)."""
    return _FOLDS[type(leaf)]


def _duration(ms: int) -> str:
    """`300 s`, `2 min 5 s`, `3 h 20 min`: whole seconds, as an operator reads a silence (not `124.988 s`)."""
    seconds = round(ms / 1000)
    if seconds < 120:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 120:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
