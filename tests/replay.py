"""Simulated days replayed through the decoder and the alert engine the worker runs (issue 17): the
loop `tests/test_trust_replay.py` and `tests/test_alert_root_causes.py` share.

A replay is every message the simulator publishes over a `Day`, decoded and observed in publish order
by a fresh `Engine` (a worker started at the day's first instant: the plant seeded cold). The sweeps
replay well over a hundred days, so two savings, neither changing a result:

- a fault-free day is replayed once per session (cached by plant, seed, start, length and schedule),
  keeping its events and the engine pickled at every whole hour of the day;
- a faulted day is the fault-free day up to the first fault's start (the simulator draws every concern
  from its own random stream and applies a fault only within its window), so its replay resumes from
  the fault-free engine at the last whole hour at or before that start, and only the messages from
  there are decoded and observed. That the messages before the resume point are the fault-free ones
  is asserted on every replay (a digest of what the engine reads of them: topic, payload, time), and
  `tests/test_trust_replay.py` compares a resumed replay with `full_replay` for one fault.

The simulator fixes its faults when a `PlantModel` is built, so a faulted day is still generated
whole; only its decoding and evaluation are shortened.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Sequence
from dataclasses import dataclass

from alerts import AlertEvent, bundled_rules_path, load_rules
from alerts.engine import Engine
from simulators import FaultWindow, Message, generate_messages, parse_fault_spec, schedule_named
from wastewatch.decode import DecodeLimits, decode_message
from wastewatch.plant import PlantCatalog, PlantConfig

HOUR_MS = 3_600_000
TICK_INTERVAL_MS = 5000  # the worker's default evaluation grid


@dataclass(frozen=True, slots=True)
class Day:
    """One simulated run: `duration_s` from `start_ms` on `seed`, following the named schedule."""

    seed: int
    start_ms: int
    duration_s: float = 24 * 3600
    schedule: str = "daily"
    plant: str = "kotim"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The fault-free engine just before the first message published at or after `at_ms`."""

    at_ms: int
    messages: int  # how many messages were observed before it
    events: int  # how many events they caused
    digest: str  # of those messages, as `MessageDigest`
    engine: bytes  # the pickled engine


@dataclass(frozen=True, slots=True)
class FaultFreeDay:
    """A fault-free day's events and its engine at every whole hour (the first at the day's start)."""

    events: list[AlertEvent]
    snapshots: list[Snapshot]


class MessageDigest:
    """A running digest of what a replay reads of each message: its topic, payload and publish time."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def update(self, messages: Sequence[Message]) -> None:
        for message in messages:
            self._hash.update(f"{message.at_ms} {message.topic} {len(message.payload)} ".encode())
            self._hash.update(message.payload)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def plant_of(catalog: PlantCatalog, day: Day) -> PlantConfig:
    plant = catalog.get(day.plant)
    assert plant is not None, f"no plant {day.plant!r} in the catalogue"
    return plant


def new_engine(plant: PlantConfig) -> Engine:
    """The engine the worker runs, with the shipped rules of the plant."""
    return Engine([load_rules(bundled_rules_path(plant.id), plant)], TICK_INTERVAL_MS)


def generate(catalog: PlantCatalog, day: Day, faults: Sequence[str] = ()) -> list[Message]:
    """The simulator's messages of the day with the faults (specs, their start relative to the day's)."""
    windows = fault_windows(day, faults)
    return generate_messages(plant_of(catalog, day), seed=day.seed, start_ms=day.start_ms, duration_s=day.duration_s,
                             faults=windows, schedule=schedule_named(day.schedule)).messages


def fault_windows(day: Day, faults: Sequence[str]) -> list[FaultWindow]:
    return [parse_fault_spec(spec, sim_start_ms=day.start_ms) for spec in faults]


def observe(engine: Engine, catalog: PlantCatalog, messages: Sequence[Message]) -> list[AlertEvent]:
    """Each message decoded as the ingest does and its records observed at its publish time: the events."""
    events: list[AlertEvent] = []
    limits = DecodeLimits()
    for message in messages:
        for record in decode_message(message.topic, message.payload, catalog, message.at_ms, limits).records:
            events += engine.observe(record, message.at_ms).events
    return events


def full_replay(catalog: PlantCatalog, day: Day, faults: Sequence[str] = ()) -> list[AlertEvent]:
    """The day replayed from its start without any shortcut: the reference for `replay`."""
    return observe(new_engine(plant_of(catalog, day)), catalog, generate(catalog, day, faults))


class Replayer:
    """Replays of one catalogue's days, the fault-free ones cached for the session."""

    def __init__(self, catalog: PlantCatalog) -> None:
        self.catalog = catalog
        self._fault_free: dict[Day, FaultFreeDay] = {}

    def fault_free(self, day: Day) -> FaultFreeDay:
        """The fault-free day, replayed on first use and pickling the engine at every whole hour."""
        cached = self._fault_free.get(day)
        if cached is not None:
            return cached
        messages = generate(self.catalog, day)
        engine = new_engine(plant_of(self.catalog, day))
        events: list[AlertEvent] = []
        snapshots: list[Snapshot] = []
        digest = MessageDigest()
        done = 0
        for hour in range(int(day.duration_s * 1000 // HOUR_MS) + 1):
            at_ms = day.start_ms + hour * HOUR_MS
            upto = next((i for i in range(done, len(messages)) if messages[i].at_ms >= at_ms), len(messages))
            digest.update(messages[done:upto])
            events += observe(engine, self.catalog, messages[done:upto])
            done = upto
            snapshots.append(Snapshot(at_ms, done, len(events), digest.hexdigest(), pickle.dumps(engine, pickle.HIGHEST_PROTOCOL)))
        events += observe(engine, self.catalog, messages[done:])
        result = self._fault_free[day] = FaultFreeDay(events, snapshots)
        return result

    def resume_point(self, day: Day, faults: Sequence[str]) -> Snapshot:
        """The fault-free snapshot a faulted replay resumes from: the last at or before the first fault."""
        snapshots = self.fault_free(day).snapshots
        windows = fault_windows(day, faults)
        if not windows:
            return snapshots[-1]
        first_ms = min(w.start_ms for w in windows)
        return max((s for s in snapshots if s.at_ms <= first_ms), key=lambda s: s.at_ms, default=snapshots[0])

    def replay(self, day: Day, faults: Sequence[str] = ()) -> list[AlertEvent]:
        """The day's events with the faults, as `full_replay` gives them."""
        fault_free = self.fault_free(day)
        if not faults:
            return list(fault_free.events)
        resume = self.resume_point(day, faults)
        messages = generate(self.catalog, day, faults)
        digest = MessageDigest()
        digest.update(messages[:resume.messages])
        assert digest.hexdigest() == resume.digest, (
            f"{faults} on {day}: the messages before {resume.at_ms} differ from the fault-free day's, so the replay cannot resume there")
        engine: Engine = pickle.loads(resume.engine)
        return fault_free.events[:resume.events] + observe(engine, self.catalog, messages[resume.messages:])


_REPLAYERS: dict[int, tuple[PlantCatalog, Replayer]] = {}


def replayer(catalog: PlantCatalog) -> Replayer:
    """The session's replayer of the catalogue (the catalogue is kept with it, so its id stays its own)."""
    entry = _REPLAYERS.get(id(catalog))
    if entry is None:
        entry = _REPLAYERS[id(catalog)] = (catalog, Replayer(catalog))
    return entry[1]
