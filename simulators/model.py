"""The deterministic plant model: simulated time in, MQTT messages out (no clock, no I/O).

`PlantModel.step(until_ms)` advances the plant and returns the messages due by then; the same
plant, seed, start, faults and schedule give byte-identical messages however time is stepped.
Each concern draws from its own random stream, so a data-quality fault never changes the physics.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from random import Random

from simulators.bunker import Bunker
from simulators.delivery import Delivery
from simulators.effects import ChargePuff, DoorPuff, Effect, Overcharge, WetBatch, window_effects
from simulators.invalid import invalid_message
from simulators.measurement import build_instruments
from simulators.messages import QOS, Message, batch_payload, format_number, reading_payload, status_message, telemetry_payload
from simulators.operation import PLC_INPUTS, Feed, Operator
from simulators.plant_state import Controls, Phase
from simulators.process import Process, WasteLoad
from simulators.scenarios import FaultWindow, reasons_of
from simulators.schedule import DailySchedule, OperatingSchedule
from simulators.tally import Tally
from wastewatch.plant import PlantConfig
from wastewatch.records import Batch, DeviceStatus, Reading
from wastewatch.topics import batch_topic, sensor_topic, status_topic, telemetry_topic

PHYSICS_STEP_MS = 10_000
PREROLL_STEP_MS = 60_000  # lags and wander are exact for any step, so the unseen pre-roll can stride
PREROLL_S = 86_400.0
WET_HEAT_SHARE = 0.6


class PlantModel:
    """One simulated plant. Create it, call `step` with increasing times, then `finish`."""

    def __init__(
        self,
        plant: PlantConfig,
        seed: int,
        start_ms: int,
        faults: Sequence[FaultWindow] = (),
        schedule: OperatingSchedule | None = None,
        *,
        telemetry: bool = False,
        preroll_s: float = PREROLL_S,
    ) -> None:
        self.plant = plant
        self.start_ms = start_ms
        self.telemetry = telemetry
        self.tally = Tally()
        self._faults = list(faults)
        self._zone = plant.zone
        self._process = Process(Random(f"{seed}:process"))
        self._load = WasteLoad()
        published = {s.id: s.period_s for s in plant.sensors if s.id in PLC_INPUTS}
        # PLC inputs the catalogue does not publish reach the operator as their true values
        self._unpublished_inputs = [name for name in PLC_INPUTS if name not in published]
        self._operator = Operator(
            schedule or DailySchedule(), self._faults, Random(f"{seed}:operator"),
            sample_period_s=max(published.values(), default=PHYSICS_STEP_MS / 1000),
        )
        self._bunker = Bunker(plant, Random(f"{seed}:bunker"))
        self._instruments = build_instruments(plant, self._faults)
        self._measure_rng = Random(f"{seed}:measure")
        self._event_rng = Random(f"{seed}:events")
        self._invalid_rng = Random(f"{seed}:invalid")
        self._delivery = Delivery(self._faults, Random(f"{seed}:delivery"))
        self._effects: list[Effect] = window_effects(self._faults, seed)
        self._skews = [f for f in self._faults if f.name == "clock_skew"]
        self._invalid_windows = [(f, reasons_of(f)) for f in self._faults if f.name == "invalid_messages"]
        self._invalid_sent = [0] * len(self._invalid_windows)
        self._topics = {s.id: sensor_topic(plant.id, s.id) for s in plant.sensors}
        self._groups = _period_groups(plant)
        self._next_due = {period_ms: start_ms for period_ms in self._groups}
        self._values: dict[str, float] = {}
        self._t_ms = start_ms - round(preroll_s * 1000)
        self._emitting = False
        for t_ms in range(self._t_ms, start_ms, PREROLL_STEP_MS):
            self._advance_to(t_ms)
        self._emitting = True
        self.announce_devices()

    def announce_devices(self) -> None:
        """Every device `online` now: at the start, and when another run carries this model on."""
        t_ms = max(self._t_ms, self.start_ms)
        for device in self.plant.devices:
            status = DeviceStatus(self.plant.id, device, t_ms, True)
            self._delivery.submit(status_message(status_topic(self.plant.id, device), status, t_ms))

    def carry_on_batches(self, last: Batch) -> None:
        """Number the batches on from `last`, the newest batch an earlier run of this plant stored (a
        restarted demo), instead of from this model's own unseen pre-roll."""
        self._bunker.carry_on(last, datetime.fromtimestamp(last.time_ms / 1000, self._zone))

    @property
    def now_ms(self) -> int:
        """The simulated time the plant has reached."""
        return self._t_ms

    @property
    def phase(self) -> Phase:
        return self._operator.phase

    @property
    def controls(self) -> Controls:
        return self._operator.controls

    def step(self, until_ms: int) -> list[Message]:
        """Advance to `until_ms` (inclusive) and return the messages due by then, in publish order."""
        while True:
            t_ms = min(self._next_due.values())
            if t_ms > until_ms:
                break
            while t_ms - self._t_ms > PHYSICS_STEP_MS:
                self._advance_to(self._t_ms + PHYSICS_STEP_MS)
            self._advance_to(t_ms)
            self._emit_readings(t_ms)
            self._emit_invalid(t_ms)
        return self._count(self._delivery.release(until_ms))

    def finish(self) -> list[Message]:
        """Everything still held back or delayed (an outage still open ends now)."""
        return self._count(self._delivery.drain())

    def _count(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self.tally.record(message)
        return messages

    def _advance_to(self, t_ms: int) -> None:
        dt_s = (t_ms - self._t_ms) / 1000.0
        operator = self._operator
        load = self._load.at(t_ms)
        if dt_s > 0:
            sinks = [e.heat_sink_c(t_ms) for e in self._effects if isinstance(e, WetBatch)]
            sink = (sum(p for p, _ in sinks), sum(s for _, s in sinks))
            self._process.advance(dt_s, operator.controls, load, self._load.volatiles_at(t_ms), sink)
        values = self._process.values(operator.phase)
        self._effects = [e for e in self._effects if not e.over(t_ms)]
        for effect in self._effects:
            effect.apply(t_ms, values, operator.phase)
        local = datetime.fromtimestamp(t_ms / 1000, self._zone)
        feed = operator.update(t_ms, local, values)
        if feed is not None:
            self._charge(feed, local)
        values.update(operator.controls.as_values())
        # the unseen pre-roll emits no readings, so there the operator reads the true values
        for name in self._unpublished_inputs if self._emitting else PLC_INPUTS:
            operator.observe(t_ms, name, values[name])
        self._values = values
        self._t_ms = t_ms

    def _charge(self, feed: Feed, local: datetime) -> None:
        # a wet batch gives off less heat: its water has to boil first
        self._load.add(feed.t_ms, feed.mass_kg * (WET_HEAT_SHARE if feed.kind == "wet" else 1.0))
        if feed.kind == "wet":
            self._effects.append(WetBatch.draw(feed.t_ms, self._event_rng))
        elif feed.kind == "overcharge":
            self._effects.append(Overcharge.draw(feed.t_ms, self._event_rng))
        elif feed.kind == "door_puff":
            self._effects.append(DoorPuff.draw(feed.t_ms, self._event_rng))
        if feed.kind not in ("overcharge", "door_puff"):  # those two make their own, larger spike
            self._effects.append(ChargePuff.draw(feed.t_ms, self._event_rng))
        batch = self._bunker.take(feed.t_ms, local, feed.mass_kg)
        if self._emitting:
            batch = replace(batch, time_ms=self._stamp(feed.t_ms))
            message = Message(batch_topic(self.plant.id), batch_payload(batch), QOS, False, "batch", True, None, feed.t_ms, (batch,))
            self._delivery.submit(message)

    def _stamp(self, t_ms: int) -> int:
        """The timestamp the device writes: the true time, shifted while its clock is skewed."""
        for window in self._skews:
            if window.contains(t_ms):
                t_ms += round(window.number("offset_s") * 1000)
        return t_ms

    def _emit_readings(self, t_ms: int) -> None:
        ts_ms = self._stamp(t_ms)
        frame: list[tuple[str, str]] = []
        frame_records: list[Reading] = []
        plant_id = self.plant.id
        for period_ms, sensor_ids in self._groups.items():
            if self._next_due[period_ms] != t_ms:
                continue
            self._next_due[period_ms] = t_ms + period_ms
            for sensor_id in sensor_ids:
                instrument = self._instruments[sensor_id]
                true_value = self._values.get(sensor_id)
                if true_value is None:
                    true_value = instrument.fallback_value()
                value, status = instrument.read(t_ms, true_value, self._measure_rng)
                if math.isnan(value):  # an open thermocouple passed on as NaN: its own message, dead-lettered
                    payload = reading_payload(ts_ms, "NaN", status)
                    self._delivery.submit(Message(self._topics[sensor_id], payload, QOS, False, "reading", False, "non_finite", t_ms))
                    continue
                if status == "valid":
                    self._operator.observe(t_ms, sensor_id, value)
                text = format_number(value, instrument.decimals)
                record = Reading(plant_id, sensor_id, ts_ms, value, status)
                if self.telemetry and status == "valid":
                    frame.append((sensor_id, text))
                    frame_records.append(record)
                    continue
                payload = reading_payload(ts_ms, text, status)
                self._delivery.submit(Message(self._topics[sensor_id], payload, QOS, False, "reading", True, None, t_ms, (record,)))
        if frame:
            payload = telemetry_payload(ts_ms, frame)
            topic = telemetry_topic(plant_id)
            self._delivery.submit(Message(topic, payload, QOS, False, "telemetry", True, None, t_ms, tuple(frame_records)))

    def _emit_invalid(self, t_ms: int) -> None:
        for index, (window, reasons) in enumerate(self._invalid_windows):
            interval_ms = max(1000, round(window.number("interval_s") * 1000))
            while True:
                sent = self._invalid_sent[index]
                due_ms = window.start_ms + sent * interval_ms
                if due_ms > t_ms or due_ms >= window.end_ms:
                    break
                self._invalid_sent[index] = sent + 1
                if due_ms >= self.start_ms:  # a window opened before the start only counts from it
                    reason = reasons[sent % len(reasons)]
                    message = invalid_message(self.plant, reason, self._stamp(t_ms), t_ms, self._invalid_rng)
                    self._delivery.submit(message)


def _period_groups(plant: PlantConfig) -> dict[int, list[str]]:
    """Sensor ids by reporting period in ms, in catalogue order."""
    groups: dict[int, list[str]] = {}
    for sensor in plant.sensors:
        groups.setdefault(max(1, round(sensor.period_s * 1000)), []).append(sensor.id)
    return groups


@dataclass(frozen=True, slots=True)
class Generated:
    """Every message of a simulated time range, in publish order, and their tally."""

    messages: list[Message]
    tally: Tally


def generate_messages(
    plant: PlantConfig,
    *,
    seed: int,
    start_ms: int,
    duration_s: float,
    faults: Sequence[FaultWindow] = (),
    schedule: OperatingSchedule | None = None,
    telemetry: bool = False,
) -> Generated:
    """All messages for `[start_ms, start_ms + duration_s)`, back-fills and delayed messages included."""
    model = PlantModel(plant, seed, start_ms, faults, schedule, telemetry=telemetry)
    end_ms = start_ms + round(duration_s * 1000) - 1
    messages = model.step(end_ms)
    messages.extend(model.finish())
    return Generated(messages, model.tally)


def iter_messages(model: PlantModel, end_ms: int, chunk_s: float = 60.0, *, finish: bool = True) -> Iterator[list[Message]]:
    """The model's messages up to `end_ms` (exclusive) in chunks of `chunk_s` simulated seconds, then the rest.

    `finish=False` leaves the rest (messages delayed past `end_ms`, an outage still holding) queued for
    whoever carries the model on: finished, an outage would end at `end_ms`."""
    chunk_ms = max(1, round(chunk_s * 1000))
    t_ms = max(model.now_ms, model.start_ms - 1)
    while t_ms < end_ms - 1:
        t_ms = min(t_ms + chunk_ms, end_ms - 1)
        yield model.step(t_ms)
    if finish:
        yield model.finish()
