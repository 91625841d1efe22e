"""An embedded MQTT broker (amqtt, MQTT 3.1.1) for `wastewatch demo` on a machine with no broker.

amqtt is used rather than a hand-written broker: it is a maintained, pure-Python broker that
installs from PyPI with the package. It keeps sessions in memory only, so it is for the demo;
production uses Mosquitto (see the README's deployment section).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from amqtt.broker import Broker

logger = logging.getLogger(__name__)
# amqtt's message for a connection that closed before its first byte (amqtt.errors.NoDataError)
_NO_FIRST_PACKET = "No data to decode MQTT packet fixed header"


class _PortProbes(logging.Filter):
    """A connection closed before sending anything is a port probe (the API's `/ready`, a TCP health
    check), not a failing client; amqtt logs each as an ERROR and a WARNING, kept here at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if _NO_FIRST_PACKET in text:
            logger.debug("a connection closed before MQTT CONNECT (a port probe): %s", text)
            return False
        return True


_PORT_PROBES = _PortProbes()  # one instance, so starting brokers again adds it once


class EmbeddedBroker:
    """amqtt on its own event-loop thread, listening on loopback only."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._broker: Broker | None = None
        logging.getLogger("amqtt.broker").addFilter(_PORT_PROBES)
        self._thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    async def _start_broker(self) -> None:
        # Built here, on the broker's own loop: amqtt's Broker.__init__ binds its shutdown future to
        # the current thread's event loop, and built in the caller's thread shutdown() never saw it
        # resolve, so stop() always ran into its timeout.
        self._broker = Broker(self._config, loop=self._loop)
        await self._broker.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start_broker())
        except BaseException as exc:  # reported to start() in the caller's thread
            self._error = exc
            self._close_loop()
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()
        self._close_loop()

    def _close_loop(self) -> None:
        # Tasks amqtt leaves behind (a client still connected at stop) are cancelled, not destroyed pending.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def start(self, timeout_s: float = 10.0) -> EmbeddedBroker:
        self._thread.start()
        if not self._started.wait(timeout_s) or self._error is not None:
            raise RuntimeError(f"embedded MQTT broker did not start on port {self.port}: {self._error}")
        logger.info("embedded MQTT broker listening url=%s", self.url)
        return self

    def stop(self, timeout_s: float = 3.0) -> None:
        if self._error is not None or not self._thread.is_alive():  # never started, or start() failed
            return
        if self._broker is not None:
            future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                future.result(timeout_s)
            except (FutureTimeout, Exception) as exc:  # a slow shutdown must not hang the demo's exit
                logger.debug("embedded broker shutdown incomplete: %r", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)
