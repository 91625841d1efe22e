"""JSON or CSV for tabular answers: `?format=csv` or `Accept: text/csv` gives the rows as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.csvcell import csv_cell

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def csv_responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entry of a tabular route's 200: its JSON model, or CSV text."""
    return {200: {"model": model, "content": {"text/csv": {"schema": {"type": "string"}}}}}


def wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def to_csv(rows: Sequence[BaseModel], model: type[BaseModel]) -> str:
    out = io.StringIO()
    columns = list(model.model_fields)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        data = row.model_dump(mode="json")
        writer.writerow([csv_cell(data.get(c)) for c in columns])
    return out.getvalue()


def table_response(
    request: Request, fmt: str | None, document: BaseModel, rows: Sequence[BaseModel], row_model: type[BaseModel], name: str
) -> Response:
    """The whole document as JSON, or only its rows as CSV (a download named `name`.csv)."""
    if wants_csv(request, fmt):
        headers = {"Content-Disposition": f'inline; filename="{name}.csv"', "Vary": "Accept"}
        return Response(to_csv(rows, row_model), media_type=CSV_MEDIA_TYPE, headers=headers)
    return JSONResponse(document.model_dump(mode="json"), headers={"Vary": "Accept"})
