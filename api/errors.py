"""One error shape for every failure, and the handlers that produce it.

Bad input is a 4xx with a message (422 for a request that does not validate, including a bad time
range or too many points); an unreachable store or alert database is a 503; nothing a client sends
can produce a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from wastewatch.errors import Conflict, InvalidRequest, NotFound
from wastewatch.points import StoreRejected, StoreUnavailable
from wastewatch.relational import DatabaseError

logger = logging.getLogger(__name__)


class FieldProblem(BaseModel):
    location: str
    message: str


class Problem(BaseModel):
    """Every error answer: a one-line `detail`, and for invalid requests the fields at fault."""

    detail: str
    errors: list[FieldProblem] | None = None


class TooManyPoints(InvalidRequest):
    """The answer would hold more points than the cap allows."""


def _problem(status: int, detail: str, headers: dict[str, str] | None = None, errors: list[FieldProblem] | None = None) -> JSONResponse:
    body = Problem(detail=detail, errors=errors).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text}
    for status, text in (
        (400, "a body that cannot be parsed (not JSON, not UTF-8)"),
        (401, "no API key, or an unknown or revoked one"),
        (403, "the key's role does not allow this"),
        (404, "unknown plant, sensor, alert or key, or one of a plant the key is not scoped to"),
        (409, "the alert or key is not in a state that allows this"),
        (413, "a request body larger than WASTEWATCH_API_MAX_BODY_BYTES (declared or streamed)"),
        (422, "invalid parameters, time range or too many points"),
        (429, "too many failed authentications from this address"),
        (503, "the time-series store or the alert database is unavailable"),
    )
}


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("query", "path", "header", "body"):
        return f"{parts[0]} parameter {'.'.join(parts[1:]) or '(body)'}"
    return ".".join(parts)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldProblem(location=_where(tuple(e.get("loc", ()))), message=str(e.get("msg", ""))) for e in exc.errors()]
    detail = "; ".join(f"{e.location}: {e.message}" for e in errors) or "invalid request"
    return _problem(422, detail, errors=errors)


async def _bad_value(request: Request, exc: Exception) -> JSONResponse:
    return _problem(422, str(exc))


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return _problem(404, str(exc.args[0]) if exc.args else "not found")


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return _problem(409, str(exc))


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StoreUnavailable)
    logger.warning("store unavailable path=%s error=%s", request.url.path, exc)
    retry = {"Retry-After": str(max(1, round(exc.retry_after_s)))} if exc.retry_after_s else {"Retry-After": "5"}
    return _problem(503, "the time-series store is unavailable; try again later", retry)


async def _store_rejected(request: Request, exc: Exception) -> JSONResponse:
    # Every request value is validated before a query is built, so this is a query the store cannot
    # answer (e.g. a range it refuses): the client's to change, and the query text stays in the log.
    logger.warning("store refused a query path=%s error=%s", request.url.path, exc)
    return _problem(422, "the time-series store refused this query; narrow the range or change the parameters")


async def _alert_db_error(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("alert database error path=%s error=%s", request.url.path, exc)
    return _problem(503, "the alert database is unavailable; try again later", {"Retry-After": "5"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    # The branches of wastewatch.errors, so every leaf (RangeError, TooManyPoints, CemsQuarterError, AlertNotFound,
    # KeyConflict, …) answers its status without a line here: Starlette finds a handler by the exception's MRO.
    app.add_exception_handler(InvalidRequest, _bad_value)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(StoreRejected, _store_rejected)
    app.add_exception_handler(DatabaseError, _alert_db_error)
