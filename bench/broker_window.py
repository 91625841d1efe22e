"""Does Mosquitto's `max_inflight_messages` limit the ingest? Stream readings through a real ingest
with each window and report throughput and the most messages seen unacknowledged at once.

    python -m bench.broker_window --windows 20 10000 --messages 20000

The publisher is paho (QoS 1, online while the ingest runs), so throughput here is the publisher's;
the point is the unacknowledged count against the configured window.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

from ingest.worker import IngestWorker
from tests.servers import InfluxServer, MosquittoServer
from wastewatch.mqtt import publish_all
from wastewatch.plant import load_catalog
from wastewatch.settings import Settings
from wastewatch.store.influx import InfluxStore


def one(window: int, messages: int) -> None:
    broker = MosquittoServer(extra_config=f"allow_anonymous true\nmax_inflight_messages {window}").start()
    influx = InfluxServer().start()
    store = InfluxStore(influx.url, "window")
    settings = Settings(mqtt_url=broker.url, data_dir=Path(tempfile.mkdtemp()), influx_url=influx.url, influx_database="window")
    worker = IngestWorker(settings, load_catalog(None), store)
    try:
        worker.start()
        worker.connected.wait(10)
        start_ms = int(time.time() * 1000) - 3_600_000
        batch = [
            ("plants/kotim/sensors/t_primary", json.dumps({"ts": start_ms + k, "value": 850.0}).encode()) for k in range(messages)
        ]
        began, most = time.perf_counter(), 0
        publisher = threading.Thread(target=publish_all, args=(broker.url, batch))
        publisher.start()
        while worker.counts().acked < messages and time.perf_counter() - began < 300:
            counts = worker.counts()
            most = max(most, counts.received - counts.acked)
            time.sleep(0.002)
        elapsed = time.perf_counter() - began
        publisher.join()
        print(f"max_inflight_messages {window}: {messages / elapsed:,.0f} msg/s, at most {most} unacknowledged at once", flush=True)
    finally:
        worker.stop()
        store.close()
        broker.cleanup()
        influx.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--windows", type=int, nargs="+", default=[20, 10000])
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    for window in args.windows:
        one(window, args.messages)


if __name__ == "__main__":
    main()
