"""End to end: the simulator over real MQTT, through a real ingest worker, into each store; every count exact.

A simulated day goes in as telemetry frames (accelerated), six hours as one message per sensor
(back-fill) and ten minutes accelerated per sensor, each with data-quality and process faults switched on. The
store must then hold exactly the readings and batches the simulator's tally says, and the dead-letter
record exactly the invalid messages it sent, by reason.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
import pytest

from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from simulators import FaultWindow, Tally
from simulators.publisher import Mode, PublishSummary, run_simulator
from tests.helpers import wait_until
from tests.servers import MosquittoServer
from wastewatch.plant import PlantCatalog, PlantConfig
from wastewatch.points import AggregateFn, Store
from wastewatch.topics import status_topic

HOUR_MS = 3_600_000
MINUTE_MS = 60_000
DAY_S = 86_400.0
PER_SENSOR_S = 6 * 3600.0
ACCELERATED_S = 600.0
ACCELERATED_SPEED = 600.0
GAP_MS = 10 * MINUTE_MS  # between the runs, so no two runs can write the same point


@dataclass(frozen=True)
class Run:
    """One `run_simulator` call; `faults` builds its fault windows from the run's start."""

    name: str
    mode: Mode
    telemetry: bool
    duration_s: float
    faults: Callable[[int, PlantConfig], list[FaultWindow]]
    speed: float = ACCELERATED_SPEED


def at_local_hour(start_ms: int, hour: int, plant: PlantConfig) -> int:
    """The first instant at or after `start_ms` when the plant's clock shows `hour`:00."""
    local = datetime.fromtimestamp(start_ms / 1000, plant.zone)
    moment = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if moment < local:
        moment += timedelta(days=1)
    return round(moment.timestamp() * 1000)


def day_faults(start_ms: int, plant: PlantConfig) -> list[FaultWindow]:
    return [
        FaultWindow("duplicates", start_ms, DAY_S, {"probability": 0.05}),
        FaultWindow("out_of_order", start_ms + 1 * HOUR_MS, 2 * 3600),
        FaultWindow("invalid_messages", start_ms + 3 * HOUR_MS, 600, {"interval_s": 60.0}),
        FaultWindow("clock_skew", start_ms + 5 * HOUR_MS, 3600, {"offset_s": 90.0}),
        FaultWindow("network_outage", start_ms + 7 * HOUR_MS, 1800),
        # process faults at plant hours when the plant burns, so they change what it measures
        FaultWindow("wet_batch", at_local_hour(start_ms, 9, plant), 1800),
        FaultWindow("door_puff", at_local_hour(start_ms, 10, plant), 900),
        FaultWindow("cems_calibration", at_local_hour(start_ms, 11, plant), 900),
        FaultWindow("burner_trip", at_local_hour(start_ms, 13, plant), 1200),
        FaultWindow("thermocouple_open", at_local_hour(start_ms, 15, plant), 900),
        FaultWindow("scrubber_failure", at_local_hour(start_ms, 16, plant), 3600),
    ]


def per_sensor_faults(start_ms: int, plant: PlantConfig) -> list[FaultWindow]:
    return [
        FaultWindow("duplicates", start_ms, PER_SENSOR_S, {"probability": 0.1}),
        FaultWindow("out_of_order", start_ms + 1 * HOUR_MS, 3600),
        FaultWindow("invalid_messages", start_ms + 2 * HOUR_MS, 600, {"interval_s": 60.0}),
        FaultWindow("clock_skew", start_ms + 2 * HOUR_MS, 1800, {"offset_s": 90.0}),
        FaultWindow("cems_calibration", start_ms + 3 * HOUR_MS, 900),
        FaultWindow("flatline", start_ms + 3 * HOUR_MS, 1800, {"sensor": "t_secondary"}),
        FaultWindow("network_outage", start_ms + 4 * HOUR_MS, 1800),  # back-filled as JSON arrays per sensor topic
    ]


def accelerated_faults(start_ms: int, plant: PlantConfig) -> list[FaultWindow]:
    return [
        FaultWindow("duplicates", start_ms, ACCELERATED_S, {"probability": 0.2}),
        FaultWindow("out_of_order", start_ms, ACCELERATED_S),
        FaultWindow("invalid_messages", start_ms + MINUTE_MS, 360, {"interval_s": 60.0}),
    ]


# Oldest first; the last run ends GAP_MS before now, so no timestamp (skewed ones included) is in the future.
RUNS = (
    # A whole simulated day in accelerated mode, paced to about four seconds of wall-clock time.
    Run("telemetry-day", "accelerated", True, DAY_S, day_faults, speed=20_000.0),
    Run("per-sensor", "backfill", False, PER_SENSOR_S, per_sensor_faults),
    Run("accelerated", "accelerated", False, ACCELERATED_S, accelerated_faults),
)


def run_starts(now_ms: int) -> list[int]:
    starts, end_ms = [], now_ms - GAP_MS
    for run in reversed(RUNS):
        start_ms = end_ms - round(run.duration_s * 1000)
        starts.append(start_ms)
        end_ms = start_ms - GAP_MS
    return starts[::-1]


def combined(tallies: list[Tally]) -> tuple[Counter[str], Counter[str], Counter[str], int, float]:
    """Readings by sensor and by status, invalid messages by reason, batches and their mass, over all runs."""
    by_sensor: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    invalid: Counter[str] = Counter()
    for tally in tallies:
        by_sensor += tally.readings_by_sensor
        by_status += tally.readings_by_status
        invalid += tally.invalid_by_reason
    return by_sensor, by_status, invalid, sum(t.batches for t in tallies), sum(t.batch_mass_total_kg for t in tallies)


def counts_by(store: Store, tag: str) -> dict[str, int]:
    return {row.tags[tag]: int(row.value or 0) for row in store.aggregate("reading", "value", "count", group_by=[tag])}


def batch_aggregate(store: Store, fn: AggregateFn) -> float:
    rows = store.aggregate("batch", "mass_kg", fn)
    return float(rows[0].value or 0) if rows else 0.0


@pytest.fixture
def clear_retained_status(mosquitto: MosquittoServer, catalog: PlantCatalog) -> Iterator[None]:
    """The simulator leaves its devices' status retained; clear it so later tests on the shared broker start clean."""
    yield
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="e2e-clear-retained", protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    try:
        for plant in catalog:
            for device in plant.devices:
                info = client.publish(status_topic(plant.id, device), b"", qos=1, retain=True)
                info.wait_for_publish(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.usefixtures("clear_retained_status")
def test_a_simulated_day_with_faults_arrives_exactly_once(settings_for, store: Store, catalog: PlantCatalog) -> None:
    plant = next(iter(catalog))
    backend = type(store).__name__.lower()
    settings = settings_for()
    worker = IngestWorker(settings, IngestSettings(client_id=f"e2e-ingest-{backend}"), catalog, store)
    worker.start()
    summaries: list[PublishSummary] = []
    try:
        wait_until(worker.connected.is_set, what="ingest connected")
        for run, start_ms in zip(RUNS, run_starts(int(time.time() * 1000))):
            summary = run_simulator(
                settings.mqtt.address, plant, seed=11, start_ms=start_ms, mode=run.mode, speed=run.speed,
                duration_s=run.duration_s, faults=run.faults(start_ms, plant), telemetry=run.telemetry,
                client_id=f"e2e-sim-{backend}-{run.name}",
            )
            assert summary.rejected == 0 and not summary.stopped, run.name
            summaries.append(summary)
        published = sum(s.published for s in summaries)
        # Retained status messages of earlier tests may arrive on top of what was published here.
        wait_until(lambda: worker.counts().received >= published, timeout_s=60, what="every message received")
        wait_until(lambda: worker.counts().acked == worker.counts().received, timeout_s=30, what="every message written")
        dead_letters = worker.dead_letters.counts()
    finally:
        worker.stop()

    by_sensor, by_status, invalid, batches, mass_kg = combined([s.tally for s in summaries])
    assert sum(by_sensor.values()) == sum(s.tally.distinct_valid_readings for s in summaries)
    assert counts_by(store, "sensor") == dict(by_sensor)
    assert counts_by(store, "status") == dict(by_status)
    assert batches > 0 and batch_aggregate(store, "count") == batches
    assert batch_aggregate(store, "sum") == pytest.approx(mass_kg, abs=0.001)  # to the gram
    assert set(invalid) >= {"malformed_json", "unknown_sensor", "non_numeric", "non_finite", "out_of_range", "timestamp_too_old"}
    assert dead_letters == dict(invalid)
    assert worker.counts().spool_batches == 0
