"""`wastewatch ingest`: wire settings, catalogue, store and worker; run until a signal."""

from __future__ import annotations

import logging
import threading

from ingest.health import IngestHealthWriter
from ingest.settings import IngestSettings
from ingest.worker import IngestWorker
from wastewatch.plant import load_catalog
from wastewatch.runtime import wait_for_signal
from wastewatch.settings import Settings, SettingsError
from wastewatch.store import open_store

logger = logging.getLogger(__name__)


def run_ingest(settings: Settings, ingest: IngestSettings) -> int:
    if settings.mqtt.url is None:
        raise SettingsError("bad setting WASTEWATCH_MQTT_URL: required for `wastewatch ingest`")
    catalog = load_catalog(settings.plant_config)
    store = open_store(settings)
    worker = IngestWorker(settings, ingest, catalog, store)
    worker.start()
    health = IngestHealthWriter.for_worker(worker)
    health.start()
    try:
        wait_for_signal(threading.Event())
    finally:
        health.stop()
        worker.stop()
        store.close()
    return 0
