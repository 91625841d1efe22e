"""The ingest's health as a time series: an `ingest_health` point every few seconds, for Grafana.

    ingest_health  tags instance (the ingest's MQTT client id)
                   fields lag_s, messages_received, points_written, dead_letters, spool_batches,
                          spool_bytes, spool_points, spool_full

Counters are totals since the worker started (Grafana takes `non_negative_difference`). `lag_s` is
how long points have been waiting for the store: 0 while the spool is empty, otherwise the time since
the store last accepted points. The point is written straight to the store, not through the spool:
while InfluxDB is down there is nowhere to show it anyway, and Grafana shows the gap.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from ingest.metrics import IngestMetrics
from ingest.spool import Spool
from ingest.worker import IngestWorker
from wastewatch.points import Point, Store, StoreError

logger = logging.getLogger(__name__)

INGEST_HEALTH = "ingest_health"


@dataclass(frozen=True, slots=True)
class IngestHealth:
    """One reading of the ingest's own state."""

    instance: str
    time_ms: int
    lag_s: float
    messages_received: int
    points_written: int
    dead_letters: int
    spool_batches: int
    spool_bytes: int
    spool_points: int
    spool_full: bool

    def to_point(self) -> Point:
        fields = {
            "lag_s": float(self.lag_s), "messages_received": self.messages_received,
            "points_written": self.points_written, "dead_letters": self.dead_letters,
            "spool_batches": self.spool_batches, "spool_bytes": self.spool_bytes,
            "spool_points": self.spool_points, "spool_full": int(self.spool_full),
        }
        return Point(INGEST_HEALTH, {"instance": self.instance}, fields, self.time_ms)


def _total(metrics: IngestMetrics, name: str) -> int:
    """A counter's total over all its label sets."""
    total = 0.0
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == f"{name}_total":
                total += sample.value
    return int(total)


def check_running(metrics_port: int, max_stall_s: float, host: str = "127.0.0.1") -> tuple[bool, str]:
    """Whether the ingest serving metrics on `metrics_port` is healthy, and why: it answers, and no
    message has waited `max_stall_s` or longer with nothing written or acknowledged."""
    if not metrics_port:
        return False, "WASTEWATCH_METRICS_PORT is 0: the ingest serves no metrics to check"
    try:
        with urllib.request.urlopen(f"http://{host}:{metrics_port}/metrics", timeout=5) as response:
            text = response.read().decode("utf-8")
    except OSError as exc:
        return False, f"ingest metrics at {host}:{metrics_port} do not answer: {exc}"
    values = {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples}
    stalled = values.get("wastewatch_ingest_stalled_seconds")
    if stalled is None:
        return False, "ingest metrics carry no wastewatch_ingest_stalled_seconds"
    if stalled >= max_stall_s:
        full = " (the spool is full)" if values.get("wastewatch_ingest_spool_full") else ""
        return False, f"ingest stalled: messages have waited {stalled:.0f} s with nothing written{full}"
    return True, f"ingest healthy (stalled {stalled:.0f} s < {max_stall_s:.0f} s)"


class IngestHealthWriter:
    """Samples the worker's metrics and spool on a thread and writes one point per interval."""

    def __init__(
        self, store: Store, metrics: IngestMetrics, spool: Spool, instance: str, interval_s: float = 10.0,
        *, clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.metrics, self.spool = store, metrics, spool
        self.instance, self.interval_s, self._clock = instance, interval_s, clock
        self._written = -1
        self._progress_at = clock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-health", daemon=True)

    def sample(self) -> IngestHealth:
        """The health now; also notes whether the store accepted points since the last sample."""
        now = self._clock()
        written = _total(self.metrics, "wastewatch_ingest_points_written")
        if written != self._written:
            self._written, self._progress_at = written, now
        waiting = self.spool.points > 0
        return IngestHealth(
            instance=self.instance, time_ms=round(now * 1000),
            lag_s=max(0.0, now - self._progress_at) if waiting else 0.0,
            messages_received=_total(self.metrics, "wastewatch_ingest_messages_received"),
            points_written=written, dead_letters=_total(self.metrics, "wastewatch_ingest_dead_letters"),
            spool_batches=self.spool.batches, spool_bytes=self.spool.bytes, spool_points=self.spool.points,
            spool_full=bool(self.metrics.registry.get_sample_value("wastewatch_ingest_spool_full")),
        )

    def write_once(self) -> bool:
        """Write one health point; False (logged) when the store did not take it."""
        try:
            self.store.write([self.sample().to_point()])
        except StoreError as exc:
            logger.warning("ingest health not written error=%s", exc)
            return False
        return True

    @classmethod
    def for_worker(cls, worker: IngestWorker) -> IngestHealthWriter:
        return cls(worker.store, worker.metrics, worker.spool, worker.ingest.client_id, worker.ingest.health_interval_s)

    def start(self) -> None:
        if self.interval_s > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.write_once()
