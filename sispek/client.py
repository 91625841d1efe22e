"""The SISPEK HTTP client: the token call, the stacks list and the submit call. Every path, field and
answer is an assumption [A] (see the package docstring), unofficial until confirmed with KLHK.

A 401 on a call fetches the token again once; 429, 5xx, timeouts and refused connections raise a
retryable `SispekError`; any other 4xx (a validation error) a permanent one, carrying the server's
errors so the attempt records them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from wastewatch.errors import WastewatchError

TOKEN_PATH = "/api/v2/token"  # [A]
STACKS_PATH = "/api/v2/cerobong"  # [A]
SUBMIT_PATH = "/api/v2/cerobong/data"  # [A]
_TOKEN_MARGIN_S = 60.0  # a token this close to its end is fetched again first


class SispekError(WastewatchError):
    """The SISPEK server did not take a request: `retryable` says whether the same request may succeed later."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True, slots=True)
class Receipt:
    status: int
    text: str  # the server's answer, as recorded with the attempt


class SispekClient:
    def __init__(self, base_url: str, app_id: str, app_secret: str, *, timeout_s: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._base = base_url.rstrip("/")
        self._app_id, self._app_secret = app_id, app_secret
        self._http = httpx.Client(timeout=timeout_s)
        self._monotonic = monotonic
        self._token: str | None = None
        self._token_until = 0.0

    def close(self) -> None:
        self._http.close()

    # -- calls ---------------------------------------------------------------------------------

    def stacks(self) -> dict[str, list[str]]:
        """The server's stacks: id_cerobong → the parameter names it expects."""
        answer = self._authorised("GET", STACKS_PATH, None)
        data = _json(answer).get("data")
        if not isinstance(data, list):
            raise SispekError(f"the stacks list has no data list: {answer.text[:200]!r}", retryable=True, status=answer.status_code)
        found: dict[str, list[str]] = {}
        for item in data:
            if isinstance(item, dict) and isinstance(item.get("id_cerobong"), str):
                found[item["id_cerobong"]] = [str(p) for p in item.get("parameter") or [] if isinstance(p, str)]
        return found

    def submit(self, id_cerobong: str, records: Sequence[dict[str, Any]]) -> Receipt:
        """Send one stack's 5-minute records; the server's receipt."""
        answer = self._authorised("POST", SUBMIT_PATH, {"id_cerobong": id_cerobong, "data": list(records)})
        return Receipt(answer.status_code, answer.text[:2000])

    # -- plumbing ------------------------------------------------------------------------------

    def _authorised(self, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        for attempt in (1, 2):
            token = self._current_token()
            answer = self._request(method, path, body, {"Authorization": f"Bearer {token}"})
            if answer.status_code == 401 and attempt == 1:
                self._token = None  # expired or revoked: fetch a new one once
                continue
            _raise_for(answer)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _current_token(self) -> str:
        if self._token is not None and self._monotonic() < self._token_until - _TOKEN_MARGIN_S:
            return self._token
        answer = self._request("POST", TOKEN_PATH, {"app_id": self._app_id, "app_secret": self._app_secret}, {})
        if answer.status_code in (401, 403):
            raise SispekError(f"the token call was refused ({answer.status_code}): check WASTEWATCH_SISPEK_APP_ID and _APP_SECRET",
                              retryable=True, status=answer.status_code)  # retried: credentials may be fixed meanwhile
        _raise_for(answer)
        body = _json(answer)
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise SispekError(f"the token call answered no token: {answer.text[:200]!r}", retryable=True, status=answer.status_code)
        expires = body.get("expires_in")
        lifetime = float(expires) if isinstance(expires, (int, float)) and not isinstance(expires, bool) and expires > 0 else 3600.0
        self._token, self._token_until = token, self._monotonic() + lifetime
        return token

    def _request(self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> httpx.Response:
        try:
            return self._http.request(method, self._base + path, json=body, headers=headers)
        except httpx.HTTPError as exc:  # refused, reset, timed out: the server may be back later
            raise SispekError(f"{method} {path}: {exc.__class__.__name__}: {exc}", retryable=True) from exc


def _raise_for(answer: httpx.Response) -> None:
    status = answer.status_code
    if status < 300:
        return
    text = answer.text[:2000]
    retryable = status == 429 or status >= 500 or status in (401, 408)
    raise SispekError(f"HTTP {status}: {text}", retryable=retryable, status=status)


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SispekError(f"the answer is not JSON: {answer.text[:200]!r}", retryable=True, status=answer.status_code) from None
    return body if isinstance(body, dict) else {}
