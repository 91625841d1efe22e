"""Real local endpoints for the notifier tests: an HTTP webhook receiver in a thread, an SMTP server
(aiosmtpd), and an MQTT subscriber collecting alert messages.

The webhook receiver does what the README tells a receiver to do: check the timestamp and the
signature over the timestamp, the idempotency key and the raw body, then drop a repeated idempotency key and answer 200 either way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from wastewatch.runtime import free_port


def receiver_verifies(secret: str, timestamp: str, key: str, body: bytes, signature: str, max_age_s: int = 300) -> bool:
    """The README's receiver check, written with the standard library only (not with our own helper):
    the signature covers `timestamp.idempotency_key.raw body`."""
    if not (timestamp.isascii() and timestamp.isdigit()) or abs(time.time() - int(timestamp)) > max_age_s:
        return False
    signed = timestamp.encode() + b"." + key.encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


@dataclass
class Received:
    key: str
    body: dict[str, Any]
    headers: dict[str, str]
    verified: bool


@dataclass
class WebhookReceiver:
    secret: str
    port: int = field(default_factory=free_port)
    status: int = 200
    hold_first: threading.Event | None = None  # set: the first request is answered only once it is set
    requests: list[Received] = field(default_factory=list)
    arrivals: list[str] = field(default_factory=list)  # the idempotency key of every request, as it arrives
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def accepted(self) -> list[Received]:
        """Verified requests, first of each idempotency key, in arrival order."""
        seen: set[str] = set()
        out = []
        with self._lock:
            for r in self.requests:
                if r.verified and r.key not in seen:
                    seen.add(r.key)
                    out.append(r)
        return out

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.arrivals.append(self.headers.get("X-Wastewatch-Idempotency-Key", ""))
                    first = len(receiver.arrivals) == 1
                if first and receiver.hold_first is not None:
                    receiver.hold_first.wait(60)
                ok = receiver_verifies(receiver.secret, self.headers.get("X-Wastewatch-Timestamp", ""),
                                       self.headers.get("X-Wastewatch-Idempotency-Key", ""), body,
                                       self.headers.get("X-Wastewatch-Signature", ""))
                status = receiver.status if ok else 401
                if status == 200:
                    with receiver._lock:
                        receiver.requests.append(Received(self.headers["X-Wastewatch-Idempotency-Key"], json.loads(body),
                                                          dict(self.headers), ok))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on a free loopback port; `messages` holds (from, to, raw bytes) of each accepted mail.

    With `tls_context` it offers STARTTLS and requires it; with `login` it requires AUTH (over TLS).
    """

    def __init__(self, tls_context: ssl.SSLContext | None = None, login: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self._mailbox = _Mailbox()
        params: dict[str, Any] = {}
        if tls_context is not None:
            params.update(tls_context=tls_context, require_starttls=True)
        if login is not None:

            def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
                ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == login
                return AuthResult(success=ok, handled=False)

            params.update(authenticator=authenticate, auth_required=True, auth_require_tls=tls_context is not None)
        self._controller = Controller(self._mailbox, hostname="127.0.0.1", port=self.port, server_hostname="localhost",
                                      **params)

    @property
    def messages(self) -> list[tuple[str, list[str], bytes]]:
        return self._mailbox.messages

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh self-signed certificate for 127.0.0.1, and a client context trusting it."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def _document(payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except ValueError:
        return {"raw": payload.decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {"raw": value}


class MqttCollector:
    """Subscribes to `topics` and keeps (topic, JSON payload, retained) of everything that arrives."""

    def __init__(self, url: str, topics: str | list[str], client_id: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from wastewatch.settings import parse_mqtt_url

        self.messages: list[tuple[str, dict[str, Any], bool]] = []
        broker = parse_mqtt_url(url)
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self._client.on_message = lambda c, u, m: self.messages.append((m.topic, _document(bytes(m.payload)), bool(m.retain)))
        self._client.on_subscribe = lambda *a: self._subscribed.set()
        self._client.connect(broker.host, broker.port)
        self._client.subscribe([(t, 1) for t in ([topics] if isinstance(topics, str) else topics)])
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise AssertionError(f"could not subscribe to {topics}")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
