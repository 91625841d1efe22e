"""The alert worker: one persistent MQTT session per owned plant, the engine, one transaction per batch.

Threads: each plant feed's network loop decodes its messages (rejections are the ingest's to
dead-letter; here they are skipped) and queues them; the APScheduler job queues a tick every
`alerts_tick_interval_s`; the lease keeper (with `alerts_lease_s`) renews and claims plant leases
and queues ownership changes; one processing thread handles all of them in arrival order, commits
the alert changes, outbox rows and changed rule states in one transaction, and only then
acknowledges the batch's messages (PUBACK), publishes plant-state changes (retained) and wakes the
sender. A crash before the commit leaves the messages unacknowledged: the broker redelivers them
(to whoever owns the plant's session next) and evaluation repeats them.

Plants: `alerts_plants` (default: every plant with rules) are owned outright, or, with a lease
length, claimed one lease each; a commit checks the leases of the plants it writes for inside
its transaction and drops a plant whose lease was lost instead of writing for it.

Hostile input costs at most itself: a message that cannot be decoded (or whose decoding fails
unexpectedly) is acknowledged with no records; text from a message (a batch id) is made valid
UTF-8 before it can reach an alert text or the database; an item whose processing fails is logged
and skipped; a batch that fails to commit for any reason but the database's (its data cannot be
stored) is dropped and acknowledged, the engine restored from what is committed, so one bad
message can never stop the processing thread or be redelivered for ever.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from apscheduler.schedulers.background import BackgroundScheduler

from alerts.clock import Clock, DataClock
from alerts.engine import Engine, Step
from alerts.feed import PlantFeed
from alerts.inbox import Inbox
from alerts.intake import MessageDecoder
from alerts.leases import Leases, plant_lease
from alerts.lifecycle import Lifecycle
from alerts.plant_state import PlantStateTransition
from alerts.rules import RuleSet
from alerts.settings import AlertSettings
from alerts.store import AlertChange, AlertStore
from wastewatch.decode import DecodeLimits
from wastewatch.plant import PlantCatalog
from wastewatch.records import Batch, Reading, Record
from wastewatch.relational import Database, DatabaseError
from wastewatch.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

COMMIT_MAX_MESSAGES = 1000
# Under load (the previous commit ended moments ago) a batch stays open this long for more messages
# once the queue runs dry: one commit, one rule-state write per state and one PUBACK write for many
# messages instead of one for every few. An idle worker commits at once, so a lone reading's alert
# is not delayed; under load a message waits at most this much longer for its commit.
COMMIT_LINGER_S = 0.01
_TICK = object()
_STOP = object()


@dataclass(slots=True)
class _Message:
    feed: PlantFeed
    generation: int
    mid: int
    qos: int
    records: list[Record]


@dataclass(frozen=True, slots=True)
class _Ownership:
    plants: frozenset[str]


@dataclass(slots=True)
class _Batch:
    acks: list[tuple[PlantFeed, int, int]] = field(default_factory=list)
    step: Step = field(default_factory=Step)
    escalate_at_ms: int | None = None
    messages: int = 0
    linger_until: float | None = None  # monotonic; set when the batch opens under load


def valid_text(text: str) -> str:
    """`text` as valid UTF-8: a lone surrogate (which JSON can carry, and no database stores) becomes
    its escape, e.g. "\\ud800"."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def storable(record: Record) -> Record:
    """The record with its free text (a batch's id, source, waste code and manifest) made valid UTF-8."""
    if type(record) is not Batch:
        return record
    texts = {name: getattr(record, name) for name in ("batch_id", "source", "waste_code", "manifest_no")}
    clean = {name: valid_text(value) for name, value in texts.items() if value is not None}
    if all(clean[name] is texts[name] for name in clean):
        return record
    return dataclasses.replace(record, **clean)  # type: ignore[arg-type]  # only the str fields named above


def configured_plants(alerts: AlertSettings, rulesets: Sequence[RuleSet]) -> list[str]:
    """The plants this worker may own: WASTEWATCH_ALERTS_PLANTS, or every plant with rules."""
    with_rules = [rs.plant for rs in rulesets]
    if alerts.plants is None:
        return with_rules
    wanted = alerts.plants
    unknown = sorted(set(wanted) - set(with_rules))
    if unknown:
        raise SettingsError(f"bad setting WASTEWATCH_ALERTS_PLANTS: names plants without alert rules: {', '.join(unknown)}")
    return wanted


class AlertWorker:
    def __init__(
        self, settings: Settings, alerts: AlertSettings, catalog: PlantCatalog, rulesets: Sequence[RuleSet], db: Database, lifecycle: Lifecycle,
        *, clock: Clock = time.time, on_change: Callable[[AlertChange], None] | None = None,
        on_commit: Callable[[], None] | None = None, scheduler: bool = True, leases: Leases | None = None,
    ) -> None:
        broker = settings.mqtt.address
        if broker is None:
            raise ValueError("WASTEWATCH_MQTT_URL is not set")
        self.settings, self.alerts, self.catalog, self.db, self.lifecycle = settings, alerts, catalog, db, lifecycle
        self._broker, self._clock = broker, clock
        self._on_change, self._on_commit = on_change, on_commit
        self.rulesets = list(rulesets)
        self.candidates = configured_plants(alerts, self.rulesets)
        self.partitioned = alerts.plants is not None or leases is not None
        self.leases = leases
        self.owned: frozenset[str] = frozenset()
        self.engine = Engine([], round(alerts.tick_interval_s * 1000))
        # The ingest's own limits, facility policy included: the worker judges exactly the batches it stores.
        self._decoder = MessageDecoder(catalog, DecodeLimits.from_settings(settings.decode))
        self._inbox = Inbox(maxsize=10_000)
        self._taken: deque[Any] = deque()  # taken from the inbox, not processed yet (processing thread only)
        self._feeds: dict[str, PlantFeed] = {}
        self.counts = {"received": 0, "processed": 0, "acked": 0, "events": 0, "commits": 0}
        self.connected = threading.Event()  # every owned plant subscribed: what is published now reaches the worker
        self._stopping = threading.Event()
        self._scheduler = BackgroundScheduler(daemon=True) if scheduler else None
        self._thread = threading.Thread(target=self._process_loop, name="alerts-worker", daemon=True)
        self._lease_thread = threading.Thread(target=self._lease_loop, name="alerts-leases", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        plants = frozenset(self._claim_leases()) if self.leases is not None else frozenset(self.candidates)
        self._own(plants)
        self._thread.start()
        if self.leases is not None:
            self._lease_thread.start()
        if self._scheduler is not None:
            self._scheduler.add_job(self.tick, "interval", seconds=self.alerts.tick_interval_s, id="alerts-tick",
                                    max_instances=1, coalesce=True)
            self._scheduler.start()
        logger.info("alert worker started client_id=%s plants=%s rules=%s leases=%s", self.alerts.client_id,
                    ",".join(sorted(self.owned)) or "-", len(self.engine.book.rules), self.leases is not None)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Process and commit what is queued, acknowledge it, then disconnect (the sessions keep the rest)
        and give up the leases, so a standby takes over at once."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._stopping.set()
        self._inbox.put(_STOP)
        self._thread.join(timeout_s)
        if self._lease_thread.is_alive():
            self._lease_thread.join(timeout_s)
        self._inbox.take(0)  # queued after the stop: unacknowledged, so redelivered later
        for feed in self._feeds.values():
            feed.stop()
        if self.leases is not None:
            for plant in self.owned:
                try:
                    self.leases.release(plant_lease(plant))
                except DatabaseError:
                    logger.warning("could not release the lease; it expires plant=%s", plant)
        logger.info("alert worker stopped")

    def tick(self) -> None:
        """Queue a tick: time-based conditions and escalations are checked at the clock's now."""
        if not self._stopping.is_set():
            self._inbox.put(_TICK)

    def plants_filter(self) -> frozenset[str] | None:
        """The plants whose outbox rows and escalations are this worker's; None when not partitioned."""
        return self.owned if self.partitioned else None

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)

    # -- ownership -----------------------------------------------------------------------------------

    def _claim_leases(self) -> list[str]:
        """Renew the leases we hold and claim the free or expired ones; the plants held now."""
        assert self.leases is not None
        held = []
        for plant in self.candidates:
            try:
                if self.leases.claim(plant_lease(plant)):
                    held.append(plant)
            except DatabaseError:
                logger.exception("lease claim failed plant=%s", plant)
        return held

    def _lease_loop(self) -> None:
        assert self.leases is not None
        interval_s = self.leases.ttl_ms / 3000  # renew three times per lease length
        while not self._stopping.wait(interval_s):
            plants = frozenset(self._claim_leases())
            if plants != self.owned and not self._stopping.is_set():
                self._inbox.put(_Ownership(plants))

    def _own(self, plants: frozenset[str]) -> None:
        """Make `plants` the owned set (in the processing thread, or before it starts, between commits):
        a new engine restored from the committed states, a feed per newly owned plant."""
        dropped, added = self.owned - plants, plants - self.owned
        for plant in sorted(dropped):
            self._feeds.pop(plant).stop()
            logger.warning("plant given up plant=%s", plant)
        old = self.engine
        self.engine = Engine([rs for rs in self.rulesets if rs.plant in plants], old.tick_interval_ms)
        self.engine.next_tick_ms, self.engine.last_ms = old.next_tick_ms, old.last_ms
        restored = self.engine.restore(AlertStore(self.db).load_states(plants)) if plants else 0
        if not isinstance(self._clock, DataClock):
            self.engine.start_ticks(self._now_ms())
        self.owned = plants
        for plant in sorted(added):
            self._feeds[plant] = PlantFeed(plant, self.settings.mqtt, self.alerts.client_id, self._broker, self._on_message, self._update_connected,
                                           decoder=self._decoder).start()
            track = self.engine.plants.get(plant)
            if track is not None and track.state is not None:
                self._publish_state(plant, track.state.operating.value, track.state.since_ms, None)
        if added:
            logger.info("plants taken on plants=%s states_restored=%s", ",".join(sorted(added)), restored)
        self._update_connected()

    def _update_connected(self) -> None:
        feeds = list(self._feeds.values())
        if all(feed.subscribed.is_set() for feed in feeds):
            self.connected.set()
        else:
            self.connected.clear()

    # -- MQTT callbacks (network threads) ----------------------------------------------------------

    def _on_message(self, feed: PlantFeed, message: mqtt.MQTTMessage) -> None:
        if self._stopping.is_set():
            return  # left unacknowledged: the broker redelivers it to the next run
        self.counts["received"] += 1
        try:
            records = [storable(r) for r in self._decoder.decode(message.topic, message.payload, round(time.time() * 1000))]
        except Exception:  # a decoder bug: this message is skipped (and acknowledged), the feed goes on
            logger.exception("alert feed message could not be decoded, skipped plant=%s bytes=%s", feed.plant,
                             len(message.payload))
            records = []
        self._inbox.put(_Message(feed, feed.current_generation(), message.mid, message.qos, records))

    # -- processing thread -------------------------------------------------------------------------

    def _next_item(self, batch: _Batch) -> Any:
        """The next queued item, or None when an open batch's linger ran out (time to commit it)."""
        if not self._taken:
            self._taken.extend(self._inbox.take(None if batch.linger_until is None else 0))
        if not self._taken and batch.linger_until is not None:
            # sleep out the linger rather than wake for every message: the network threads fill the
            # inbox meanwhile without handing the GIL back and forth (a stop is seen when the sleep ends)
            wait_s = batch.linger_until - time.monotonic()
            if wait_s > 0:
                time.sleep(wait_s)
            self._taken.extend(self._inbox.take(0))
        return self._taken.popleft() if self._taken else None

    def _process_loop(self) -> None:
        batch = _Batch()
        last_commit = 0.0
        while True:
            item = self._next_item(batch)
            if item is None:
                if not self._commit_until_done(batch):
                    return
                batch, last_commit = _Batch(), time.monotonic()
                continue
            if isinstance(item, _Ownership):
                # between commits: the new engine starts from exactly what is committed
                if not self._commit_until_done(batch):
                    return
                batch = _Batch()
                self._own(item.plants)
                continue
            if item is not _STOP:
                if type(item) is _Message and batch.linger_until is None and time.monotonic() - last_commit < COMMIT_LINGER_S:
                    batch.linger_until = time.monotonic() + COMMIT_LINGER_S
                self._process_guarded(item, batch)
            done = item is _STOP or batch.messages >= COMMIT_MAX_MESSAGES
            if done or (not self._taken and self._inbox.empty() and batch.linger_until is None):
                if not self._commit_until_done(batch):
                    return
                batch, last_commit = _Batch(), time.monotonic()
            if item is _STOP:
                return

    def _process_guarded(self, item: Any, batch: _Batch) -> None:
        """`_process`, and a failure of it skips the item (a message is still acknowledged)."""
        try:
            self._process(item, batch)
        except Exception:
            logger.exception("alert worker could not process an item, skipped item=%s", type(item).__name__)
            if type(item) is _Message and item.qos > 0 and (item.feed, item.generation, item.mid) not in batch.acks:
                batch.messages += 1
                batch.acks.append((item.feed, item.generation, item.mid))

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
            batch.acks.append((item.feed, item.generation, item.mid))

    def _commit_until_done(self, batch: _Batch) -> bool:
        """Commit the batch, retrying a failing database until it works or the worker stops."""
        while True:
            try:
                changes, lost = self._commit(batch)
                break
            except DatabaseError:
                logger.exception("alert commit failed, retrying events=%s", len(batch.step.events))
                if self._stopping.wait(1.0):
                    return False
            except Exception:  # the batch's data cannot be stored: retrying would fail for ever
                logger.exception("alert commit failed on the batch's data, batch dropped messages=%s events=%s",
                                 batch.messages, len(batch.step.events))
                dropped = _Batch(acks=batch.acks, messages=batch.messages)
                self._after_commit(dropped, [], frozenset())  # acknowledged: a redelivery would fail the same way
                self._own(self.owned)  # a new engine, as committed, without the dropped batch
                return True
        self._after_commit(batch, changes, lost)
        if lost:
            self._own(self.owned - lost)
        return True

    def _commit(self, batch: _Batch) -> tuple[list[AlertChange], frozenset[str]]:
        """The batch's changes in one transaction, leaving out the plants whose lease was lost (the
        changes made and the plants lost)."""
        changes: list[AlertChange] = []
        dirty = self.engine.dirty_items()
        with self.db.transaction():
            lost = self._lost_leases(batch, dirty)
            for event in batch.step.events:
                if event.plant not in lost:
                    change = self.lifecycle.apply(event)
                    if change is not None:
                        changes.append(change)
            for transition in batch.step.transitions:
                if transition.plant not in lost:
                    self.lifecycle.record_plant_state(transition)
            if batch.escalate_at_ms is not None and self.owned - lost:
                plants = self._filter_without(lost)
                changes.extend(self.lifecycle.escalate_due(batch.escalate_at_ms, plants))
                changes.extend(self.lifecycle.settle_due(batch.escalate_at_ms, plants))
            saved = [item for item in dirty if item[1] not in lost]
            AlertStore(self.db).save_states(saved, self.engine.last_ms or 0)
        self.engine.clear_dirty(saved)
        return changes, lost

    def _filter_without(self, lost: Collection[str]) -> frozenset[str] | None:
        plants = self.plants_filter()
        return None if plants is None else plants - frozenset(lost)

    def _lost_leases(self, batch: _Batch, dirty: list[tuple[str, str, str, str]]) -> frozenset[str]:
        """Plants this commit writes for whose lease we no longer hold (checked, and on PostgreSQL
        locked, inside the commit's transaction)."""
        if self.leases is None:
            return frozenset()
        touched = {e.plant for e in batch.step.events} | {t.plant for t in batch.step.transitions} | {d[1] for d in dirty}
        touched |= {feed.plant for feed, _, _ in batch.acks}
        if batch.escalate_at_ms is not None:
            touched |= self.owned
        lost = frozenset(p for p in touched if not self.leases.holds(plant_lease(p)))
        if lost:
            logger.warning("lease lost, the plant's uncommitted work is dropped plants=%s", ",".join(sorted(lost)))
        return lost

    def _after_commit(self, batch: _Batch, changes: list[AlertChange], lost: frozenset[str]) -> None:
        by_feed: dict[tuple[PlantFeed, int], list[int]] = {}
        for feed, generation, mid in batch.acks:
            if feed.plant not in lost and self._feeds.get(feed.plant) is feed:
                by_feed.setdefault((feed, generation), []).append(mid)
        for (feed, generation), mids in by_feed.items():
            self.counts["acked"] += feed.ack(generation, mids)
        self.counts["processed"] += batch.messages
        self.counts["events"] += len(batch.step.events)
        self.counts["commits"] += 1
        transitions = [t for t in batch.step.transitions if t.plant not in lost]
        for transition in transitions:
            self._publish_state(transition.plant, transition.to_state.value, transition.at_ms, transition)
        if self._on_commit is not None and (changes or transitions):
            self._on_commit()
        for change in changes:
            logger.info("alert %s id=%s key=%s severity=%s", change.kind, change.alert.id, change.alert.key, change.alert.severity)
            if self._on_change is not None:
                try:
                    self._on_change(change)
                except Exception:
                    logger.exception("alert change callback failed")

    def _publish_state(self, plant: str, state: str, since_ms: int, transition: PlantStateTransition | None) -> None:
        feed = self._feeds.get(plant)
        if feed is None:
            return
        document: dict[str, Any] = {"plant": plant, "state": state, "since_ms": since_ms}
        if transition is not None:
            document.update({"from_state": transition.from_state.value, "reason": transition.reason})
        feed.publish_state(document)
