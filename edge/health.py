"""What the edge knows about itself: per device polls, errors, latency and presence; the queue; the
clock. One object (`EdgeHealth`) holds it; the retained health message and the Prometheus metrics
are both read from it (`snapshot()`, `edge.metrics`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.clock import EdgeClock
from edge.queue import SampleQueue

logger = logging.getLogger(__name__)


@dataclass
class DeviceHealth:
    device: str
    address: str
    period_s: float
    polls: int = 0
    samples: int = 0
    errors: int = 0
    consecutive_errors: int = 0
    last_error: str = ""
    last_error_ms: int = 0
    last_latency_s: float = 0.0
    last_success_ms: int = 0
    online: bool | None = None  # None: not polled yet
    nonfinite: int = 0


class EdgeHealth:
    """Thread-safe counters and states; `on_presence(device, online)` runs when a device comes or goes."""

    def __init__(self, edge_id: str, plant: str, queue: SampleQueue, clock: EdgeClock) -> None:
        self.edge_id = edge_id
        self.plant = plant
        self.queue = queue
        self.clock = clock
        self.devices: dict[str, DeviceHealth] = {}
        self.published_frames = 0
        self.published_messages = 0
        self.broker_connected = False
        self.broker_refusals = 0  # messages an MQTT 5 broker refused (ACL, size): their samples stay queued
        self.started_ms = int(time.time() * 1000)
        self._lock = threading.Lock()
        self.on_presence: Callable[[str, bool], None] = lambda device, online: None

    def add_device(self, device: str, address: str, period_s: float) -> None:
        self.devices[device] = DeviceHealth(device, address, period_s)

    def polled(self, device: str, latency_s: float, ts_ms: int, nonfinite: int = 0, sampled: bool = True) -> None:
        with self._lock:
            d = self.devices[device]
            d.polls += 1
            d.samples += int(sampled)
            d.consecutive_errors = 0
            d.last_latency_s = latency_s
            d.last_success_ms = ts_ms
            d.nonfinite = nonfinite
            came = d.online is not True
            d.online = True
        if came:
            logger.info("device %s online (%s)", device, d.address)
            self.on_presence(device, True)

    def failed(self, device: str, latency_s: float, error: str) -> None:
        with self._lock:
            d = self.devices[device]
            d.polls += 1
            d.errors += 1
            d.consecutive_errors += 1
            d.last_error = error
            d.last_error_ms = int(time.time() * 1000)
            d.last_latency_s = latency_s
            went = d.online is not False
            d.online = False
        if went:
            logger.warning("device %s offline: %s", device, error)
            self.on_presence(device, False)

    def published(self, frames: int, messages: int) -> None:
        with self._lock:
            self.published_frames += frames
            self.published_messages += messages

    def snapshot(self) -> dict[str, Any]:
        """The health as JSON-able data (the retained health message)."""
        with self._lock:
            devices = {
                d.device: {
                    "online": d.online, "address": d.address, "period_s": d.period_s, "polls": d.polls, "samples": d.samples,
                    "errors": d.errors, "consecutive_errors": d.consecutive_errors, "last_error": d.last_error,
                    "last_error_ms": d.last_error_ms or None, "last_latency_ms": round(d.last_latency_s * 1000, 1),
                    "last_success_ms": d.last_success_ms or None, "nonfinite_values": d.nonfinite,
                }
                for d in self.devices.values()
            }
            published = {"frames": self.published_frames, "messages": self.published_messages}
        clock = self.clock.state
        queue = self.queue
        return {
            "edge": self.edge_id,
            "plant": self.plant,
            "ts": int(time.time() * 1000),
            "started_ms": self.started_ms,
            "timestamps": "edge clock: readings are stamped with this edge's wall clock when polled, not the devices' clocks",
            "clock": {
                "backward_jumps": clock.backward_jumps, "forward_jumps": clock.forward_jumps,
                "holding": clock.holding, "held_samples": clock.held, "last_jump_ms": clock.last_jump_ms,
                "jump_limit_s": self.clock.jump_limit_ms / 1000,
            },
            "queue": {
                "depth": queue.depth, "max_rows": queue.max_rows, "fill": round(queue.fill, 4),
                "accepted": queue.accepted, "refused": queue.refused,
                "when_full": "new samples are refused and counted; queued ones are never dropped",
            },
            "broker_connected": self.broker_connected,
            "broker_refusals": self.broker_refusals,
            "published": published,
            "devices": devices,
        }
