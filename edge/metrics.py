"""The edge's Prometheus metrics, read from its `EdgeHealth` at each scrape (one place for each count)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from edge.health import EdgeHealth
from wastewatch.metrics_http import MetricsEndpoint


class _HealthCollector(Collector):
    def __init__(self, health: EdgeHealth) -> None:
        self.health = health

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        snap = self.health.snapshot()
        polls = CounterMetricFamily("wastewatch_edge_polls", "polls of a device (successful or not)", labels=["device"])
        errors = CounterMetricFamily("wastewatch_edge_poll_errors", "polls that failed after every retry", labels=["device"])
        latency = GaugeMetricFamily("wastewatch_edge_poll_latency_seconds", "the last poll's duration", labels=["device"])
        success = GaugeMetricFamily("wastewatch_edge_last_success_timestamp_seconds", "the last successful poll (edge clock)", labels=["device"])
        online = GaugeMetricFamily("wastewatch_edge_device_online", "1 while the device answers", labels=["device"])
        for name, d in snap["devices"].items():
            polls.add_metric([name], d["polls"])
            errors.add_metric([name], d["errors"])
            latency.add_metric([name], d["last_latency_ms"] / 1000)
            success.add_metric([name], (d["last_success_ms"] or 0) / 1000)
            online.add_metric([name], 1 if d["online"] else 0)
        yield from (polls, errors, latency, success, online)
        q = snap["queue"]
        yield GaugeMetricFamily("wastewatch_edge_queue_depth", "samples waiting in the queue", value=q["depth"])
        yield GaugeMetricFamily("wastewatch_edge_queue_fill_ratio", "queue depth / its bound", value=q["fill"])
        yield CounterMetricFamily("wastewatch_edge_queue_accepted", "samples the queue accepted since the start", value=q["accepted"])
        yield CounterMetricFamily("wastewatch_edge_queue_refused", "samples refused because the queue was full (ever)", value=q["refused"])
        jumps = CounterMetricFamily("wastewatch_edge_clock_jumps", "wall-clock jumps against the monotonic clock", labels=["direction"])
        jumps.add_metric(["backward"], snap["clock"]["backward_jumps"])
        jumps.add_metric(["forward"], snap["clock"]["forward_jumps"])
        yield jumps
        yield CounterMetricFamily("wastewatch_edge_clock_held_samples", "samples stamped while the last timestamp was held", value=snap["clock"]["held_samples"])
        yield CounterMetricFamily("wastewatch_edge_published_frames", "frames and readings acknowledged by the broker", value=snap["published"]["frames"])
        yield CounterMetricFamily("wastewatch_edge_published_messages", "messages acknowledged by the broker", value=snap["published"]["messages"])
        yield CounterMetricFamily("wastewatch_edge_broker_refusals", "messages the broker refused (MQTT 5); their samples stay queued", value=snap["broker_refusals"])
        yield GaugeMetricFamily("wastewatch_edge_broker_connected", "1 while connected to the broker", value=1 if snap["broker_connected"] else 0)


class EdgeMetrics(MetricsEndpoint):
    def __init__(self, health: EdgeHealth) -> None:
        super().__init__()
        self.registry.register(_HealthCollector(health))
