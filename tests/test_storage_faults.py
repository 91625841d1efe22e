"""The ingest under storage faults: InfluxDB SIGKILLed again and again during a back-fill, and a spool
whose disk is nearly full. Both end with exact counts: nothing lost, nothing doubled."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from tests.helpers import publish_all, wait_until
from tests.test_ingest import reading_messages, recent_ms, stored_count
from wastewatch.settings import BrokerSettings, InfluxSettings, Settings
from wastewatch.store.influx import InfluxStore

pytestmark = pytest.mark.fault


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, so the spool meets a really full disk (needs root, as CI and this machine have)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_influx_killed_again_and_again_during_a_backfill_loses_nothing(tmp_path, mosquitto, own_influx, catalog):
    store = InfluxStore(own_influx.url, "killed")
    settings = Settings(mqtt=BrokerSettings(url=mosquitto.url), data_dir=tmp_path, influx=InfluxSettings(url=own_influx.url))
    worker = IngestWorker(settings, IngestSettings(client_id="ingest-influx-killed"), catalog, store)
    worker.start()
    total = 40_000
    try:
        wait_until(worker.connected.is_set)
        start = recent_ms()
        publisher = threading.Thread(target=publish_all, args=(mosquitto.url, reading_messages(total, start_ms=start)))
        publisher.start()
        for round_no in range(3):
            # Kill each time once more has arrived than before, so every kill lands mid-stream.
            wait_until(lambda n=round_no: worker.counts().acked > (n + 1) * 5000, timeout_s=60, what=f"progress before kill {round_no}")
            own_influx.kill()
            wait_until(lambda: worker.spool.batches > 0, timeout_s=60, what="spooling while InfluxDB is dead")
            own_influx.start()
        publisher.join(timeout=120)
        wait_until(lambda: worker.spool.batches == 0 and stored_count(store) == total, timeout_s=120, what="all stored")
        # Retained status messages other tests left on the session broker arrive too: every message counts. A batch is
        # acknowledged just after its write, so the last acknowledgements may follow the store's count by a moment.
        wait_until(lambda: worker.counts().acked == worker.counts().received >= total, timeout_s=30, what="every message acknowledged")
        assert worker.dead_letters.counts() == {}
    finally:
        worker.stop()
        store.close()


def test_a_nearly_full_disk_holds_the_ingest_back_and_loses_nothing(small_disk, mosquitto, own_influx, catalog):
    store = InfluxStore(own_influx.url, "fulldisk")
    store.ensure_database()
    own_influx.stop()  # everything must go to the spool, on a disk of 1 MiB
    settings = Settings(mqtt=BrokerSettings(url=mosquitto.url), data_dir=small_disk, influx=InfluxSettings(url=own_influx.url))
    ingest = IngestSettings(
        client_id="ingest-full-disk",
        spool_max_bytes=1 << 30,  # the disk, not the bound, is what fills up
        spool_min_free_bytes=256 * 1024,
    )
    worker = IngestWorker(settings, ingest, catalog, store)
    worker.start()
    total = 60_000
    try:
        wait_until(worker.connected.is_set)
        start = recent_ms()
        publish_all(mosquitto.url, reading_messages(total, start_ms=start))
        wait_until(lambda: worker.metrics.spool_full._value.get() == 1, timeout_s=120, what="the disk full")
        held_back = total - worker.counts().acked
        assert held_back > 0, "the disk never filled: the test proves nothing"
        own_influx.start()
        wait_until(lambda: stored_count(store) == total, timeout_s=180, what="all stored after the store returned")
        wait_until(lambda: worker.spool.batches == 0, timeout_s=30, what="spool drained")
        # A batch is stored a moment before its acknowledgements go out: wait for them, do not race them.
        # (retained status messages other tests left on the session broker arrive too: every message counts)
        wait_until(lambda: worker.counts().acked == worker.counts().received >= total, timeout_s=30, what="every message acknowledged")
        assert worker.dead_letters.counts() == {}
    finally:
        worker.stop()
        store.close()
