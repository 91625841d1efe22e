"""Waste manifests: upload a CSV or XLSX file (operator), list a month's manifests with their balance
(agency), and the monthly statement per hospital as JSON, CSV or PDF (evaluator).

A file that is no manifest table is a 422 with the reason; bad rows are reported in the answer with
their row numbers while the good ones are stored; the same file again stores nothing."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field

from api.deps import AgencyKey, Context, EvaluatorKey, Format, OperatorKey, Plant
from api.reports.manifest_statement import render_statement_pdf
from api.tabular import csv_responses, table_response
from api.timerange import calendar_period
from wastewatch.errors import InvalidRequest
from wastewatch.manifests.parse import ManifestFileError, facility_lookup, parse_manifest_file
from wastewatch.manifests.reading import reconcile_month
from wastewatch.manifests.reconcile import FacilityMonth, ManifestBalance, ManifestFinding, PlantMonth
from wastewatch.manifests.settings import ManifestSettings
from wastewatch.manifests.table import ImportReport, import_manifests
from wastewatch.settings import load
from wastewatch.topics import ID_PATTERN

router = APIRouter(prefix="/plants/{plant_id}/manifests", tags=["manifests"])
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="a local month, YYYY-MM")]
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


@lru_cache(maxsize=1)
def manifest_settings() -> ManifestSettings:
    return load(ManifestSettings)


class RowProblemOut(BaseModel):
    row: int = Field(description="the row number in the sheet, the header row counted")
    reason: str


class DuplicateOut(RowProblemOut):
    manifest_no: str


class ImportOut(BaseModel):
    plant: str
    file: str
    sha256: str
    seen_before: bool = Field(description="this exact file was imported before")
    stored: list[str] = Field(description="manifest numbers stored by this upload")
    already_stored: list[str] = Field(description="numbers stored before with the same content (nothing changed)")
    duplicates: list[DuplicateOut] = Field(description="numbers stored before with other content: kept out, the first kept")
    problems: list[RowProblemOut] = Field(description="rows refused, with the reason")


class ManifestOut(BaseModel):
    manifest_no: str
    generator: str
    waste_code: str | None
    declared_kg: float
    received_kg: float
    batches: int
    share: float = Field(description="|received - declared| / declared")
    shipped: str | None
    received: str | None
    state: Literal["matched", "quantity_differs", "never_received", "awaiting"]


class FindingOut(BaseModel):
    kind: str
    rule_id: str
    subject: str
    facility: str
    message: str


class FacilityOut(BaseModel):
    facility: str
    name: str
    month: str
    manifests: int
    declared_kg: float
    received_kg: float
    difference_kg: float
    weighed_kg: float
    without_manifest_kg: float
    batches: int
    open_discrepancies: int


class FacilityDetail(FacilityOut):
    manifest_rows: list[ManifestOut]
    open: list[FindingOut]


class StatementOut(BaseModel):
    plant: str
    month: str
    declared_kg: float
    weighed_kg: float
    fed_kg: float
    difference_kg: float
    bunker_change_kg: float | None = Field(description="null: no bunker stock measurement exists")
    note: str
    tolerance: float
    facilities: list[FacilityDetail]


class ManifestList(BaseModel):
    plant: str
    month: str
    manifests: list[ManifestOut]


def import_out(r: ImportReport) -> ImportOut:
    return ImportOut(plant=r.plant, file=r.file, sha256=r.sha256, seen_before=r.seen_before, stored=r.stored,
                     already_stored=r.already_stored,
                     duplicates=[DuplicateOut(row=d.row, manifest_no=d.manifest_no, reason=d.reason) for d in r.duplicates],
                     problems=[RowProblemOut(row=p.row, reason=p.reason) for p in r.problems])


def manifest_out(b: ManifestBalance) -> ManifestOut:
    m = b.manifest
    return ManifestOut(manifest_no=m.manifest_no, generator=m.generator, waste_code=m.waste_code, declared_kg=m.declared_kg,
                       received_kg=b.received_kg, batches=b.batches, share=round(b.share, 4),
                       shipped=m.shipped.isoformat() if m.shipped else None,
                       received=m.received.isoformat() if m.received else None, state=b.state)


def _finding(x: ManifestFinding) -> FindingOut:
    return FindingOut(kind=x.kind, rule_id=x.rule_id, subject=x.subject, facility=x.facility, message=x.message)


def facility_detail(f: FacilityMonth) -> FacilityDetail:
    return FacilityDetail(
        facility=f.facility, name=f.name, month=f.month, manifests=f.manifests, declared_kg=f.declared_kg,
        received_kg=f.received_kg, difference_kg=f.difference_kg, weighed_kg=f.weighed_kg,
        without_manifest_kg=f.without_manifest_kg, batches=f.batches, open_discrepancies=len(f.open_findings),
        manifest_rows=[manifest_out(b) for b in f.balances], open=[_finding(x) for x in f.open_findings],
    )


def statement_out(s: PlantMonth, tolerance: float, facility: str | None) -> StatementOut:
    return StatementOut(plant=s.plant, month=s.month, declared_kg=s.declared_kg, weighed_kg=s.weighed_kg, fed_kg=s.fed_kg,
                        difference_kg=s.difference_kg, bunker_change_kg=s.bunker_change_kg, note=s.note, tolerance=tolerance,
                        facilities=[facility_detail(f) for f in s.facilities if facility is None or f.facility == facility])


@router.post("", response_model=ImportOut)
def upload_manifests(
    ctx: Context, plant: Plant, key: OperatorKey,
    file: Annotated[UploadFile, File(description="a CSV (comma, semicolon or tab) or XLSX manifest table")],
) -> ImportOut:
    """Store the file's good rows; each refused row comes back with its number and reason."""
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ManifestFileError(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
    if not data.strip():
        raise ManifestFileError("the file is empty")
    name = (file.filename or "upload")[-200:]
    settings = manifest_settings()
    parsed = parse_manifest_file(data, name, facility_lookup((f.id, f.name) for f in plant.facilities),
                                 extra_aliases=settings.headers)
    report = import_manifests(ctx.alert_db, plant.id, parsed, name=name, sha256=hashlib.sha256(data).hexdigest(),
                              now_ms=ctx.now_ms())
    return import_out(report)


@router.get("", response_model=ManifestList, responses=csv_responses(ManifestList))
def list_manifests(ctx: Context, plant: Plant, key: AgencyKey, request: Request, month: Month, format: Format = None) -> Response:
    """The month's manifests (by received, else shipped, day) with what was weighed under each."""
    calendar_period(month, plant.zone)  # the API's bounds on every period: 1970-2199, else a 422
    result = reconcile_month(ctx.alert_db, ctx.store, plant, month, manifest_settings(), ctx.now_ms())
    rows = [manifest_out(b) for b in result.balances]
    return table_response(request, format, ManifestList(plant=plant.id, month=month, manifests=rows), rows, ManifestOut,
                          f"{plant.id}-manifests-{month}")


def _facility_known(plant_facilities: list[str], facility: str | None) -> None:
    if facility is not None and facility not in plant_facilities:
        raise InvalidRequest(f"unknown facility {facility!r}; known: {', '.join(plant_facilities)}")


@router.get("/statement", response_model=StatementOut, responses=csv_responses(StatementOut))
def get_statement(
    ctx: Context, plant: Plant, key: EvaluatorKey, request: Request, month: Month,
    facility: Annotated[str | None, Query(pattern=ID_PATTERN, description="one facility id (default all)")] = None,
    format: Format = None,
) -> Response:
    """Per hospital: declared on its manifests, received under them, weighed and treated, open
    discrepancies; and the plant's declared against weighed (CSV: one row per hospital)."""
    _facility_known([f.id for f in plant.facilities], facility)
    settings = manifest_settings()
    calendar_period(month, plant.zone)  # the API's bounds on every period: 1970-2199, else a 422
    result = reconcile_month(ctx.alert_db, ctx.store, plant, month, settings, ctx.now_ms())
    document = statement_out(result.statement, settings.tolerance, facility)
    rows = [FacilityOut(**f.model_dump(exclude={"manifest_rows", "open"})) for f in document.facilities]
    return table_response(request, format, document, rows, FacilityOut, f"{plant.id}-manifest-statement-{month}")


@router.get("/statement/pdf", responses={200: {"content": {"application/pdf": {}}, "description": "the statement as PDF"}})
def get_statement_pdf(
    ctx: Context, plant: Plant, key: EvaluatorKey, month: Month,
    facility: Annotated[str | None, Query(pattern=ID_PATTERN, description="one facility id (default all)")] = None,
    lang: Annotated[Literal["id", "en"], Query(description="Bahasa Indonesia or English")] = "id",
) -> Response:
    _facility_known([f.id for f in plant.facilities], facility)
    settings = manifest_settings()
    calendar_period(month, plant.zone)  # the API's bounds on every period: 1970-2199, else a 422
    result = reconcile_month(ctx.alert_db, ctx.store, plant, month, settings, ctx.now_ms())
    body = render_statement_pdf(result.statement, plant, facility, lang, settings.tolerance)
    suffix = f"-{facility}" if facility else ""
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{plant.id}-manifests-{month}{suffix}.pdf"'})
