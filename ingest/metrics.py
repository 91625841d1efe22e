"""The ingest's self-metrics, in Prometheus format (one registry per worker, served on a port)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from wastewatch.metrics_http import MetricsEndpoint


class IngestMetrics(MetricsEndpoint):
    def __init__(self) -> None:
        super().__init__()
        r = self.registry
        self.messages_received = Counter("wastewatch_ingest_messages_received", "MQTT messages received", registry=r)
        self.records_accepted = Counter("wastewatch_ingest_records_accepted", "records decoded and queued", registry=r)
        self.points_written = Counter("wastewatch_ingest_points_written", "points written to the store", registry=r)
        self.dead_letters = Counter(
            "wastewatch_ingest_dead_letters", "messages dead-lettered, by the first reason", ["reason"], registry=r
        )
        self.stalled = Gauge(
            "wastewatch_ingest_stalled_seconds",
            "how long messages have waited with nothing written or acknowledged (0: none wait)", registry=r,
        )
        self.acks = Counter("wastewatch_ingest_acks", "MQTT messages acknowledged", registry=r)
        self.reconnects = Counter("wastewatch_ingest_reconnects", "MQTT (re)connections", registry=r)
        self.rebirth_requests = Counter("wastewatch_ingest_rebirth_requests", "Sparkplug rebirth requests (NCMD) published", registry=r)
        self.spool_batches = Gauge("wastewatch_ingest_spool_batches", "batches waiting in the spool", registry=r)
        self.spool_bytes = Gauge("wastewatch_ingest_spool_bytes", "bytes waiting in the spool", registry=r)
        self.spool_full = Gauge("wastewatch_ingest_spool_full", "1 while the spool is full (back-pressure)", registry=r)
        self.write_latency = Histogram(
            "wastewatch_ingest_write_latency_seconds", "store write latency per batch", registry=r
        )
