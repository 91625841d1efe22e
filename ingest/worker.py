"""The ingest worker: a persistent MQTT session whose messages are acknowledged only once durable.

Threads: paho's network loop decodes each message and adds its points to the open batch; one
writer thread writes full (or old, or idle) batches through the `DurableWriter` and then sends the
PUBACKs of that batch's messages, in the order they arrived. With MQTT 5 the worker asks the broker
for an in-flight window (`Receive Maximum`) larger than a batch, so acknowledging per batch never
stalls the stream; with MQTT 3.1.1 the broker's `max_inflight_messages` sets that window, and the
idle flush keeps a small window moving.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from ingest.deadletters import DeadLetter, DeadLetterStore
from ingest.metrics import IngestMetrics
from ingest.settings import IngestSettings
from ingest.sparkplug_births import SessionOp, SparkplugBirths
from ingest.spool import Spool
from ingest.writer import DurableWriter
from wastewatch.decode import Decoded, DecodeLimits, decode_message
from wastewatch.persistent_session import PersistentSession
from wastewatch.plant import PlantCatalog
from wastewatch.points import Point, Store
from wastewatch.settings import Settings
from wastewatch.sparkplug.decode import SparkplugDecoder
from wastewatch.sparkplug.topics import is_sparkplug, sparkplug_subscriptions
from wastewatch.topics import data_subscriptions

logger = logging.getLogger(__name__)

IDLE_FLUSH_S = 0.005  # no message for this long: the broker window is full or the stream paused


@dataclass(slots=True)
class _Batch:
    points: list[Point] = field(default_factory=list)
    acks: list[tuple[int, int]] = field(default_factory=list)  # (connection generation, mid)
    dead: list[DeadLetter] = field(default_factory=list)  # committed by the writer thread before the acks
    births: list[SessionOp] = field(default_factory=list)  # Sparkplug births and deaths, kept with the batch
    messages: int = 0
    opened_at: float = 0.0


@dataclass(frozen=True, slots=True)
class IngestCounts:
    received: int
    written: int
    dead_lettered: int
    spool_batches: int
    acked: int


class IngestWorker:
    """Subscribes, decodes, batches, writes durably, then acknowledges."""

    def __init__(
        self, settings: Settings, ingest: IngestSettings, catalog: PlantCatalog, store: Store, *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        broker = settings.mqtt.address
        if broker is None:
            raise ValueError("WASTEWATCH_MQTT_URL is not set")
        self.settings, self.ingest, self.catalog, self.store = settings, ingest, catalog, store
        self._broker = broker
        self._clock = clock
        self._limits = DecodeLimits.from_settings(settings.decode)
        # Sparkplug B: each edge node's session (aliases, seq) is decoded in arrival order on the network thread
        self._sparkplug = SparkplugDecoder(catalog, self._limits, rebirth_interval_ms=round(ingest.sparkplug_rebirth_interval_s * 1000))
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.births = SparkplugBirths(settings.data_dir / "sparkplug.sqlite3")
        self._sparkplug.restore(self.births.load(), int(clock() * 1000))  # as the last run left them: aliased data queued meanwhile decodes
        self.metrics = IngestMetrics()
        self.spool = Spool(settings.data_dir / "spool.sqlite3", ingest.spool_max_bytes, ingest.spool_min_free_bytes)
        self.dead_letters = DeadLetterStore(
            settings.data_dir / "deadletters.sqlite3",
            max_payload_bytes=ingest.dead_letter_max_payload_bytes,
            max_bytes=ingest.dead_letter_max_bytes,
            max_age_s=ingest.dead_letter_max_age_days * 86_400,
            min_free_bytes=ingest.spool_min_free_bytes,  # the spool's reserve: dead letters never eat into it
        )
        self._stop = threading.Event()  # interrupts even a blocked write
        self._stopping = threading.Event()  # finish what is queued, then end
        self.writer = DurableWriter(store, self.spool, self.dead_letters, self.metrics, stop=self._stop)
        self._max_lines = ingest.batch_max_lines
        self._max_acks = max(1, ingest.receive_maximum // 2)
        self._lock = threading.Lock()
        self._open = _Batch()
        self._last_message_at = 0.0
        self._full: queue.Queue[_Batch] = queue.Queue(maxsize=2)
        self._counts = {"received": 0, "dead": 0, "acked": 0}
        self._waiting = 0  # messages received and not yet acknowledged
        self._progress_at = time.monotonic()  # when a message last arrived into an empty wait, or a batch was done
        self.metrics.stalled.set_function(self.stalled_s)
        self._session = PersistentSession(
            broker,
            ingest.client_id,
            data_subscriptions() + sparkplug_subscriptions(),
            self._on_message,
            protocol=settings.mqtt.protocol,
            ca_file=settings.mqtt.ca_file,
            shared_group=ingest.shared_group,
            receive_maximum=ingest.receive_maximum,
            on_connected=self.metrics.reconnects.inc,
        )
        self.connected = self._session.connected
        self._writer_thread = threading.Thread(target=self._write_loop, name="ingest-writer", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        try:
            self.store.ensure_database()
        except Exception as exc:  # the store may be down at start: the spool covers it
            logger.warning("could not reach the store at start, spooling until it returns error=%s", exc)
        if self.ingest.metrics_port:
            self.metrics.serve(self.ingest.metrics_port)
        self._writer_thread.start()
        self._session.start()
        logger.info("ingest started client_id=%s broker=%s:%s", self.ingest.client_id, self._broker.host, self._broker.port)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Write and acknowledge what is open, then disconnect (the broker's session keeps the rest)."""
        with self._lock:
            batch, self._open = self._open, _Batch()
        if batch.messages:
            self._full.put(batch)
        self._stopping.set()
        self._writer_thread.join(timeout=timeout_s)
        self._stop.set()  # a write still blocked (store down, spool full) leaves its messages unacknowledged
        self._writer_thread.join(timeout=5)
        self._session.stop()
        self.metrics.close()
        self.spool.close()
        self.dead_letters.close()
        self.births.close()
        logger.info("ingest stopped")

    def counts(self) -> IngestCounts:
        return IngestCounts(
            received=self._counts["received"],
            written=int(self.metrics.registry.get_sample_value("wastewatch_ingest_points_written_total") or 0),
            dead_lettered=self._counts["dead"],
            spool_batches=self.spool.batches,
            acked=self._counts["acked"],
        )

    def stalled_s(self) -> float:
        """How long messages have been waiting with nothing written or acknowledged; 0 when none wait."""
        with self._lock:
            return time.monotonic() - self._progress_at if self._waiting else 0.0

    # -- MQTT messages (network thread) ------------------------------------------------------------

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        now_ms = int(self._clock() * 1000)
        payload = bytes(message.payload)
        try:
            topic = message.topic
        except UnicodeDecodeError:  # brokers refuse such topics; should one pass, it costs this message only
            topic = "(topic not UTF-8)"
        decoded: Decoded
        births: list[SessionOp] = []
        if is_sparkplug(topic):
            decoded = sparkplug = self._sparkplug.decode(topic, payload, now_ms)
            if sparkplug.rebirth is not None:  # a gap or an unknown node or alias: ask the edge node for its births
                self._session.publish(*sparkplug.rebirth, qos=0)
                self.metrics.rebirth_requests.inc()
            if sparkplug.session is not None:  # kept for the next start, with this message's batch
                births.append((sparkplug.session, topic, payload))
        else:
            decoded = decode_message(topic, payload, self.catalog, now_ms, self._limits)
        points = [record.to_point() for record in decoded.records]
        letter = None
        if decoded.rejections:  # one row per message, written off this thread
            letter = self.dead_letters.letter(now_ms, topic, [(r.reason, r.detail) for r in decoded.rejections], payload)
        full = None
        now = time.monotonic()
        with self._lock:
            self._counts["received"] += 1
            batch = self._open
            if not batch.messages:
                batch.opened_at = now
            if not self._waiting:
                self._progress_at = now
            self._waiting += 1
            batch.points += points
            if letter is not None:
                batch.dead.append(letter)
            if births:
                batch.births += births
            batch.messages += 1
            if message.qos:
                batch.acks.append((self._session.generation, message.mid))
            self._last_message_at = now
            if len(batch.points) >= self._max_lines or len(batch.acks) >= self._max_acks:
                full, self._open = batch, _Batch()
        if full is not None:
            self._full.put(full)  # blocks while the writer is two batches behind: back-pressure to the broker

    # -- writer thread -----------------------------------------------------------------------------

    def _due_batch(self) -> _Batch | None:
        now = time.monotonic()
        with self._lock:
            batch = self._open
            if batch.messages and (
                now - batch.opened_at >= self.ingest.flush_interval_s or now - self._last_message_at >= IDLE_FLUSH_S
            ):
                self._open = _Batch()
                return batch
        return None

    def _write_loop(self) -> None:
        tick = min(self.ingest.flush_interval_s, IDLE_FLUSH_S)
        while not self._stop.is_set():
            try:
                batch: _Batch | None = self._full.get(timeout=tick)
            except queue.Empty:
                if self._stopping.is_set():
                    return
                batch = self._due_batch()
            try:
                if batch is None:
                    self.writer.drain()
                else:
                    self._write_until_durable(batch)
            except InterruptedError:
                return  # stopped while the spool was full: these messages stay unacknowledged

    def _write_until_durable(self, batch: _Batch) -> None:
        self.dead_letters.add_all(batch.dead)  # never raises: what it cannot store it counts as dropped
        for letter in batch.dead:
            self.metrics.dead_letters.labels(letter.reason).inc()
        self._counts["dead"] += len(batch.dead)
        batch.dead = []
        self.births.apply(batch.births)  # never raises: a failure costs only the replay at the next start
        batch.births = []
        while True:
            try:
                self.writer.write(batch.points)
                self._acknowledge(batch)
                return
            except InterruptedError:
                raise
            except Exception:
                # Not an outage (those spool) but a fault we did not foresee: keep the batch, never ack it unwritten.
                logger.exception("write failed unexpectedly, retrying the batch points=%s", len(batch.points))
                if self._stop.wait(1.0):
                    raise InterruptedError from None

    def _acknowledge(self, batch: _Batch) -> None:
        generation = self._session.generation  # a message of an earlier connection is redelivered, not acknowledged
        acked = self._session.ack(generation, [mid for gen, mid in batch.acks if gen == generation])
        with self._lock:
            self._waiting -= batch.messages
            self._progress_at = time.monotonic()
        self._counts["acked"] += acked
        self.metrics.acks.inc(acked)
        self.metrics.messages_received.inc(batch.messages)
        self.metrics.records_accepted.inc(len(batch.points))
