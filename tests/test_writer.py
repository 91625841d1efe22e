"""The durable write path: bad points isolated, outages spooled, a full spool holds back (never drops)."""

from __future__ import annotations

import random
import threading

from ingest.deadletters import DeadLetterStore
from ingest.metrics import IngestMetrics
from ingest.spool import Spool
from ingest.writer import Backoff, DurableWriter
from tests.helpers import wait_until
from tests.servers import InfluxServer
from wastewatch.points import Point
from wastewatch.store.influx import InfluxStore

T0 = 1_795_000_000_000


def reading(i: int, value: float | str = 1.0) -> Point:
    return Point("reading", {"plant": "kotim", "sensor": "co", "status": "valid"}, {"value": value}, T0 + i)


def make_writer(store, tmp_path, spool_bytes: int = 1 << 30) -> DurableWriter:
    return DurableWriter(
        store,
        Spool(tmp_path / "spool.sqlite3", spool_bytes),
        DeadLetterStore(tmp_path / "dead.sqlite3"),
        IngestMetrics(),
        retry_budget_s=0.2,
    )


def test_a_rejected_point_is_isolated_and_dead_lettered_and_the_rest_written(influx_store, tmp_path):
    influx_store.write([reading(0, 5.0)])  # "value" is now a float field
    writer = make_writer(influx_store, tmp_path)
    batch = [reading(i) for i in range(1, 50)] + [reading(50, "not a float")] + [reading(i) for i in range(51, 100)]
    writer.write(batch)
    assert int(influx_store.aggregate("reading", "value", "count")[0].value) == 99
    letters = writer.dead_letters.list()
    assert [(d.reason, d.topic) for d in letters] == [("store_rejected", "(store)")]
    assert b'value="not a float"' in letters[0].payload


def test_a_missing_database_is_created_not_blamed_on_the_points(influx, tmp_path):
    store = InfluxStore(influx.url, "created_on_first_write")
    try:
        make_writer(store, tmp_path).write([reading(1), reading(2)])
        assert int(store.aggregate("reading", "value", "count")[0].value) == 2
    finally:
        store.drop_database()
        store.close()


def test_spool_keeps_batches_in_order_and_refuses_past_its_bound(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite3", max_bytes=4096)
    assert spool.append([reading(1)]) and spool.append([reading(2)])
    assert not spool.append([reading(i) for i in range(100)])  # would exceed 4 KiB
    head = spool.oldest()
    assert head is not None and head[1] == [reading(1)]
    spool.remove(head[0])
    reopened = Spool(tmp_path / "spool.sqlite3", max_bytes=4096)  # survives a restart
    assert reopened.batches == 1 and reopened.oldest()[1] == [reading(2)]  # type: ignore[index]


def test_backoff_is_capped_jittered_and_honours_retry_after():
    backoff = Backoff(base_s=0.1, cap_s=2.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(30)]
    assert all(0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 20  # jittered
    assert backoff.next_delay(retry_after_s=30) >= 30


def test_store_down_spools_and_a_full_spool_holds_back_until_the_store_returns(tmp_path):
    server = InfluxServer()  # not started yet: nothing listens on its port
    store = InfluxStore(server.url, "held")
    writer = make_writer(store, tmp_path, spool_bytes=64 * 1024)
    first = [reading(i) for i in range(0, 300)]
    writer.write(first)  # InfluxDB is down: spooled, and the call returns (the caller may acknowledge)
    assert writer.spool.points == 300
    second = [reading(i) for i in range(300, 1300)]
    done = threading.Event()
    worker = threading.Thread(target=lambda: (writer.write(second), done.set()))
    worker.start()
    try:
        wait_until(lambda: writer.metrics.registry.get_sample_value("wastewatch_ingest_spool_full") == 1, what="spool full")
        assert not done.is_set()  # not durable yet, so not acknowledged
        server.start()  # empty: the writer creates the database it needs
        wait_until(done.is_set, timeout_s=60, what="write completed after the store returned")
        wait_until(lambda: (writer.drain(force=True), writer.spool.batches == 0)[1], timeout_s=30)
        assert int(store.aggregate("reading", "value", "count")[0].value) == 1300
    finally:
        writer._stop.set()
        worker.join(timeout=10)
        server.cleanup()
        store.close()
