"""Publishing the plant model over MQTT: paced in real time, accelerated, or as fast as the broker
acknowledges (back-fill). Returns only once the broker has acknowledged every QoS 1 message.

The simulator announces itself `online` (retained) on the status topic of the plant's first device,
with `offline` as its last will, and publishes `offline` for every device before a clean disconnect.

A run can carry on a model another run (or the demo's history) has already stepped (`model=`), so one
plant goes on across them: its chambers, its operator and its batch numbers. `catch_up=True` runs
accelerated until the simulated clock meets the wall clock, then in real time, in one run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from simulators.messages import QOS
from simulators.model import PlantModel, iter_messages
from simulators.scenarios import FaultWindow
from simulators.schedule import OperatingSchedule
from simulators.tally import Tally
from wastewatch.errors import WastewatchError
from wastewatch.mqtt import connect, make_client
from wastewatch.plant import PlantConfig
from wastewatch.settings import BrokerAddress
from wastewatch.topics import status_topic

logger = logging.getLogger(__name__)

Mode = Literal["realtime", "accelerated", "backfill"]
MODES: tuple[Mode, ...] = ("realtime", "accelerated", "backfill")
MAX_INFLIGHT = 1000
MAX_FUTURE_S = 300.0  # the ingest dead-letters timestamps further ahead of its clock than this
_FOREVER_S = 100 * 365 * 86_400.0


class PublishError(WastewatchError):
    """The broker could not be reached, refused messages, or did not acknowledge them in time."""


@dataclass(frozen=True, slots=True)
class PublishProgress:
    sim_ms: int
    published: int
    acknowledged: int


@dataclass(frozen=True, slots=True)
class PublishSummary:
    """What one run published; `tally` counts what the ingest should have stored and dead-lettered."""

    published: int
    acknowledged: int
    rejected: int
    sim_start_ms: int
    sim_end_ms: int
    wall_s: float
    stopped: bool
    tally: Tally


class _Link:
    """The paho client plus publish/acknowledgement counting shared with its network thread.

    Each counter has one writer thread, so the hot path takes no lock; the condition is only
    used by a waiter, which the acknowledgement callback wakes.
    """

    def __init__(self, client: mqtt.Client, announce: tuple[str, bytes]) -> None:
        self.client = client
        self.connected = threading.Event()
        self.refused: str | None = None
        self._announce = announce
        self._wake = threading.Condition()
        self._waiting = False
        self._sent = 0  # written by the caller's thread
        self._announced = 0  # written by the network thread
        self.acknowledged = 0  # written by the network thread
        self.rejected = 0
        self.tally = Tally()  # what was actually handed to the broker, which a stop can cut short
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish

    @property
    def published(self) -> int:
        return self._sent + self._announced

    def publish(self, topic: str, payload: bytes, retain: bool) -> None:
        self._sent += 1
        self._send(topic, payload, retain)

    def _send(self, topic: str, payload: bytes, retain: bool) -> None:
        info = self.client.publish(topic, payload, qos=QOS, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):  # NO_CONN: queued until reconnected
            raise PublishError(f"publish refused by the client topic={topic} rc={mqtt.error_string(info.rc)}")

    def unacknowledged(self) -> int:
        return self.published - self.acknowledged

    def _wait(self, done: Callable[[], bool], deadline: float) -> bool:
        with self._wake:
            self._waiting = True
            try:
                while not done():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._wake.wait(min(left, 0.2))
            finally:
                self._waiting = False
        return True

    def wait_below(self, limit: int, stop: threading.Event) -> None:
        if self.unacknowledged() > limit:
            self._wait(lambda: self.unacknowledged() <= limit or stop.is_set(), time.monotonic() + _FOREVER_S)

    def wait_all(self, timeout_s: float) -> bool:
        return self._wait(lambda: self.unacknowledged() <= 0, time.monotonic() + timeout_s)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        if reason.is_failure:
            self.refused = str(reason)
            logger.error("broker refused the simulator reason=%s", reason)
            self.connected.set()  # wake the caller, which checks `refused`
            return
        logger.info("simulator connected")
        self._announced += 1
        self._send(*self._announce, retain=True)
        self.connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        if reason.is_failure:
            logger.warning("simulator disconnected reason=%s; paho reconnects", reason)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, props: Any) -> None:
        self.acknowledged += 1
        if reason.is_failure:
            self.rejected += 1
        if self._waiting:
            with self._wake:
                self._wake.notify_all()


def _pace(mode: Mode, speed: float) -> float | None:
    """Simulated seconds per wall second, or None to publish as fast as acknowledged."""
    if mode == "realtime":
        return 1.0
    if mode == "accelerated":
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        return speed
    if mode == "backfill":
        return None
    raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")


def lead_over_wall_clock_s(start_ms: int, duration_s: float | None, pace: float | None, now_s: float) -> float:
    """The most simulated time will run ahead of the wall clock during a run starting at `now_s`.

    Simulated time minus wall time changes linearly while paced, so the lead is largest at the
    start or at the end. A back-fill (`pace` None) publishes everything almost at once, so its end
    is stamped about `now_s`. An open-ended run is judged by its start only.
    """
    lead_at_start_s = start_ms / 1000 - now_s
    if duration_s is None:
        return lead_at_start_s
    wall_duration_s = 0.0 if pace is None else duration_s / pace
    lead_at_end_s = lead_at_start_s + duration_s - wall_duration_s
    return max(lead_at_start_s, lead_at_end_s)


def _warn_future(start_ms: int, duration_s: float | None, pace: float | None) -> None:
    ahead_s = lead_over_wall_clock_s(start_ms, duration_s, pace, time.time())
    if ahead_s > MAX_FUTURE_S:
        logger.warning(
            "simulated time runs %.0f s ahead of the wall clock; the ingest rejects timestamps more than %.0f s "
            "ahead, so start the run at least %.0f s earlier", ahead_s, MAX_FUTURE_S, ahead_s - MAX_FUTURE_S,
        )


def run_simulator(
    broker: BrokerAddress,
    plant: PlantConfig,
    *,
    seed: int,
    start_ms: int,
    mode: Mode = "realtime",
    speed: float = 60.0,
    duration_s: float | None = None,
    faults: Sequence[FaultWindow] = (),
    schedule: OperatingSchedule | None = None,
    telemetry: bool = False,
    protocol: str = "5",
    client_id: str | None = None,
    ca_file: Path | None = None,
    stop_event: threading.Event | None = None,
    on_progress: Callable[[PublishProgress], None] | None = None,
    connect_timeout_s: float = 15.0,
    ack_timeout_s: float = 120.0,
    max_unacked: int = 10_000,
    model: PlantModel | None = None,
    catch_up: bool = False,
) -> PublishSummary:
    """Publish the simulated plant from `start_ms` for `duration_s` (None: until `stop_event`).

    With `model`, carry that model on from where it stands (`start_ms`, `seed`, `faults`, `schedule`
    and `telemetry` are then its own); its devices are announced online again. With `catch_up`, never
    publish a message before its own time on the wall clock (accelerated until then, then real time)."""
    pace = _pace(mode, speed)
    if duration_s is None and pace is None:
        raise ValueError("a back-fill needs a duration")
    if model is None:
        model = PlantModel(plant, seed, start_ms, faults, schedule, telemetry=telemetry)
    else:
        start_ms = max(model.now_ms, model.start_ms)
        model.announce_devices()
    if not catch_up:
        _warn_future(start_ms, duration_s, pace)
    stop = stop_event or threading.Event()
    device = plant.devices[0] if plant.devices else "simulator"
    announce = (status_topic(plant.id, device), b"online")
    client = make_client(broker, client_id or f"wastewatch-sim-{plant.id}", protocol=protocol, ca_file=ca_file)
    client.will_set(announce[0], b"offline", qos=QOS, retain=True)
    client.max_inflight_messages_set(MAX_INFLIGHT)
    client.max_queued_messages_set(0)
    link = _Link(client, announce)
    connect(client, broker)
    client.loop_start()
    wall_start = time.monotonic()
    try:
        if not link.connected.wait(connect_timeout_s) or link.refused:
            raise PublishError(f"could not connect to {broker.host}:{broker.port}: {link.refused or 'timed out'}")
        end_ms = start_ms + round((duration_s if duration_s is not None else _FOREVER_S) * 1000)
        chunk_s = 600.0 if pace is None else (1.0 if catch_up else max(1.0, pace * 0.5))
        last_ms = _publish_all(link, model, start_ms, end_ms, chunk_s, pace, stop, max_unacked, on_progress, catch_up)
        for name in plant.devices or [device]:
            link.publish(status_topic(plant.id, name), b"offline", retain=True)
        if not link.wait_all(ack_timeout_s):
            raise PublishError(f"{link.unacknowledged()} messages were not acknowledged within {ack_timeout_s} s")
        client.disconnect()
    finally:
        client.loop_stop()
    summary = PublishSummary(
        link.published, link.acknowledged, link.rejected, start_ms, last_ms,
        time.monotonic() - wall_start, stop.is_set(), link.tally,
    )
    logger.info("simulator finished published=%s rejected=%s stopped=%s", summary.published, summary.rejected, summary.stopped)
    return summary


def _publish_all(
    link: _Link,
    model: PlantModel,
    start_ms: int,
    end_ms: int,
    chunk_s: float,
    pace: float | None,
    stop: threading.Event,
    max_unacked: int,
    on_progress: Callable[[PublishProgress], None] | None,
    catch_up: bool = False,
) -> int:
    """Publish the model's messages from `start_ms` until `end_ms` or `stop`; the simulated time reached."""
    wall_start = time.monotonic()
    next_report = wall_start
    last_ms = start_ms
    for chunk in iter_messages(model, end_ms, chunk_s):
        for message in chunk:
            if pace is not None:
                delay_s = wall_start + (message.at_ms - start_ms) / 1000 / pace - time.monotonic()
                if catch_up:  # never ahead of the wall clock: real time once the catch-up is done
                    delay_s = max(delay_s, message.at_ms / 1000 - time.time())
                if delay_s > 0 and stop.wait(delay_s):
                    return last_ms
            link.wait_below(max_unacked, stop)
            if stop.is_set():
                return last_ms
            link.publish(message.topic, message.payload, message.retain)
            link.tally.record(message)
            last_ms = max(last_ms, message.at_ms)
        if on_progress is not None and time.monotonic() >= next_report:
            next_report = time.monotonic() + 1.0
            on_progress(PublishProgress(last_ms, link.published, link.published - link.unacknowledged()))
        if stop.is_set():
            break
    return last_ms
