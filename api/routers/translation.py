"""Translation for content teams (`translate:review`): bulk jobs, the review queue, review actions, export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, BeforeValidator, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import ApiKeyInfo
from api.deps import ServicesDep, SessionDep, check_language, require
from api.errors import Conflict, FieldProblem, InvalidInput, NotFound, NotReady, problem_responses
from api.jobs import JobRequest
from api.json_response import PRECISION
from api.queue_filters import priority_courses
from api.schemas import RequestBody
from api.settings import MAX_PAGE_SIZE
from api.vocab import LIST_OF_VALUES, JsonInt, LanguageCode, TargetLanguageCode, UtcDatetime, comma_separated
from models import InvalidInputError, NotFoundError, UnitStatus
from models.tables import CourseRow, ReviewBatchRow, TranslationJobRow
from translation import (
    Action,
    DraftSource,
    Glossary,
    Selection,
    UnitView,
    apply_bulk,
    approve_unit,
    bulk_approve_clean,
    edit_unit,
    export_units,
    get_batch,
    get_unit,
    memory_matches,
    preview_bulk,
    reject_unit,
    select_units,
    undo_batch,
)
from translation.quality import draft_quality
from translation.queue import FLAG_CHECKS, UnitFilter, UnitOrder, find_units

router = APIRouter(
    prefix="/v1/translation",
    tags=["translation"],
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
Reviewer = Annotated[ApiKeyInfo, Depends(require("translate:review"))]
UnitId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The unit's id")]
Field_ = Literal["name", "description"]
Text = Annotated[str, Field(min_length=1, max_length=20_000, pattern=r"\S")]
CourseId = Annotated[str, Field(min_length=1, max_length=128)]
UnitStatuses = Annotated[list[UnitStatus], BeforeValidator(comma_separated)]


class FlagOut(BaseModel):
    check: str = Field(description="The QA check's id, e.g. placeholders, numbers, glossary")
    severity: str = Field(description="error, warning or info")
    message: str = Field(description="What the check found, in English")


class DiffPartOut(BaseModel):
    op: Literal["equal", "delete", "insert"] = Field(description="Kept, removed or added by the change")
    text: str = Field(description="The words (with the spaces between them)")


class HistoryOut(BaseModel):
    at: UtcDatetime = Field(description="When (UTC)")
    action: str = Field(
        description="What happened: created, machine_translated, edited, approved, rejected or source_changed"
    )
    status: UnitStatus = Field(description="The unit's status after it")
    text: str | None = Field(description="The unit's text after it")
    actor: str | None = Field(description="Who: a reviewer's key name, or the engine")
    note: str | None = Field(description="The reviewer's note (a rejection's reason, an override's reason)")
    before: str | None = Field(description="The unit's text before it (null for the first entry)")
    batch_id: str | None = Field(description="The bulk action (batch) it was part of; null: a single action")
    diff: list[DiffPartOut] = Field(description="What it changed in the text, word by word, in reading order")


class UnitOut(BaseModel):
    id: int = Field(description="The unit's id")
    course_id: str = Field(description="The course whose field it translates")
    field: str = Field(description="The course's field: name or description")
    language: str = Field(description="The language it translates into")
    source_text: str = Field(description="The English text it was made from")
    status: UnitStatus = Field(description="Where the unit is in the review workflow")
    actions: list[Action] = Field(
        description="What a reviewer may do to the unit now: the POST /units/{id}/<action> routes that accept it"
    )
    engine: str | None = Field(description="What made the draft: a model's name, memory or memory-fuzzy; null: none")
    draft_source: DraftSource | None = Field(
        description="Where the draft came from: memory (an exact approved match), memory-fuzzy (a similar text's), "
        "memory+machine (some sentences each) or machine; null: no draft"
    )
    memory_score: float | None = Field(
        description=f"The translation memory match the draft came from, 0-100 (100: exact); {PRECISION}"
    )
    draft: str | None = Field(description="The machine or memory draft")
    edited: str | None = Field(description="The reviewer's text, when edited")
    text: str | None = Field(description="What a reader would see: the reviewer's text, else the draft")
    flags: list[FlagOut] = Field(description="The QA checks' findings on `text`")
    reviewer: str | None = Field(description="The key name of the last reviewer to act on it")
    note: str | None = Field(description="The reviewer's note")
    updated_at: UtcDatetime = Field(description="When it last changed (UTC)")


class TermOut(BaseModel):
    source: str = Field(description="The English term as it appears in the source")
    start: int = Field(description="Where the term starts in the source (a character offset)")
    end: int = Field(description="Where it ends (exclusive)")
    approved: str | None = Field(description="The glossary's rendering in the unit's language, if it has one")
    do_not_translate: bool = Field(description="The term stays as it is in every language")


class MemoryMatchOut(BaseModel):
    source: str = Field(description="An approved translation's English text")
    target: str = Field(description="Its approved translation into the unit's language")
    score: float = Field(description=f"Similarity to the unit's source, 0-100; {PRECISION}")
    warning: str | None = Field(description="Why to check it before reuse (approved over an error flag); null: none")


class UnitDetail(UnitOut):
    history: list[HistoryOut] = Field(description="What happened to the unit, oldest first")
    terms: list[TermOut] = Field(description="The glossary's terms found in the source")
    memory_matches: list[MemoryMatchOut] = Field(description="The closest approved translations, closest first")


class UnitList(BaseModel):
    items: list[UnitOut] = Field(description="This page's units")
    offset: int = Field(description="Units skipped before this page")
    limit: int = Field(description="The page size asked for")


class EditBody(RequestBody):
    text: Text = Field(description="The reviewer's text")


class ApproveBody(RequestBody):
    text: Text | None = Field(
        default=None, description="A final text to approve instead of the current one (checked afresh)"
    )
    override_reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")] | None = Field(
        default=None,
        description="Needed to approve a text with an error flag: why the flag is wrong. It is kept in the history, "
        "and the memory entry's later matches carry a warning",
    )


class RejectBody(RequestBody):
    note: Annotated[str, Field(max_length=2000)] | None = Field(default=None, description="Why, for the translator")


class BulkApproveBody(RequestBody):
    language: LanguageCode = Field(description="The language whose clean machine translations to approve")
    limit: Annotated[JsonInt, Field(ge=1, le=100_000)] | None = Field(
        default=None, description="Approve at most this many; null: all"
    )


class BulkApproved(BaseModel):
    approved: int = Field(description="Units approved")
    batch_id: str | None = Field(
        description="The batch the approvals form: POST /v1/translation/batches/{id}/undo undoes it; null: none"
    )


class JobBody(RequestBody):
    languages: list[TargetLanguageCode] = Field(min_length=1, max_length=22, description="Target languages")
    fields: list[Field_] = Field(
        default=["name"], min_length=1, max_length=2, description="The course fields to translate"
    )
    course_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=10_000, description="Only these courses; null: every English course"
    )


class JobOut(BaseModel):
    id: str = Field(description="The job's id")
    status: str = Field(description="running, or finished once every unit is done")
    params: dict[str, Any] = Field(description="What the job was asked to do: languages, fields, course_ids")
    started_at: UtcDatetime = Field(description="When it started (UTC)")
    finished_at: UtcDatetime | None = Field(description="When it ended (UTC); null: still running")
    report: dict[str, Any] = Field(description="Counts so far: units, created, from_memory, machine_translated, ...")


class JobStarted(BaseModel):
    id: str = Field(description="The job's id")
    status_url: str = Field(description="Where to follow its progress")


@router.post(
    "/jobs",
    status_code=202,
    summary="Start a bulk translation job",
    description="Translates the fields of the English courses (all, or `course_ids`) into `languages` in the "
    "background: memory matches first, then the configured model, with QA flags. Returns at once with the id.",
    responses=problem_responses(404, 409, 503),
)
def start_job(session: SessionDep, services: ServicesDep, body: JobBody, key: Reviewer) -> JobStarted:
    for language in body.languages:
        check_language(key, language.value)
    if body.course_ids:
        known = set(session.scalars(select(CourseRow.identifier).where(CourseRow.identifier.in_(body.course_ids))))
        unknown = [
            FieldProblem(field=f"body.course_ids.{position}", reason=f"unknown course {course_id!r}")
            for position, course_id in enumerate(body.course_ids)
            if course_id not in known
        ]
        if unknown:
            raise NotFound("; ".join(f"{p.field}: {p.reason}" for p in unknown), unknown)
    request = JobRequest(
        tuple(language.value for language in body.languages),
        tuple(dict.fromkeys(body.fields)),
        tuple(body.course_ids) if body.course_ids else None,
    )
    running = services.jobs.running_in_this_process(request.params())
    if running is not None:
        raise Conflict(f"job {running} with these parameters is running", [FieldProblem(field="body", reason=running)])
    job_id = services.jobs.start(request)
    if job_id is None:
        raise NotReady("the job did not start in time; see GET /v1/translation/jobs")
    return JobStarted(id=job_id, status_url=f"/v1/translation/jobs/{job_id}")


@router.get("/jobs", summary="Translation jobs, newest first")
def jobs(
    session: SessionDep,
    _key: Reviewer,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="How many jobs")] = 20,
) -> list[JobOut]:
    rows = session.scalars(select(TranslationJobRow).order_by(TranslationJobRow.started_at.desc()).limit(limit))
    return [_job(row) for row in rows]


@router.get("/jobs/{job_id}", summary="A job's status and progress", responses=problem_responses(404))
def job(
    session: SessionDep, _key: Reviewer, job_id: Annotated[str, Path(max_length=64, description="The job's id")]
) -> JobOut:
    row = session.get(TranslationJobRow, job_id)
    if row is None:
        raise NotFoundError("translation job", job_id)
    return _job(row)


@router.get("/units", summary="The review queue: units by language, status, QA flag, text and field, in an order")
def units(
    session: SessionDep,
    key: Reviewer,
    language: Annotated[LanguageCode | None, Query(description="Only units into this language")] = None,
    status: Annotated[UnitStatus | None, Query(description="Only units in this status")] = None,
    *,
    flag: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description=f"Only units with this QA flag: one of {', '.join(FLAG_CHECKS)}",
        ),
    ] = None,
    course_id: Annotated[
        str | None, Query(min_length=1, max_length=128, description="Only units of this course")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Only units with this text (case-insensitive) in the source, the draft or the edited text",
        ),
    ] = None,
    field: Annotated[Field_ | None, Query(description="Only units of this course field")] = None,
    order: Annotated[
        UnitOrder,
        Query(
            description="id (the default); priority: courses in the order to translate them into the language "
            "(learners with a gap the course builds, as GET /v1/insights/translate-priorities; needs `language`), "
            "the other courses' units after them; popularity: the course's rating count, most rated first"
        ),
    ] = UnitOrder.ID,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Units to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}")] = 20,
) -> UnitList:
    if language is not None:
        check_language(key, language.value)
    if order is UnitOrder.PRIORITY and language is None:
        raise InvalidInputError("order=priority ranks the courses for one language: give `language`")
    ranking = (
        tuple(c.course_id for c in priority_courses(session, language.value))
        if order is UnitOrder.PRIORITY and language is not None
        else ()
    )
    unit_filter = UnitFilter(
        language=language.value if language else None,
        status=status,
        flag=flag,
        q=q,
        field=field,
        course_id=course_id,
        languages=key.review_languages,
        order=order,
        ranking=ranking,
    )
    found = find_units(session, unit_filter, limit=limit, offset=offset)
    return UnitList(items=[unit_out(u) for u in found], offset=offset, limit=limit)


@router.get("/units/{unit_id}", summary="A unit with its history, glossary terms and memory matches")
def unit(session: SessionDep, services: ServicesDep, key: Reviewer, unit_id: UnitId) -> UnitDetail:
    found = get_unit(session, unit_id)
    check_language(key, found.language)
    return unit_detail(session, found, services.glossary())


@router.post("/units/{unit_id}/edit", summary="Replace the text; the unit goes (back) to review with fresh QA flags")
def edit(session: SessionDep, services: ServicesDep, key: Reviewer, unit_id: UnitId, *, body: EditBody) -> UnitOut:
    check_language(key, get_unit(session, unit_id).language)
    return unit_out(edit_unit(session, unit_id, body.text, key.name, glossary=services.glossary()))


@router.post(
    "/units/{unit_id}/approve",
    summary="Approve; the translation enters the memory",
    description="An error flag on the text blocks approval (409 naming the flags) unless `override_reason` is given.",
    responses=problem_responses(404, 409),
)
def approve(
    services: ServicesDep, session: SessionDep, key: Reviewer, unit_id: UnitId, *, body: ApproveBody | None = None
) -> UnitOut:
    body = body or ApproveBody()
    check_language(key, get_unit(session, unit_id).language)
    approved = approve_unit(
        session,
        unit_id,
        key.name,
        body.text,
        override_reason=body.override_reason,
        glossary=services.glossary(),
    )
    return unit_out(approved)


@router.post("/units/{unit_id}/reject", summary="Reject with a note", responses=problem_responses(404, 409))
def reject(session: SessionDep, key: Reviewer, unit_id: UnitId, body: RejectBody | None = None) -> UnitOut:
    check_language(key, get_unit(session, unit_id).language)
    return unit_out(reject_unit(session, unit_id, key.name, body.note if body else None))


@router.post("/units/bulk-approve", summary="Approve every machine translation of a language without error or warning")
def bulk_approve(session: SessionDep, key: Reviewer, body: BulkApproveBody) -> BulkApproved:
    check_language(key, body.language.value)
    report = bulk_approve_clean(session, body.language.value, key.name, body.limit)
    return BulkApproved(approved=report.applied, batch_id=report.batch_id)


class BulkFilter(RequestBody):
    """The queue's filter: every unit matching all the given conditions."""

    language: LanguageCode | None = Field(default=None, description="Units into this language")
    status: UnitStatus | None = Field(default=None, description="Units in this status")
    flag: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="Units with this QA flag (a check id)"
    )
    q: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="Units whose source or text contains this (case-insensitive)"
    )
    field: Field_ | None = Field(default=None, description="Units of this course field")
    clean: bool = Field(default=False, description="Only units without an error or warning flag")


class BulkBody(RequestBody):
    action: Literal["approve", "reject"] = Field(description="What to do to every selected unit")
    unit_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(
        default_factory=list, max_length=5000, description="The units, by id; or give `filter`"
    )
    filter: BulkFilter | None = Field(default=None, description="The units matching the queue's filter")
    dry_run: bool = Field(default=False, description="Only preview: say which units it would change, change none")
    note: Annotated[str, Field(max_length=2000)] | None = Field(default=None, description="A rejection's reason")


class SkippedOut(BaseModel):
    id: int = Field(description="The unit's id")
    reason: str = Field(description="Why the action would leave it")


class BulkOut(BaseModel):
    action: str = Field(description="The action: approve or reject")
    dry_run: bool = Field(description="Whether this was only a preview")
    unit_ids: list[int] = Field(description="The units it changes (a preview: would change)")
    skipped: list[SkippedOut] = Field(description="Selected units it leaves, with the reason")
    batch_id: str | None = Field(description="The batch to undo (POST /v1/translation/batches/{id}/undo); null: none")


class BatchOut(BaseModel):
    id: str = Field(description="The batch's id")
    action: str = Field(description="approve or reject")
    actor: str = Field(description="The key name that applied it")
    created_at: UtcDatetime = Field(description="When it was applied (UTC)")
    undone_at: UtcDatetime | None = Field(description="When it was undone (UTC); null: it holds")
    unit_ids: list[int] = Field(description="Its units")


class UndoOut(BaseModel):
    batch_id: str = Field(description="The batch undone")
    restored: int = Field(description="Units put back where they were before the batch")
    changed_since: int = Field(description="Units changed after the batch, left as they are")


class DraftQualityOut(BaseModel):
    """How one group of drafts fared in review (translation.quality says how each figure is computed)."""

    language: str = Field(description="The units' target language")
    field: str = Field(description="The course field they translate: name or description")
    engine: str = Field(description="What made the drafts: memory, memory-fuzzy or a machine translation model")
    units: int = Field(description="Drafted units in the group")
    decided: int = Field(description="Units approved or rejected")
    approved: int = Field(description="Units approved")
    rejected: int = Field(description="Units rejected")
    edited: int = Field(description="Approved units whose final text differs from the draft")
    approval_rate: float | None = Field(description=f"approved / decided; null: none decided; {PRECISION}")
    rejection_rate: float | None = Field(description=f"rejected / decided; null: none decided; {PRECISION}")
    edited_share: float | None = Field(description=f"edited / approved; null: none approved; {PRECISION}")
    chrf: float | None = Field(
        description=f"chrF++ (sacrebleu) of the drafts against the approved texts, 0-100; null: none approved; "
        f"{PRECISION}"
    )
    edit_distance: float | None = Field(
        description=f"Mean characters changed (Levenshtein) from draft to approved text; {PRECISION}"
    )
    median_review_seconds: float | None = Field(
        description=f"Median seconds from the draft to the reviewer's decision; {PRECISION}"
    )


@router.post(
    "/units/bulk",
    summary="Approve or reject many units as one batch, after a preview; undo the batch later",
    description="Select units by id or by the queue's filter. `dry_run: true` previews which units would change "
    "(and why others would not) without changing any; without it the eligible units change in one transaction as "
    "a batch that `POST /v1/translation/batches/{id}/undo` puts back. Error flags are never approved in bulk.",
    responses=problem_responses(403, 404, 422),
)
def bulk(session: SessionDep, key: Reviewer, body: BulkBody) -> BulkOut:
    if not body.unit_ids and body.filter is None:
        raise InvalidInput("give `unit_ids` or `filter`", [FieldProblem(field="body.unit_ids", reason="empty")])
    chosen = body.filter or BulkFilter()
    if chosen.language is not None:
        check_language(key, chosen.language.value)
    matching = UnitFilter(
        language=chosen.language.value if chosen.language else None,
        status=chosen.status,
        flag=chosen.flag,
        q=chosen.q,
        field=chosen.field,
    )
    selection = Selection(unit_ids=body.unit_ids, matching=matching, clean=chosen.clean)
    preview = preview_bulk(body.action, select_units(session, selection, key.review_languages))
    skipped = [SkippedOut(id=unit.id, reason=reason) for unit, reason in preview.skipped]
    ids = [unit.id for unit in preview.eligible]
    if body.dry_run:
        return BulkOut(action=body.action, dry_run=True, unit_ids=ids, skipped=skipped, batch_id=None)
    report = apply_bulk(session, body.action, ids, key.name, note=body.note)
    return BulkOut(action=body.action, dry_run=False, unit_ids=ids, skipped=skipped, batch_id=report.batch_id)


BatchId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$", description="The batch's id")]


@router.get("/batches/{batch_id}", summary="A bulk action's batch", responses=problem_responses(404))
def batch(session: SessionDep, _key: Reviewer, batch_id: BatchId) -> BatchOut:
    return _batch_out(get_batch(session, batch_id))


@router.post(
    "/batches/{batch_id}/undo",
    summary="Undo a batch: its units go back where they were, unless changed since",
    responses=problem_responses(404, 422),
)
def undo(session: SessionDep, key: Reviewer, batch_id: BatchId) -> UndoOut:
    found = get_batch(session, batch_id)
    for unit_id in {kept.unit_id for kept in found.units}:
        check_language(key, get_unit(session, unit_id).language)
    report = undo_batch(session, batch_id, key.name)
    return UndoOut(batch_id=report.batch_id, restored=report.restored, changed_since=report.changed_since)


def _batch_out(row: ReviewBatchRow) -> BatchOut:
    return BatchOut(
        id=row.id,
        action=row.action,
        actor=row.actor,
        created_at=row.created_at,
        undone_at=row.undone_at,
        unit_ids=sorted(kept.unit_id for kept in row.units),
    )


@router.get(
    "/quality",
    summary="How good the drafts were: per language, field and engine, what reviewers did with them",
    responses=problem_responses(422),
)
def quality(
    session: SessionDep,
    key: Reviewer,
    language: Annotated[LanguageCode | None, Query(description="Only this target language")] = None,
) -> list[DraftQualityOut]:
    if language is not None:
        check_language(key, language.value)
    rows = draft_quality(session, language.value if language else None)
    allowed = key.review_languages
    return [
        DraftQualityOut.model_validate(row, from_attributes=True)
        for row in rows
        if allowed is None or row.language in allowed
    ]


@router.get(
    "/export",
    summary="Export one language's units as XLIFF 1.1 or CSV",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/x-xliff+xml": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
)
def export(
    session: SessionDep,
    key: Reviewer,
    language: Annotated[LanguageCode, Query(description="The language whose units to export")],
    format: Annotated[Literal["xliff", "csv"], Query(description="XLIFF 1.1 or CSV")] = "xliff",
    *,
    status: Annotated[
        UnitStatuses | None,
        Query(description=f"Only units in one of these statuses; all when absent. {LIST_OF_VALUES}"),
    ] = None,
) -> Response:
    check_language(key, language.value)
    body = export_units(session, language.value, format, list(status) if status else None)
    media = "text/csv" if format == "csv" else "application/x-xliff+xml"
    filename = f"units.{language.value}.{'csv' if format == 'csv' else 'xlf'}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def unit_out(unit: UnitView) -> UnitOut:
    # UnitOut mirrors UnitView field for field (`text` and `actions` are properties there): pydantic reads it.
    return UnitOut.model_validate(unit, from_attributes=True)


def unit_detail(session: Session, unit: UnitView, glossary: Glossary) -> UnitDetail:
    """What a reviewer needs beside the unit: its glossary terms and the closest approved translations."""
    terms = [
        TermOut(
            source=unit.source_text[m.start : m.end],
            start=m.start,
            end=m.end,
            approved=m.term.approved(unit.language),
            do_not_translate=m.term.do_not_translate,
        )
        for m in glossary.find(unit.source_text)
    ]
    matches = [
        MemoryMatchOut(source=m.source, target=m.target, score=m.score, warning=m.warning)
        for m in memory_matches(session, unit.source_text, unit.language)
    ]
    history = [HistoryOut.model_validate(h, from_attributes=True) for h in unit.history]
    return UnitDetail(**unit_out(unit).model_dump(), history=history, terms=terms, memory_matches=matches)


def _job(row: TranslationJobRow) -> JobOut:
    return JobOut(
        id=row.id,
        status=row.status,
        params=row.params,
        started_at=row.started_at,
        finished_at=row.finished_at,
        report=row.report or {},
    )
