"""`wastewatch edge run`: the device file's sources polled into the queue, the queue forwarded to the broker.

Three kinds of threads: one asyncio loop running a task per device (and the queue writer, which
puts every sample that arrived meanwhile into one transaction), the forwarder, and paho's network
loop. `Edge.start()` / `Edge.stop()` run it in-process (the tests); `run_edge` until a signal.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from pathlib import Path

from edge.clock import EdgeClock
from edge.devices import DeviceFile, DeviceFileError, load_device_file
from edge.forwarder import Forwarder
from edge.health import EdgeHealth
from edge.metrics import EdgeMetrics
from edge.modbus import ModbusSource, quiet_pymodbus
from edge.opcua_devices import OpcUaDevice
from edge.poller import pushed, samples
from edge.queue import SampleQueue
from edge.settings import EdgeSettings
from edge.sources import PushSource, Sample, Source
from wastewatch.plant import PlantConfig, load_catalog
from wastewatch.runtime import wait_for_signal
from wastewatch.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

WRITE_BATCH_MAX = 10_000
STOP_TIMEOUT_S = 15.0  # stop_polling waits this long for the pollers' loop
STOP_DRAIN_S = 5.0  # on SIGTERM the forwarder gets this long to empty the queue; the rest is sent at the next start


def build_sources(spec: DeviceFile) -> list[Source]:
    """One source per device of the file (every protocol the file may name)."""
    sources: list[Source] = []
    for device in spec.devices:
        if isinstance(device, OpcUaDevice):
            # lazy: asyncua loads only when the file names an OPC UA device
            from edge.opcua import OpcUaSource, quiet_asyncua

            quiet_asyncua()
            sources.append(OpcUaSource(device))
        else:
            sources.append(ModbusSource(device))
    return sources


def load_edge_plant(settings: Settings, path: Path) -> tuple[PlantConfig, DeviceFile]:
    """The device file at `path`, validated against its plant in the plant file(s)."""
    catalog = load_catalog(settings.plant_config)
    first = load_device_file(path, None)
    plant = catalog.get(first.plant)
    if plant is None:
        raise DeviceFileError(f"{path}: plant: {first.plant!r} is not in the plant file(s) (ids: {', '.join(catalog.ids)})")
    return plant, load_device_file(path, plant)


class Edge:
    def __init__(self, settings: Settings, edge: EdgeSettings, spec: DeviceFile) -> None:
        self.settings = settings
        self.edge = edge
        self.spec = spec
        self.queue_path = edge.queue_path or settings.data_dir / "edge-queue.sqlite3"
        self.queue = SampleQueue(self.queue_path, edge.queue_max_rows)
        self.clock = EdgeClock(edge.clock_jump_limit_s)
        self.clock.resume_after(self.queue.newest_ts())
        self.health = EdgeHealth(edge.edge_id, spec.plant, self.queue, self.clock)
        self.sources = build_sources(spec)
        for source in self.sources:
            self.health.add_device(source.device, source.describe(), source.period_s)
        self.forwarder = Forwarder(settings.mqtt, edge, spec.plant, self.queue, self.health)
        self.metrics = EdgeMetrics(self.health)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="edge-pollers", daemon=True)
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        if self.edge.metrics_port:
            self.metrics.serve(self.edge.metrics_port)
        self.forwarder.start()
        self._thread.start()
        self._ready.wait(10)
        logger.info(
            "edge %s polling %d devices of plant %s; queue %s (%d waiting)",
            self.edge.edge_id, len(self.sources), self.spec.plant, self.queue_path, self.queue.depth,
        )

    def stop_polling(self) -> bool:
        """Stop every poller; what they polled is in the queue when this returns True (False: the pollers'
        loop did not stop within STOP_TIMEOUT_S, and is logged)."""
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.ident is not None:
            self._thread.join(timeout=STOP_TIMEOUT_S)
        if self._thread.is_alive():
            logger.error("the edge's pollers did not stop within %.0f s; the queue is left open for what they still write",
                         STOP_TIMEOUT_S)
            return False
        return True

    def drain(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the forwarder to empty the queue (True when it did)."""
        deadline = time.monotonic() + timeout_s
        while self.queue.depth and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self.queue.depth

    def stop(self, drain_s: float = 0.0) -> None:
        """Stop polling, give the forwarder `drain_s` to empty the queue, then stop (the rest waits for the next start)."""
        stopped = self.stop_polling()
        if drain_s and self.forwarder.connected.is_set():
            self.drain(drain_s)
        self.forwarder.publish_health()
        self.forwarder.stop()
        self.metrics.close()
        if stopped:  # (closed under a writer still running, the samples it holds would be lost)
            self.queue.close()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        pending: asyncio.Queue[Sample] = asyncio.Queue()
        tasks = [asyncio.create_task(self._poll(source, pending), name=f"poll-{source.device}") for source in self.sources]
        writer = asyncio.create_task(self._write(pending), name="queue-writer")
        health = asyncio.create_task(self._health(), name="health")
        self._ready.set()
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        health.cancel()
        done, pending_tasks = await asyncio.wait([*tasks, health], timeout=STOP_TIMEOUT_S / 2)
        for task in done:
            if not task.cancelled():
                task.exception()  # retrieved: a poller's failure was logged where it happened
        if pending_tasks:  # a source that does not take its cancellation: say which, then wait on
            logger.warning("still stopping after %.1f s: %s", STOP_TIMEOUT_S / 2, ", ".join(sorted(t.get_name() for t in pending_tasks)))
            await asyncio.gather(*pending_tasks, return_exceptions=True)
        for source in self.sources:
            await source.close()
        await pending.put(_STOP)
        await writer  # every sample polled before the stop is written

    async def _poll(self, source: Source, pending: asyncio.Queue[Sample]) -> None:
        if isinstance(source, PushSource):  # OPC UA: subscribed, not polled
            await pushed(source, self.clock, self.health, pending.put_nowait)
            return
        async for sample in samples(source, self.clock, self.health):
            pending.put_nowait(sample)

    async def _write(self, pending: asyncio.Queue[Sample]) -> None:
        while True:
            batch = [await pending.get()]
            while not pending.empty() and len(batch) < WRITE_BATCH_MAX:
                batch.append(pending.get_nowait())
            done = batch[-1] is _STOP
            batch = [s for s in batch if s is not _STOP]
            while batch:
                try:
                    await asyncio.to_thread(self.queue.append, batch)
                    break
                except sqlite3.Error as exc:  # a full disk, a locked file: keep the batch, try again
                    logger.error("edge queue write failed (%s): %d samples held in memory, retrying", exc, len(batch))
                    await asyncio.sleep(1.0)
            if done:
                return

    async def _health(self) -> None:
        while True:
            await asyncio.sleep(self.edge.health_interval_s)
            self.forwarder.publish_health()


_STOP = Sample("", 0, {})


def run_edge(settings: Settings, edge: EdgeSettings, path: Path | None) -> int:
    device_file = path or edge.device_file
    if device_file is None:
        raise SettingsError("bad setting WASTEWATCH_EDGE_DEVICE_FILE: give the device file as FILE or in the environment")
    _, spec = load_edge_plant(settings, device_file)
    quiet_pymodbus(settings.log_level)
    runner = Edge(settings, edge, spec)
    runner.start()
    try:
        wait_for_signal(threading.Event())
    finally:
        runner.stop(drain_s=STOP_DRAIN_S)
    return 0
