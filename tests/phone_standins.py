"""Local stand-ins for the two messaging services the agency's officers use, implementing the
endpoints wastewatch calls, with the services' checks and limits, so the channels are tested over
real HTTP as the e-mail channel is against aiosmtpd.

`TelegramStandin` is the Bot API (`POST /bot<token>/<method>`): sendMessage, getUpdates (long poll
honouring `timeout`, `offset` and `allowed_updates`), answerCallbackQuery, editMessageReplyMarkup.
It refuses a wrong token (401) and an unknown chat (400), answers a message sent sooner than the
chat's limit allows (one a second in a chat, one every 3 s in a group) with 429 and `retry_after`,
and a retry before that `retry_after` is over with another 429, counting each such violation.

`WhatsAppStandin` is the Cloud API's `POST /<version>/<phone-number-id>/messages`: it checks the
bearer token, the body's shape, the template's name, language and parameter count, the parameter
rules (no newline, tab or run of more than four spaces, at most 1024 characters), and one message
per 6 s to one number (error 131056), counting violations.

Both can be told to answer the next requests of a method with a scripted status (`answer_next`),
and record every accepted message with the time it arrived.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wastewatch.runtime import free_port


@dataclass
class Scripted:
    """An answer to give instead of the normal one: an HTTP status and a JSON body."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    when: Callable[[Any], bool] | None = None  # only for a request whose parsed body this accepts


class _Server:
    """A threaded HTTP server on a free loopback port whose POSTs go to `handle(path, headers, body)`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.script: dict[str, list[Scripted]] = {}  # method -> answers for its next requests, first first
        self.requests: list[tuple[float, str, Any]] = []  # (monotonic arrival, path, parsed body) of every request
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        raise NotImplementedError

    def answer_next(self, method: str, *answers: Scripted) -> None:
        """Answer the next requests of `method` (the last part of the path) with these, in order."""
        with self.lock:
            self.script.setdefault(method, []).extend(answers)

    def start(self) -> Any:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # keep-alive answers without the 40 ms delayed-ACK stall

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with server.lock:
                    server.requests.append((time.monotonic(), self.path, body))
                    queue = server.script.get(self.path.rpartition("/")[2], [])
                    scripted = next((s for s in queue if s.when is None or s.when(body)), None)
                    if scripted is not None:
                        queue.remove(scripted)
                if scripted is not None:
                    status, answer, extra = scripted.status, scripted.body, scripted.headers
                else:
                    status, answer, extra = server.handle(self.path, dict(self.headers), body)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a stopping poller)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _telegram_error(code: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    answer: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        answer["parameters"] = parameters
    return code, answer, {}


class TelegramStandin(_Server):
    def __init__(self, token: str, chats: list[str]) -> None:
        super().__init__()
        self.token, self.chats = token, set(chats)
        self.sent: list[tuple[float, str, dict[str, Any]]] = []  # (arrival, chat id, body) of accepted messages
        self.answers: list[dict[str, Any]] = []  # answerCallbackQuery bodies
        self.edits: list[dict[str, Any]] = []  # editMessageReplyMarkup bodies
        self.violations: list[str] = []  # a message sooner than a limit, or a retry before retry_after
        self.polls = 0
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 100
        self._next_message_id = 1
        self._not_before: dict[str, float] = {}  # chat -> when a 429's retry_after is over
        self._arrived = threading.Condition(self.lock)

    @property
    def api_url(self) -> str:
        return self.base_url

    def interval_s(self, chat: str) -> float:
        return 3.0 if chat.startswith("-") else 1.0

    def push_update(self, update: Any) -> None:
        """Queue any update (hostile ones included) for the next getUpdates; one without an
        update_id gets the next one."""
        with self._arrived:
            if isinstance(update, dict) and "update_id" not in update:
                update = {"update_id": self._next_update_id, **update}
            if isinstance(update, dict) and isinstance(update.get("update_id"), int):
                self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
            else:
                self._next_update_id += 1
            self._updates.append(update)
            self._arrived.notify_all()

    def press(self, user_id: int, data: str, chat: str, message_id: int) -> str:
        """A user pressing an inline button under message `message_id` in `chat`; the query's id."""
        query_id = f"q{self._next_update_id}"
        self.push_update({"callback_query": {
            "id": query_id, "from": {"id": user_id, "is_bot": False, "first_name": "Officer"}, "data": data,
            "chat_instance": "1", "message": {"message_id": message_id, "chat": {"id": int(chat), "type": "private"}},
        }})
        return query_id

    def answer_to(self, query_id: str) -> str | None:
        with self.lock:
            return next((a.get("text") for a in self.answers if a.get("callback_query_id") == query_id), None)

    def handle(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        prefix, _, method = path.lstrip("/").rpartition("/")
        if prefix != f"bot{self.token}":
            return _telegram_error(401, "Unauthorized")
        if not isinstance(body, dict):
            return _telegram_error(400, "Bad Request: the body is not a JSON object")
        if method == "sendMessage":
            return self._send_message(body)
        if method == "getUpdates":
            return self._get_updates(body)
        if method == "answerCallbackQuery":
            if not isinstance(body.get("callback_query_id"), str):
                return _telegram_error(400, "Bad Request: query id is invalid")
            with self.lock:
                self.answers.append(body)
            return 200, {"ok": True, "result": True}, {}
        if method == "editMessageReplyMarkup":
            with self.lock:
                self.edits.append(body)
            return 200, {"ok": True, "result": True}, {}
        return _telegram_error(404, "Not Found")

    def _send_message(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        chat = str(body.get("chat_id", ""))
        text = body.get("text")
        if chat not in self.chats:
            return _telegram_error(400, "Bad Request: chat not found")
        if not isinstance(text, str) or not text or len(text) > 4096:
            return _telegram_error(400, "Bad Request: message text is empty or too long")
        now = time.monotonic()
        with self.lock:
            if now < self._not_before.get(chat, 0.0):
                self.violations.append(f"{chat}: retried before retry_after")
                return _telegram_error(429, "Too Many Requests: retry later", retry_after=1)
            last = max((at for at, c, _ in self.sent if c == chat), default=None)
            if last is not None and now - last < self.interval_s(chat) - 0.05:
                self.violations.append(f"{chat}: {now - last:.2f} s after the last message")
                self._not_before[chat] = now + 1
                return _telegram_error(429, "Too Many Requests: retry after 1", retry_after=1)
            self.sent.append((now, chat, body))
            message_id = self._next_message_id
            self._next_message_id += 1
        return 200, {"ok": True, "result": {"message_id": message_id, "chat": {"id": int(chat)}, "text": text}}, {}

    def refuse_until(self, chat: str, retry_after_s: int) -> None:
        """The next message to `chat` is answered 429 with this retry_after, and a retry sooner is a violation."""
        self.answer_next("sendMessage", Scripted(429, {"ok": False, "error_code": 429, "description": "Too Many Requests",
                                                       "parameters": {"retry_after": retry_after_s}}))
        with self.lock:
            self._not_before[chat] = time.monotonic() + retry_after_s

    def _get_updates(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        timeout = body.get("timeout", 0)
        offset = body.get("offset")
        if body.get("allowed_updates") not in (None, ["callback_query"]):
            return _telegram_error(400, "Bad Request: unexpected allowed_updates")
        deadline = time.monotonic() + min(float(timeout) if isinstance(timeout, (int, float)) else 0.0, 50.0)
        with self._arrived:
            self.polls += 1
            if isinstance(offset, int):  # confirms every update below it: Telegram forgets them
                self._updates = [u for u in self._updates if not isinstance(u, dict) or not isinstance(
                    u.get("update_id"), int) or u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._arrived.wait(deadline - time.monotonic())
            return 200, {"ok": True, "result": list(self._updates)}, {}


def _whatsapp_error(status: int, code: int, message: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    return status, {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "standin"}}, {}


_LONG_SPACES = re.compile(r" {5,}")


class WhatsAppStandin(_Server):
    PAIR_INTERVAL_S = 6.0

    def __init__(self, token: str, phone_number_id: str, template: str, language: str, numbers: list[str]) -> None:
        super().__init__()
        self.token, self.phone_number_id, self.template, self.language = token, phone_number_id, template, language
        self.numbers = set(numbers)
        self.sent: list[tuple[float, str, list[str]]] = []  # (arrival, number, template parameters)
        self.violations: list[str] = []
        self._next = 1

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v21.0"

    def handle(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        if path != f"/v21.0/{self.phone_number_id}/messages":
            return _whatsapp_error(400, 100, "Unsupported post request")
        if headers.get("Authorization") != f"Bearer {self.token}":
            return _whatsapp_error(401, 190, "Invalid OAuth access token")
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp" or body.get("type") != "template":
            return _whatsapp_error(400, 100, "Invalid parameter")
        template = body.get("template")
        if not isinstance(template, dict) or template.get("name") != self.template:
            return _whatsapp_error(404, 132001, "Template name does not exist in the translation")
        if template.get("language") != {"code": self.language}:
            return _whatsapp_error(404, 132001, "Template name does not exist in the translation")
        components = template.get("components")
        parameters: list[Any] = []
        if isinstance(components, list):
            for component in components:
                if isinstance(component, dict) and component.get("type") == "body":
                    parameters = component.get("parameters") or []
        texts = [p.get("text") for p in parameters if isinstance(p, dict) and p.get("type") == "text"]
        if len(texts) != 2 or not all(isinstance(t, str) for t in texts):
            return _whatsapp_error(400, 132000, "Number of parameters does not match the expected number of params")
        for text in texts:
            if not text or "\n" in text or "\t" in text or _LONG_SPACES.search(text) or len(text) > 1024:
                return _whatsapp_error(400, 132018, "Param text cannot have new-line/tab characters or more than 4 consecutive spaces")
        to = body.get("to")
        if to not in self.numbers:
            return _whatsapp_error(400, 131026, "Message undeliverable")
        now = time.monotonic()
        with self.lock:
            last = max((at for at, number, _ in self.sent if number == to), default=None)
            if last is not None and now - last < self.PAIR_INTERVAL_S - 0.05:
                self.violations.append(f"{to}: {now - last:.2f} s after the last message")
                return _whatsapp_error(400, 131056, "(Business Account, Consumer Account) pair rate limit hit")
            self.sent.append((now, str(to), texts))
            wamid = f"wamid.standin{self._next}"
            self._next += 1
        return 200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": wamid}]}, {}
