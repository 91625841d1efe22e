"""A local stand-in for the SISPEK server (the assumed endpoints of `sispek.client`), for the tests.

It checks every request: the token (issued by the token call from the right app id and secret), the
submit payload's shape, its parameter names against the stack's list, numbers (finite, not booleans,
not strings), the time format ("YYYY-MM-DD HH:MM:SS" on a 5-minute boundary) and the order of a
batch. Each violation is recorded (`violations`) and answered 422; each accepted record is kept once
per (id_cerobong, waktu), as the real server is assumed to (no idempotency key is known), while
`deliveries` counts every time a record arrived and `arrivals` lists them in order.

Faults for the tests: `stop()`/`start()` (an outage: connections refused, the same port after),
`fail_next` (statuses the next submits answer, e.g. [500, 500]), `reject_waktu` (a server-side
validation error for batches holding those times), `expire_tokens()` and `on_accept` (called after a
batch is stored and before the answer: the test kills the uploader there).
"""

from __future__ import annotations

import json
import math
import re
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wastewatch.runtime import free_port

TIME_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
RECORD_KEYS = frozenset({"waktu", "parameter", "o2", "laju_alir"})
APP_ID, APP_SECRET = "ww-test-app", "ww-test-secret"
KOTIM_STACKS = {"KOTIM-INS-01": ["SO2", "NOx", "CO", "HCl", "Partikulat", "TOC"]}


def _number(value: object) -> bool:
    return type(value) in (int, float) and math.isfinite(float(value))  # type: ignore[arg-type]


def check_submit(body: object, stacks: Mapping[str, list[str]]) -> list[str]:
    """Everything wrong with a submit call's body (empty: it is acceptable)."""
    if not isinstance(body, dict) or set(body) != {"id_cerobong", "data"}:
        return [f"the body must be an object with id_cerobong and data, not {str(body)[:100]}"]
    stack, data = body["id_cerobong"], body["data"]
    if stack not in stacks:
        return [f"unknown id_cerobong {stack!r}"]
    if not isinstance(data, list) or not data:
        return ["data must be a non-empty list"]
    problems: list[str] = []
    times: list[str] = []
    for i, record in enumerate(data):
        where = f"data[{i}]"
        if not isinstance(record, dict):
            problems.append(f"{where} is not an object")
            continue
        if set(record) - RECORD_KEYS:
            problems.append(f"{where} has unknown fields {sorted(set(record) - RECORD_KEYS)}")
        waktu = record.get("waktu")
        if not isinstance(waktu, str) or not TIME_PATTERN.fullmatch(waktu):
            problems.append(f"{where}.waktu {waktu!r} is not YYYY-MM-DD HH:MM:SS")
        else:
            try:
                at = datetime.strptime(waktu, "%Y-%m-%d %H:%M:%S")
                if at.minute % 5 or at.second:
                    problems.append(f"{where}.waktu {waktu} is not on a 5-minute boundary")
                times.append(waktu)
            except ValueError:
                problems.append(f"{where}.waktu {waktu!r} is no date")
        parameters = record.get("parameter", {})
        if not isinstance(parameters, dict):
            problems.append(f"{where}.parameter is not an object")
            parameters = {}
        for name, value in parameters.items():
            if name not in stacks[stack]:
                problems.append(f"{where}.parameter {name!r} is not a parameter of {stack}")
            if not _number(value):
                problems.append(f"{where}.parameter {name} = {value!r} is not a finite number")
        for name in ("o2", "laju_alir"):
            if name in record and not _number(record[name]):
                problems.append(f"{where}.{name} = {record[name]!r} is not a finite number")
        if not parameters and "o2" not in record and "laju_alir" not in record:
            problems.append(f"{where} carries no value")
    if times != sorted(times) or len(set(times)) != len(times):
        problems.append("the records are not in time order, or a time repeats")
    return problems


class SispekStandin:
    def __init__(self, stacks: Mapping[str, list[str]] | None = None, *, app_id: str = APP_ID, app_secret: str = APP_SECRET) -> None:
        self.stacks = dict(stacks or KOTIM_STACKS)
        self.app_id, self.app_secret = app_id, app_secret
        self.port = free_port()
        self.lock = threading.Lock()
        self.tokens: set[str] = set()
        self.violations: list[str] = []
        self.accepted: dict[tuple[str, str], dict[str, Any]] = {}
        self.deliveries: Counter[tuple[str, str]] = Counter()
        self.arrivals: list[tuple[str, str]] = []
        self.rejected: list[tuple[str, str]] = []
        self.requests: list[tuple[str, str, int]] = []
        self.fail_next: list[int] = []
        self.reject_waktu: set[str] = set()
        self.on_accept: Callable[[], None] | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SispekStandin:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def do_POST(self) -> None:
                standin._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="sispek-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # -- the endpoints -------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        status, answer, after = self._route(method, request.path, request.headers.get("Authorization"), body)
        with self.lock:
            self.requests.append((method, request.path, status))
        if after is not None:
            after()  # e.g. the test kills the uploader: it never reads this answer
        data = json.dumps(answer).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:  # the client is gone (killed by the test): nobody reads the answer
            pass

    def _route(self, method: str, path: str, authorization: str | None, body: Any) -> tuple[int, dict[str, Any], Callable[[], None] | None]:
        if (method, path) == ("POST", "/api/v2/token"):
            if not isinstance(body, dict) or body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
                return 401, {"status": "error", "message": "app_id atau app_secret salah"}, None
            token = secrets.token_hex(16)
            with self.lock:
                self.tokens.add(token)
            return 200, {"status": "success", "token": token, "expires_in": 3600}, None
        if not authorization or not authorization.startswith("Bearer "):
            with self.lock:
                self.violations.append(f"{method} {path} without a bearer token")
            return 401, {"status": "error", "message": "token tidak ada"}, None
        with self.lock:
            known = authorization.removeprefix("Bearer ") in self.tokens
        if not known:
            return 401, {"status": "error", "message": "token kedaluwarsa"}, None
        if (method, path) == ("GET", "/api/v2/cerobong"):
            return 200, {"status": "success", "data": [{"id_cerobong": k, "nama": k, "parameter": v} for k, v in self.stacks.items()]}, None
        if (method, path) == ("POST", "/api/v2/cerobong/data"):
            return self._submit(body)
        with self.lock:
            self.violations.append(f"{method} {path}: no such endpoint")
        return 404, {"status": "error", "message": "not found"}, None

    def _submit(self, body: Any) -> tuple[int, dict[str, Any], Callable[[], None] | None]:
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0), {"status": "error", "message": "server sibuk"}, None
            problems = check_submit(body, self.stacks)
            if problems:
                self.violations += problems
                return 422, {"status": "error", "errors": problems}, None
            stack = body["id_cerobong"]
            bad = [r["waktu"] for r in body["data"] if r["waktu"] in self.reject_waktu]
            if bad:
                self.rejected += [(stack, w) for w in bad]
                return 422, {"status": "error", "errors": [f"data {w}: nilai di luar rentang" for w in bad]}, None
            for record in body["data"]:
                key = (stack, record["waktu"])
                self.accepted[key] = record  # one record per stack and time: a repeat replaces itself
                self.deliveries[key] += 1
                self.arrivals.append(key)
            receipt = f"SISPEK-{len(self.requests) + 1:06d}"
            return 200, {"status": "success", "receipt": receipt, "diterima": len(body["data"])}, self.on_accept
