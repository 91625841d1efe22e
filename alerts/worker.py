"""The alert worker: its own persistent MQTT session, the engine, and one transaction per batch.

Threads: paho's network loop decodes each message (rejections are the ingest's to dead-letter; here
they are skipped) and queues it; the APScheduler job queues a tick every `alerts_tick_interval_s`;
one processing thread evaluates both in arrival order, commits the alert changes, outbox rows and
changed rule states in one transaction, and only then acknowledges the batch's messages (PUBACK),
publishes plant-state changes (retained) and wakes the sender. A crash before the commit leaves the
messages unacknowledged: the broker redelivers them and evaluation repeats them.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from apscheduler.schedulers.background import BackgroundScheduler

from alerts.clock import Clock, DataClock
from alerts.database import AlertDatabaseError, Database
from alerts.engine import Engine, Step
from alerts.lifecycle import Lifecycle
from alerts.store import AlertChange
from alerts.plant_state import PlantStateTransition
from alerts.rules import RuleSet
from alerts.store import AlertStore
from ingest.decode import DecodeLimits, decode_message
from ingest.worker import SUBSCRIPTIONS
from wastewatch.mqtt import connect, make_client, send_pubacks
from wastewatch.plant import PlantCatalog
from wastewatch.records import Batch, Reading, Record
from wastewatch.settings import Settings
from wastewatch.topics import state_topic

logger = logging.getLogger(__name__)

COMMIT_MAX_MESSAGES = 1000
_TICK = object()
_STOP = object()


@dataclass(slots=True)
class _Message:
    generation: int
    mid: int
    qos: int
    records: list[Record]


@dataclass(slots=True)
class _Batch:
    acks: list[tuple[int, int]] = field(default_factory=list)
    step: Step = field(default_factory=Step)
    escalate_at_ms: int | None = None
    messages: int = 0


class AlertWorker:
    def __init__(
        self, settings: Settings, catalog: PlantCatalog, rulesets: Sequence[RuleSet], db: Database, lifecycle: Lifecycle,
        *, clock: Clock = time.time, on_change: Callable[[AlertChange], None] | None = None,
        on_commit: Callable[[], None] | None = None, scheduler: bool = True,
    ) -> None:
        broker = settings.broker
        if broker is None:
            raise ValueError("WASTEWATCH_MQTT_URL is not set")
        self.settings, self.catalog, self.db, self.lifecycle = settings, catalog, db, lifecycle
        self._broker, self._clock = broker, clock
        self._on_change, self._on_commit = on_change, on_commit
        self.engine = Engine(rulesets, round(settings.alerts_tick_interval_s * 1000))
        self._limits = DecodeLimits(
            max_payload_bytes=settings.ingest_max_payload_bytes,
            max_age_ms=int(settings.ingest_max_age_days * 86_400_000),
            max_future_ms=int(settings.ingest_max_future_s * 1000),
        )
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=10_000)
        self._generation = 0
        self._lock = threading.Lock()
        self.counts = {"received": 0, "processed": 0, "acked": 0, "events": 0, "commits": 0}
        self.connected = threading.Event()  # connected and subscribed: what is published now reaches the worker
        self._stopping = threading.Event()
        self._scheduler = BackgroundScheduler(daemon=True) if scheduler else None
        self._client = make_client(broker, settings.alerts_client_id, protocol=settings.mqtt_protocol,
                                   ca_file=settings.mqtt_ca_file, manual_ack=True, persistent=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._thread = threading.Thread(target=self._process_loop, name="alerts-worker", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        restored = self.engine.restore(AlertStore(self.db).load_states())
        if not isinstance(self._clock, DataClock):
            self.engine.start_ticks(self._now_ms())
        self._thread.start()
        connect(self._client, self._broker, persistent=True)
        self._client.loop_start()
        for track in self.engine.plants.values():
            self._publish_state(track.state.plant, track.state.operating.value, track.state.since_ms, None)
        if self._scheduler is not None:
            self._scheduler.add_job(self.tick, "interval", seconds=self.settings.alerts_tick_interval_s, id="alerts-tick",
                                    max_instances=1, coalesce=True)
            self._scheduler.start()
        logger.info("alert worker started client_id=%s rules=%s states_restored=%s",
                    self.settings.alerts_client_id, len(self.engine.book.rules), restored)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Process and commit what is queued, acknowledge it, then disconnect (the session keeps the rest)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._stopping.set()
        self._queue.put(_STOP)
        self._thread.join(timeout_s)
        while not self._queue.empty():  # queued after the stop: unacknowledged, so redelivered later
            self._queue.get_nowait()
        self._client.disconnect()
        self._client.loop_stop()
        logger.info("alert worker stopped")

    def tick(self) -> None:
        """Queue a tick: time-based conditions and escalations are checked at the clock's now."""
        if not self._stopping.is_set():
            self._queue.put(_TICK)

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)

    # -- MQTT callbacks (network thread) -----------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            logger.error("MQTT connect refused reason=%s", reason)
            return
        with self._lock:
            self._generation += 1
        if not flags.session_present:
            client.subscribe([(topic, 1) for topic in SUBSCRIPTIONS])
            logger.info("subscribing (no session on the broker) topics=%s", len(SUBSCRIPTIONS))
        else:
            self.connected.set()

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        self.connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        with self._lock:
            self._generation += 1  # this connection's unacknowledged messages will be redelivered
        self.connected.clear()
        if not self._stopping.is_set():
            logger.warning("MQTT disconnected, reconnecting reason=%s", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self._stopping.is_set():
            return  # left unacknowledged: the broker redelivers it to the next run
        self.counts["received"] += 1
        decoded = decode_message(message.topic, bytes(message.payload), self.catalog, round(time.time() * 1000), self._limits)
        with self._lock:
            generation = self._generation
        self._queue.put(_Message(generation, message.mid, message.qos, list(decoded.records)))

    # -- processing thread -------------------------------------------------------------------------

    def _process_loop(self) -> None:
        batch = _Batch()
        while True:
            item = self._queue.get()
            if item is not _STOP:
                self._process(item, batch)
            if item is _STOP or self._queue.empty() or batch.messages >= COMMIT_MAX_MESSAGES:
                if not self._commit_until_done(batch):
                    return
                batch = _Batch()
            if item is _STOP:
                return

    def _process(self, item: Any, batch: _Batch) -> None:
        if item is _TICK:
            if isinstance(self._clock, DataClock) and not self._clock.started:
                return  # a data clock knows no time before the first record
            now_ms = self._now_ms()
            self.engine.tick_until(now_ms, batch.step)
            batch.escalate_at_ms = now_ms
            return
        data_clock = self._clock if isinstance(self._clock, DataClock) else None
        for record in item.records:
            # a status payload has no timestamp of its own (the decoder stamps its arrival): only
            # readings and batches carry the plant's time
            if data_clock is not None:
                if isinstance(record, (Reading, Batch)):
                    data_clock.observe(record.time_ms)
                elif not data_clock.started:
                    continue  # no plant time yet to evaluate a status at
            self.engine.observe(record, self._now_ms(), batch.step)
        batch.messages += 1
        if item.qos > 0:
            batch.acks.append((item.generation, item.mid))

    def _commit_until_done(self, batch: _Batch) -> bool:
        """Commit the batch, retrying a failing database until it works or the worker stops."""
        while True:
            try:
                changes = self._commit(batch)
                break
            except AlertDatabaseError:
                logger.exception("alert commit failed, retrying events=%s", len(batch.step.events))
                if self._stopping.wait(1.0):
                    return False
        self._after_commit(batch, changes)
        return True

    def _commit(self, batch: _Batch) -> list[AlertChange]:
        changes: list[AlertChange] = []
        with self.db.transaction():
            for event in batch.step.events:
                change = self.lifecycle.apply(event)
                if change is not None:
                    changes.append(change)
            for transition in batch.step.transitions:
                self.lifecycle.record_plant_state(transition)
            if batch.escalate_at_ms is not None:
                changes.extend(self.lifecycle.escalate_due(batch.escalate_at_ms))
            AlertStore(self.db).save_states(self.engine.dirty_items(), self.engine.last_ms or 0)
        self.engine.clear_dirty()
        return changes

    def _after_commit(self, batch: _Batch, changes: list[AlertChange]) -> None:
        with self._lock:
            generation = self._generation
        mids = [mid for gen, mid in batch.acks if gen == generation]
        send_pubacks(self._client, mids)
        self.counts["acked"] += len(mids)
        self.counts["processed"] += batch.messages
        self.counts["events"] += len(batch.step.events)
        self.counts["commits"] += 1
        for transition in batch.step.transitions:
            self._publish_state(transition.plant, transition.to_state.value, transition.at_ms, transition)
        if self._on_commit is not None and (changes or batch.step.transitions):
            self._on_commit()
        for change in changes:
            logger.info("alert %s id=%s key=%s severity=%s", change.kind, change.alert.id, change.alert.key, change.alert.severity)
            if self._on_change is not None:
                try:
                    self._on_change(change)
                except Exception:
                    logger.exception("alert change callback failed")

    def _publish_state(self, plant: str, state: str, since_ms: int, transition: PlantStateTransition | None) -> None:
        document: dict[str, Any] = {"plant": plant, "state": state, "since_ms": since_ms}
        if transition is not None:
            document.update({"from_state": transition.from_state.value, "reason": transition.reason})
        self._client.publish(state_topic(plant), json.dumps(document, sort_keys=True), qos=1, retain=True)
