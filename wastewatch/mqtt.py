"""Making paho-mqtt 2.x clients the same way everywhere: protocol, TLS, credentials, back-off."""

from __future__ import annotations

import logging
import socket
import ssl
import struct
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from wastewatch.settings import BrokerAddress, parse_mqtt_url

logger = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600  # a persistent session outlives a week-long outage of the worker
READ_CHUNK_BYTES = 256 * 1024  # one recv() from the broker's socket; paho takes its packets from this buffer
PACKETS_PER_READ = 2_000  # packets handled from the buffer before paho's loop looks at its writes and keepalive


class BufferedSocket:
    """The broker's socket read in large chunks: paho asks for 1 byte, then 1, then the rest, per packet.

    paho 2.x reads each packet with three or more `recv()` calls and one `select()` (a 4-byte PUBACK
    and a 60-byte PUBLISH alike); from this buffer those are slices. `pending()` tells paho's loop
    that bytes are waiting without `select()` (paho asks it of TLS sockets for the same reason);
    everything else is the wrapped socket's.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, bufsize: int) -> bytes:
        buf, pos = self._buf, self._pos
        if pos >= len(buf):
            buf = bytes(self._sock.recv(READ_CHUNK_BYTES))  # BlockingIOError / SSLWantReadError as paho expects
            if not buf:
                return buf  # the broker closed the connection
            self._buf, pos = buf, 0
        end = pos + bufsize
        self._pos = end
        return buf[pos:end]

    def buffered(self) -> int:
        return max(0, len(self._buf) - self._pos)

    def pending(self) -> int:
        inner = self._sock.pending() if isinstance(self._sock, ssl.SSLSocket) else 0
        return self.buffered() + inner

    def __getattr__(self, name: str) -> Any:  # send, fileno, close, setblocking, do_handshake, ...
        return getattr(self._sock, name)


class _NoSocketIsNotAnError(logging.Filter):
    """paho logs "Client is not connected" as an ERROR whenever its network loop turns without a socket:
    right after our own disconnect at a stop (a race between the loop thread and `disconnect`), and
    between reconnect attempts. Neither is an error of ours: a lost connection is logged by each
    client's `on_disconnect`, and a healthy stop must log no ERROR. It goes on at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and str(record.msg).startswith("Client is not connected"):
            logger.debug("paho: %s", record.getMessage())
            return False
        return True


PAHO_LOGGER = logging.getLogger("paho")
PAHO_LOGGER.addFilter(_NoSocketIsNotAnError())


class BufferedClient(mqtt.Client):
    """A paho client that reads its socket through a `BufferedSocket` and handles what is buffered at once.

    paho's `loop_read` handles one packet per `select()`; this one goes on while whole packets wait in
    the buffer (at most `PACKETS_PER_READ`, so PUBACKs and PINGREQs still go out in between). It
    relies on paho 2.x's `_create_socket` and `loop_read`; paho-mqtt is pinned to 2.x.
    """

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        if isinstance(sock, (socket.socket, ssl.SSLSocket)):  # not the websocket wrapper
            return BufferedSocket(sock)
        return sock

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        sock: Any = self._sock
        if not isinstance(sock, BufferedSocket):
            return rc
        buffered = sock.buffered
        for _ in range(PACKETS_PER_READ):
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or self._sock is not sock or not buffered():
                break
            rc = super().loop_read(max_packets)
        return rc


def make_client(
    broker: BrokerAddress,
    client_id: str,
    *,
    protocol: str = "5",
    ca_file: Path | None = None,
    manual_ack: bool = False,
    persistent: bool = False,
) -> mqtt.Client:
    """A paho client for `broker`, not yet connected. `persistent` keeps the session across reconnects."""
    version = mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311
    client = BufferedClient(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=version,
        clean_session=None if version == mqtt.MQTTv5 else not persistent,
        manual_ack=manual_ack,
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(ca_certs=str(ca_file) if ca_file else None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    # An exception in one of our callbacks must cost that callback only, never the network loop (by
    # default paho re-raises it and the loop thread dies: no more messages, no reconnects). paho logs it.
    client.suppress_exceptions = True
    client.enable_logger(PAHO_LOGGER)
    return client


def connect_properties(*, persistent: bool, receive_maximum: int | None = None) -> Properties | None:
    """MQTT 5 CONNECT properties: session expiry for a persistent session, and our in-flight window."""
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    if persistent:
        props.SessionExpiryInterval = SESSION_EXPIRY_S
    if receive_maximum is not None:
        props.ReceiveMaximum = receive_maximum
    return props


def connect(
    client: mqtt.Client,
    broker: BrokerAddress,
    *,
    persistent: bool = False,
    receive_maximum: int | None = None,
    keepalive_s: int = 30,
) -> None:
    """Start connecting (asynchronously; the network loop finishes the handshake and reconnects)."""
    if client.protocol == mqtt.MQTTv5:
        client.connect_async(
            broker.host,
            broker.port,
            keepalive=keepalive_s,
            clean_start=not persistent,
            properties=connect_properties(persistent=persistent, receive_maximum=receive_maximum),
        )
    else:
        client.connect_async(broker.host, broker.port, keepalive=keepalive_s)


_PUBACK = 0x40


def send_pubacks(client: mqtt.Client, mids: list[int]) -> None:
    """Acknowledge QoS 1 messages in one socket write instead of one per message.

    `Client.ack()` queues and writes each 4-byte PUBACK separately: a system call and a wake-up
    per message, the largest cost left at 20,000 messages/s. The PUBACKs are the same bytes
    `ack()` would send (MQTT 3.1.1 §3.4; valid in MQTT 5 without a reason code), in the same
    order, handed to paho's own output queue as one buffer. paho-mqtt is pinned to 2.x, whose
    `_packet_queue` this uses; without it we fall back to `ack()`.
    """
    if not mids:
        return
    queue_packet = getattr(client, "_packet_queue", None)
    if queue_packet is None:
        for mid in mids:
            client.ack(mid, 1)
        return
    queue_packet(_PUBACK, b"".join([struct.pack("!BBH", _PUBACK, 2, mid) for mid in mids]), 0, 1)


def publish_all(
    url: str,
    messages: list[tuple[str, bytes]],
    *,
    client_id: str = "wastewatch-publisher",
    qos: int = 1,
    ca_file: Path | None = None,
) -> None:
    """Publish with QoS 1 and return once the broker has acknowledged every message (tests, benchmarks)."""
    broker = parse_mqtt_url(url)
    client = make_client(broker, client_id, protocol="5", ca_file=ca_file)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=qos) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout=60)
            if not info.is_published():
                raise TimeoutError(f"message {info.mid} was not acknowledged by the broker")
    finally:
        client.disconnect()
        client.loop_stop()
