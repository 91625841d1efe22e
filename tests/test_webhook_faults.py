"""A webhook receiver that first times out, then answers 500, then recovers: every notification
arrives exactly once, in order per alert, and every failed attempt is on record."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from alerts.notifiers.log import LogNotifier
from alerts.notifiers.webhook import WebhookNotifier
from alerts.outbox import Outbox
from tests.alert_receivers import receiver_verifies
from tests.helpers import wait_until
from tests.servers import free_port
from tests.test_alert_lifecycle import alert_db_url
from tests.test_alert_sender import SECRET, Setup
from wastewatch.plant import PlantCatalog

pytestmark = pytest.mark.fault

TIMEOUT_S = 0.5


class ScriptedReceiver:
    """Answers its first `slow` requests after longer than the sender waits, the next `failing` with
    500, and every later one with 200, recording (key, body) of the 200s."""

    def __init__(self, slow: int, failing: int) -> None:
        self.slow, self.failing = slow, failing
        self.port = free_port()
        self.seen = 0
        self.delivered: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> ScriptedReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                assert receiver_verifies(
                    SECRET, self.headers.get("X-Wastewatch-Timestamp", ""), self.headers.get("X-Wastewatch-Idempotency-Key", ""),
                    body, self.headers.get("X-Wastewatch-Signature", ""),
                )
                with receiver._lock:
                    receiver.seen += 1
                    n = receiver.seen
                if n <= receiver.slow:
                    time.sleep(TIMEOUT_S * 3)  # the sender has given up by now
                    status = 200  # too late: the sender counts this attempt as failed and retries
                elif n <= receiver.slow + receiver.failing:
                    status = 500
                else:
                    status = 200
                    with receiver._lock:
                        receiver.delivered.append((self.headers["X-Wastewatch-Idempotency-Key"], json.loads(body)))
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender hung up on a slow answer

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def test_a_receiver_that_times_out_then_fails_then_recovers_gets_everything_once_in_order(
    alert_db_url: str, catalog: PlantCatalog
) -> None:
    setup = Setup(alert_db_url, catalog, "operators=log;agency=webhook")
    receiver = ScriptedReceiver(slow=2, failing=3).start()
    sender = setup.sender({"webhook": WebhookNotifier(receiver.url, SECRET, timeout_s=TIMEOUT_S), "log": LogNotifier()})
    outbox = Outbox(setup.db)
    try:
        setup.alerts(3)
        sender.start()
        wait_until(lambda: all(r.status == "sent" for r in outbox.rows(channel="webhook")), timeout_s=60, what="all sent")
        receipts = [d.receipt for row in outbox.rows(channel="webhook") for d in outbox.deliveries(row.id)]
    finally:
        sender.stop()
        receiver.stop()
        setup.close()
    keys = [key for key, _ in receiver.delivered]
    assert len(keys) == len(set(keys)) == 6  # 3 raised + 3 cleared, each accepted once
    for alert_id in {body["alert_id"] for _, body in receiver.delivered}:
        assert [b["kind"] for _, b in receiver.delivered if b["alert_id"] == alert_id] == ["raised", "cleared"]
    assert sum("HTTP 500" in r for r in receipts) == 3
    assert sum("HTTP 200" in r for r in receipts) == 6
    assert len(receipts) == 2 + 3 + 6  # two timed out, three failed, six delivered: every attempt recorded
