"""The manifest statement in the console (every role reads it; an operator also uploads): a plant's
month per hospital, declared on its manifests against weighed and treated, each manifest's balance and
the open discrepancies, the plant's balance, the PDF through the session, and for operators an upload
form (multipart, the session's CSRF token, same origin, as every console form).

`/console/manifests/{plant}?month=2026-11` (default: this month on the plant's clock);
`/console/manifests/{plant}/pdf?month=…&facility=…`; `POST /console/manifests/{plant}/upload`.
A month that cannot be read is a 422 page, a plant the user does not read the same 404 as an unknown one,
a file that is no manifest table a 422 page saying why.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import get_context
from api.console.access import checked_form, signed_in
from api.console.pages import TEXTS, lang_of, page
from api.context import ApiContext
from api.reports.manifest_statement import kg, render_statement_pdf
from api.reports.messages import Language
from api.roles import Role
from api.routes.manifests import MAX_UPLOAD_BYTES, manifest_settings
from api.users import Session
from wastewatch.manifests.parse import ManifestFileError, facility_lookup, parse_manifest_file
from wastewatch.manifests.reading import current_month, reconcile_month
from wastewatch.manifests.table import ImportReport, import_manifests
from wastewatch.plant import PlantConfig

router = APIRouter(prefix="/console/manifests", include_in_schema=False)
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _plant(ctx: ApiContext, session: Session, plant_id: str) -> PlantConfig | None:
    plant = ctx.catalog.get(plant_id) if len(plant_id) <= 64 else None
    return plant if plant is not None and session.user.may_read(plant.id) else None


def _message(lang: str, session: Session, status: int, text: str) -> Response:
    return page("message.html.j2", lang, status, title=TEXTS[lang]["mf"]["title"], user=session.user, message=text)


def _view(ctx: ApiContext, plant: PlantConfig, month: str, lang: Language) -> dict[str, Any]:
    result = reconcile_month(ctx.alert_db, ctx.store, plant, month, manifest_settings(), ctx.now_ms())
    s, m = result.statement, TEXTS[lang]["mf"]
    return {
        "declared": kg(s.declared_kg, lang), "weighed": kg(s.weighed_kg, lang), "difference": kg(s.difference_kg, lang),
        "facilities": [{
            "id": f.facility, "name": f.name, "manifests": f.manifests, "declared": kg(f.declared_kg, lang),
            "received": kg(f.received_kg, lang), "difference": kg(f.difference_kg, lang), "weighed": kg(f.weighed_kg, lang),
            "without": kg(f.without_manifest_kg, lang), "batches": f.batches, "open": len(f.open_findings),
        } for f in s.facilities],
        "manifests": [{
            "no": b.manifest.manifest_no, "facility": b.manifest.generator, "code": b.manifest.waste_code or "",
            "declared": kg(b.manifest.declared_kg, lang), "received": kg(b.received_kg, lang), "batches": b.batches,
            "state": m["states"][b.state], "bad": b.state in ("quantity_differs", "never_received"),
        } for b in result.balances],
        "open": [x.message for x in result.findings if x.holding],
        "tolerance": f"{manifest_settings().tolerance * 100:g} %",
    }


async def _show(request: Request, plant_id: str, month: str | None, lang: str, report: ImportReport | None = None,
                error: str | None = None, status: int = 200) -> Response:
    session = await signed_in(request, lang)
    if isinstance(session, Response):
        return session
    ctx = get_context(request)
    plant = _plant(ctx, session, plant_id)
    if plant is None:
        return _message(lang, session, 404, TEXTS[lang]["mf"]["no_plant"].format(plant=plant_id[:64]))
    chosen = month or current_month(plant, ctx.now_ms())
    if not MONTH.fullmatch(chosen):
        return _message(lang, session, 422, TEXTS[lang]["mf"]["bad_month"].format(month=chosen[:12]))
    view = await run_in_threadpool(_view, ctx, plant, chosen, cast(Language, lang))
    return page("manifests.html.j2", lang, status, title=TEXTS[lang]["mf"]["title"], user=session.user, plant=plant,
                month=chosen, view=view, csrf=session.csrf_token, may_upload=session.user.role.allows(Role.OPERATOR),
                report=report, error=error, wide=True)


@router.get("/{plant_id}")
async def manifests_page(request: Request, plant_id: str, month: str | None = None, lang: str | None = None) -> Response:
    return await _show(request, plant_id, month, lang_of(lang))


@router.get("/{plant_id}/pdf")
async def manifests_pdf(request: Request, plant_id: str, month: str | None = None, facility: str | None = None,
                        lang: str | None = None) -> Response:
    language = lang_of(lang)
    session = await signed_in(request, language)
    if isinstance(session, Response):
        return session
    ctx = get_context(request)
    plant = _plant(ctx, session, plant_id)
    if plant is None:
        return _message(language, session, 404, TEXTS[language]["mf"]["no_plant"].format(plant=plant_id[:64]))
    chosen = month or current_month(plant, ctx.now_ms())
    if not MONTH.fullmatch(chosen) or (facility is not None and facility not in {f.id for f in plant.facilities}):
        return _message(language, session, 422, TEXTS[language]["mf"]["bad_month"].format(month=chosen[:12]))

    def build() -> bytes:
        result = reconcile_month(ctx.alert_db, ctx.store, plant, chosen, manifest_settings(), ctx.now_ms())
        return render_statement_pdf(result.statement, plant, facility, cast(Language, language), manifest_settings().tolerance)

    body = await run_in_threadpool(build)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{plant.id}-manifests-{chosen}.pdf"'})


@router.post("/{plant_id}/upload")
async def manifests_upload(request: Request, plant_id: str) -> Response:
    try:
        return await _upload(request, plant_id)
    finally:
        await (await request.form()).close()  # the parsed form is cached on the request: close its spooled file


async def _upload(request: Request, plant_id: str) -> Response:
    checked = await checked_form(request, Role.OPERATOR)
    if isinstance(checked, Response):
        return checked
    session, form, lang = checked
    ctx = get_context(request)
    plant = _plant(ctx, session, plant_id)
    if plant is None:
        return _message(lang, session, 404, TEXTS[lang]["mf"]["no_plant"].format(plant=plant_id[:64]))
    month = str(form.get("month", "")) or None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return await _show(request, plant_id, month, lang, error=TEXTS[lang]["mf"]["no_file"], status=422)
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    name = (upload.filename or "upload")[-200:]

    def store() -> ImportReport:
        if len(data) > MAX_UPLOAD_BYTES:
            raise ManifestFileError(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
        if not data.strip():
            raise ManifestFileError("the file is empty")
        parsed = parse_manifest_file(data, name, facility_lookup((f.id, f.name) for f in plant.facilities),
                                     extra_aliases=manifest_settings().headers)
        return import_manifests(ctx.alert_db, plant.id, parsed, name=name, sha256=hashlib.sha256(data).hexdigest(),
                                now_ms=ctx.now_ms())

    try:
        report = await run_in_threadpool(store)
    except ManifestFileError as exc:
        return await _show(request, plant_id, month, lang, error=f"{name}: {exc}", status=422)
    return await _show(request, plant_id, month, lang, report=report)
