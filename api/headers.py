"""Security headers on every answer (pure ASGI middleware, so streaming and speed are untouched)."""

from __future__ import annotations

import base64
import hashlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"strict-transport-security", b"max-age=31536000"),  # browsers honour it only over HTTPS
)
"""The API's answers allow nothing; the two pages it serves (/docs, the HTML report) send a policy of their own."""


def csp_hash(text: str) -> str:
    """The CSP source that allows exactly this inline script or stylesheet: `'sha256-…'`."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                if _frames_allowed(headers):  # a page that names its own frame-ancestors (the public pages) is governed by them
                    present.add(b"x-frame-options")
                for name, value in API_HEADERS:
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _frames_allowed(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the answer's own CSP lets some page frame it (frame-ancestors other than 'none')."""
    policy = b";".join(v for n, v in headers if n == b"content-security-policy").lower()
    return b"frame-ancestors" in policy and b"frame-ancestors 'none'" not in policy
