"""`wastewatch sispek run`: the uploader's loop (unofficial until confirmed with KLHK).

At start it loads and checks the stacks mapping (against the plant catalogue, then against the
server's stacks list when the server answers), creates its tables, and then, every `tick_s`, renews
its lease (one uploader per database), queues the periods that closed and sends what is due. A failing store or server costs a pass, never the loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sispek.client import SispekClient, SispekError
from sispek.lease import UploaderLease, holder_id
from sispek.schema import create_schema
from sispek.settings import SispekSettings
from sispek.stacks import StackMapping, check_against_server, load_stacks
from sispek.uploader import Uploader, UploadPolicy
from wastewatch.errors import ConfigError
from wastewatch.plant import load_catalog
from wastewatch.points import StoreError
from wastewatch.relational import Database, DatabaseError, connect_database
from wastewatch.runtime import stop_on_signal
from wastewatch.settings import Settings
from wastewatch.store import open_store

logger = logging.getLogger(__name__)


def policy_of(settings: SispekSettings) -> UploadPolicy:
    return UploadPolicy(settings.interval_s, settings.settle_s, settings.retry_window_h, settings.retry_base_s,
                        settings.retry_max_s, settings.batch_max, settings.send_sentinels)


def client_of(settings: SispekSettings) -> SispekClient:
    if not (settings.base_url and settings.app_id and settings.app_secret):
        raise ConfigError("the SISPEK upload needs WASTEWATCH_SISPEK_BASE_URL, WASTEWATCH_SISPEK_APP_ID and WASTEWATCH_SISPEK_APP_SECRET")
    return SispekClient(settings.base_url, settings.app_id, settings.app_secret.get_secret_value(), timeout_s=settings.timeout_s)


def check_with_server(client: SispekClient, stacks: list[StackMapping]) -> bool:
    """Compare the mapping with the server's stacks list; False when the server could not be asked
    (checked again at the next start). A disagreement raises `SispekConfigError`."""
    try:
        expected = client.stacks()
    except SispekError as exc:
        if exc.retryable:
            logger.warning("the SISPEK stacks list could not be read, the mapping is unchecked: %s", exc)
            return False
        raise ConfigError(f"the SISPEK server refused the stacks list: {exc}") from exc
    for warning in check_against_server(stacks, expected):
        logger.warning("%s", warning)
    return True


class SispekService:
    """The loop: each pass takes or renews the lease, then queues and sends; a process without the
    lease waits (another uploader runs on this database)."""

    def __init__(self, db: Database, uploader: Uploader, lease: UploaderLease, *, tick_s: float = 5.0) -> None:
        self.db, self.uploader, self.lease, self.tick_s = db, uploader, lease, tick_s
        self._waiting = False

    def run_pass(self) -> bool:
        """One pass; whether this process held the lease."""
        try:
            held = self.lease.acquire(self.uploader.now_ms())
        except DatabaseError as exc:
            logger.warning("sispek lease check failed, retrying next pass: %s", exc)
            return False
        if not held:
            if not self._waiting:
                logger.warning("another sispek uploader holds the lease, waiting holder=%s", self.lease.holder_now())
            self._waiting = True
            return False
        self._waiting = False
        try:
            self.uploader.queue_closed()
        except (StoreError, DatabaseError) as exc:
            logger.warning("sispek queueing failed, retrying next pass: %s", exc)
        try:
            self.uploader.send_due()
        except DatabaseError as exc:
            logger.warning("sispek sending failed, retrying next pass: %s", exc)
        return True

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    self.run_pass()
                except Exception:  # a bug in one pass must not end the upload
                    logger.exception("sispek pass failed unexpectedly")
                stop.wait(self.tick_s)
        finally:
            try:
                self.lease.release()
            except DatabaseError as exc:
                logger.warning("sispek lease not released (it lapses by itself): %s", exc)


def run_sispek(settings: Settings, sispek: SispekSettings, *, stop: threading.Event | None = None,
               wall: Callable[[], float] = time.time, tick_s: float = 5.0) -> int:
    if not sispek.enabled:
        raise ConfigError("the SISPEK upload is disabled: set WASTEWATCH_SISPEK_ENABLED=true (unofficial until confirmed with KLHK)")
    catalog = load_catalog(settings.plant_config)
    stacks = load_stacks(sispek.stacks_file, catalog)
    zones = {stack.plant: catalog.get(stack.plant).zone for stack in stacks}  # type: ignore[union-attr]  # checked by load_stacks
    client = client_of(sispek)
    db = connect_database(settings)
    store = open_store(settings)
    try:
        create_schema(db)
        check_with_server(client, stacks)
        lease = UploaderLease(db, holder_id(), sispek.lease_s * 1000)
        service = SispekService(db, Uploader(db, store, client, stacks, zones, policy_of(sispek), wall=wall), lease, tick_s=tick_s)
        logger.info("sispek upload running (unofficial until confirmed with KLHK) stacks=%s interval_s=%s",
                    [s.id_cerobong for s in stacks], sispek.interval_s)
        stop = stop or threading.Event()
        with stop_on_signal(stop):
            service.run(stop)
    finally:
        client.close()
        db.close()
        close = getattr(store, "close", None)
        if callable(close):
            close()
    return 0
