"""Bulk actions in the review UI, with care: the queue's selection (checked units, or every unit matching its
filter) → a preview page with the count, the units and what would be left out → one transaction as a batch →
a page for the batch with its undo. The work is translation.bulk's, as for the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep, check_language
from api.ui import SECURITY_HEADERS, ReviewerDep, form_refusal, page, refused, to_login
from models import InvalidInputError, UnitStatus
from translation import Selection, apply_bulk, get_batch, get_unit, preview_bulk, select_units, undo_batch
from translation.bulk import BulkAction
from translation.queue import UnitFilter

router = APIRouter(prefix="/review/bulk", include_in_schema=False)
BatchId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]
SHOWN = 200  # units listed on a preview page; the count covers all
ACTIONS: tuple[BulkAction, ...] = ("approve", "reject")


@router.post("/preview", response_class=HTMLResponse)
def preview(
    request: Request,
    session: SessionDep,
    reviewer: ReviewerDep,
    *,
    action: Annotated[str, Form(max_length=16)] = "approve",
    unit: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI reads a form's repeated field into a new list
    scope: Annotated[str, Form(max_length=16)] = "selected",
    language: Annotated[str, Form(max_length=8)] = "",
    status: Annotated[str, Form(max_length=32)] = "",
    flag: Annotated[str, Form(max_length=64)] = "",
    q: Annotated[str, Form(max_length=200)] = "",
    field: Annotated[str, Form(max_length=16)] = "",
    clean: Annotated[bool, Form()] = False,
    csrf: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    refusal = form_refusal(request, reviewer, csrf)
    if refusal is not None:
        return refusal
    assert reviewer is not None
    chosen = _action(action)
    if chosen is None:
        return refused(request, 422, f"Unknown bulk action {action!r}: approve or reject.")
    if scope == "filter":
        if language:
            check_language(reviewer.key, language)
        matching = UnitFilter(
            language=language or None,
            status=status if status in set(UnitStatus) else None,
            flag=flag or None,
            q=q.strip() or None,
            field=field or None,
        )
        selection = Selection(matching=matching, clean=clean)
    elif unit:
        selection = Selection(unit_ids=unit)
    else:
        return refused(request, 422, "Select some units first (the boxes in the queue), or preview the whole filter.")
    try:
        found = preview_bulk(chosen, select_units(session, selection, reviewer.key.review_languages))
    except InvalidInputError as error:
        return refused(request, 422, str(error))
    context = {
        "reviewer": reviewer,
        "action": chosen,
        "eligible": found.eligible,
        "shown": found.eligible[:SHOWN],
        "skipped": found.skipped[:SHOWN],
        "skipped_count": len(found.skipped),
    }
    return page(request, "bulk_preview.html", context)


@router.post("/apply")
def apply(
    request: Request,
    session: SessionDep,
    reviewer: ReviewerDep,
    *,
    action: Annotated[str, Form(max_length=16)] = "",
    unit: Annotated[list[int], Form()] = [],  # noqa: B006 - as above
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    refusal = form_refusal(request, reviewer, csrf)
    if refusal is not None:
        return refusal
    assert reviewer is not None
    chosen = _action(action)
    if chosen is None or not unit:
        return refused(request, 422, "Nothing to apply: go back to the queue and preview again.")
    try:
        units = select_units(session, Selection(unit_ids=unit), reviewer.key.review_languages)
    except InvalidInputError as error:
        return refused(request, 422, str(error))
    report = apply_bulk(session, chosen, [found.id for found in units], reviewer.key.name, note=note.strip() or None)
    if report.batch_id is None:
        return refused(request, 409, "None of these units can take that action any more (they changed meanwhile).")
    return RedirectResponse(f"/review/bulk/{report.batch_id}", status_code=303, headers=SECURITY_HEADERS)


@router.get("/{batch_id}", response_class=HTMLResponse)
def batch_page(request: Request, session: SessionDep, reviewer: ReviewerDep, batch_id: BatchId) -> Response:
    if reviewer is None:
        return to_login()
    batch = get_batch(session, batch_id)
    units = [get_unit(session, kept.unit_id) for kept in sorted(batch.units, key=lambda kept: kept.unit_id)]
    for language in {found.language for found in units}:
        check_language(reviewer.key, language)
    context = {"reviewer": reviewer, "batch": batch, "units": units[:SHOWN], "count": len(units)}
    return page(request, "bulk_done.html", context)


@router.post("/{batch_id}/undo")
def undo(
    request: Request,
    session: SessionDep,
    reviewer: ReviewerDep,
    *,
    batch_id: BatchId,
    csrf: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    refusal = form_refusal(request, reviewer, csrf)
    if refusal is not None:
        return refusal
    assert reviewer is not None
    batch = get_batch(session, batch_id)
    for language in {get_unit(session, kept.unit_id).language for kept in batch.units}:
        check_language(reviewer.key, language)
    try:
        undo_batch(session, batch_id, reviewer.key.name)
    except InvalidInputError as error:
        return refused(request, 409, str(error))
    return RedirectResponse(f"/review/bulk/{batch_id}", status_code=303, headers=SECURITY_HEADERS)


def _action(text: str) -> BulkAction | None:
    return next((action for action in ACTIONS if action == text), None)
