"""Translation for content teams (`translate:review`): bulk jobs, the review queue, review actions, export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import ApiKeyInfo
from api.deps import ServicesDep, SessionDep, require
from api.errors import Conflict, FieldProblem, NotFound, NotReady, problem_responses
from api.jobs import JobRequest
from api.settings import MAX_PAGE_SIZE
from api.vocab import JsonInt, LanguageCode, TargetLanguageCode, UtcDatetime
from models import NotFoundError, UnitStatus
from models.tables import CourseRow, TranslationJobRow
from translation import (
    Action,
    Glossary,
    UnitView,
    approve_unit,
    bulk_approve_clean,
    edit_unit,
    export_units,
    get_unit,
    list_units,
    memory_matches,
    reject_unit,
)

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


class FlagOut(BaseModel):
    check: str
    severity: str
    message: str


class HistoryOut(BaseModel):
    at: UtcDatetime
    action: str
    status: UnitStatus
    text: str | None
    actor: str | None
    note: str | None


class UnitOut(BaseModel):
    id: int
    course_id: str
    field: str
    language: str
    source_text: str
    status: UnitStatus
    actions: list[Action] = Field(
        description="What a reviewer may do to the unit now: the POST /units/{id}/<action> routes that accept it"
    )
    engine: str | None
    memory_score: float | None
    draft: str | None
    edited: str | None
    text: str | None = Field(description="What a reader would see: the reviewer's text, else the draft")
    flags: list[FlagOut]
    reviewer: str | None
    note: str | None
    updated_at: UtcDatetime


class TermOut(BaseModel):
    source: str = Field(description="The English term as it appears in the source")
    start: int
    end: int
    approved: str | None = Field(description="The glossary's rendering in the unit's language, if it has one")
    do_not_translate: bool


class MemoryMatchOut(BaseModel):
    source: str
    target: str
    score: float = Field(description="Similarity to the unit's source, 0-100")


class UnitDetail(UnitOut):
    history: list[HistoryOut]
    terms: list[TermOut]
    memory_matches: list[MemoryMatchOut]


class UnitList(BaseModel):
    items: list[UnitOut]
    offset: int
    limit: int


class EditBody(BaseModel):
    text: Text


class ApproveBody(BaseModel):
    text: Text | None = Field(default=None, description="A final text to approve instead of the current one")


class RejectBody(BaseModel):
    note: Annotated[str, Field(max_length=2000)] | None = None


class BulkApproveBody(BaseModel):
    language: LanguageCode
    limit: Annotated[JsonInt, Field(ge=1, le=100_000)] | None = None


class BulkApproved(BaseModel):
    approved: int


class JobBody(BaseModel):
    languages: list[TargetLanguageCode] = Field(min_length=1, max_length=22, description="Target languages")
    fields: list[Field_] = Field(default=["name"], min_length=1, max_length=2)
    course_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, max_length=10_000
    )


class JobOut(BaseModel):
    id: str
    status: str
    params: dict[str, Any]
    started_at: UtcDatetime
    finished_at: UtcDatetime | None
    report: dict[str, Any] = Field(description="Counts so far: units, created, from_memory, machine_translated, ...")


class JobStarted(BaseModel):
    id: str
    status_url: str


@router.post(
    "/jobs",
    status_code=202,
    summary="Start a bulk translation job",
    description="Translates the fields of the English courses (all, or `course_ids`) into `languages` in the "
    "background: memory matches first, then the configured model, with QA flags. Returns at once with the id.",
    responses=problem_responses(404, 409, 503),
)
def start_job(session: SessionDep, services: ServicesDep, body: JobBody, _key: Reviewer) -> JobStarted:
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
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> list[JobOut]:
    rows = session.scalars(select(TranslationJobRow).order_by(TranslationJobRow.started_at.desc()).limit(limit))
    return [_job(row) for row in rows]


@router.get("/jobs/{job_id}", summary="A job's status and progress", responses=problem_responses(404))
def job(session: SessionDep, _key: Reviewer, job_id: Annotated[str, Path(max_length=64)]) -> JobOut:
    row = session.get(TranslationJobRow, job_id)
    if row is None:
        raise NotFoundError("translation job", job_id)
    return _job(row)


@router.get("/units", summary="The review queue: units by language, status and QA flag")
def units(
    session: SessionDep,
    _key: Reviewer,
    language: LanguageCode | None = None,
    status: UnitStatus | None = None,
    *,
    flag: Annotated[
        str | None, Query(min_length=1, max_length=64, description="A QA check id, e.g. placeholders")
    ] = None,
    course_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> UnitList:
    found = list_units(
        session, language.value if language else None, status, flag, course_id=course_id, limit=limit, offset=offset
    )
    return UnitList(items=[unit_out(u) for u in found], offset=offset, limit=limit)


@router.get("/units/{unit_id}", summary="A unit with its history, glossary terms and memory matches")
def unit(session: SessionDep, services: ServicesDep, _key: Reviewer, unit_id: UnitId) -> UnitDetail:
    return unit_detail(session, get_unit(session, unit_id), services.glossary())


@router.post("/units/{unit_id}/edit", summary="Replace the text; the unit goes (back) to review with fresh QA flags")
def edit(session: SessionDep, services: ServicesDep, key: Reviewer, unit_id: UnitId, *, body: EditBody) -> UnitOut:
    return unit_out(edit_unit(session, unit_id, body.text, key.name, glossary=services.glossary()))


@router.post(
    "/units/{unit_id}/approve",
    summary="Approve; the translation enters the memory",
    responses=problem_responses(404, 409),
)
def approve(session: SessionDep, key: Reviewer, unit_id: UnitId, body: ApproveBody | None = None) -> UnitOut:
    return unit_out(approve_unit(session, unit_id, key.name, body.text if body else None))


@router.post("/units/{unit_id}/reject", summary="Reject with a note", responses=problem_responses(404, 409))
def reject(session: SessionDep, key: Reviewer, unit_id: UnitId, body: RejectBody | None = None) -> UnitOut:
    return unit_out(reject_unit(session, unit_id, key.name, body.note if body else None))


@router.post("/units/bulk-approve", summary="Approve every machine translation of a language without error or warning")
def bulk_approve(session: SessionDep, key: Reviewer, body: BulkApproveBody) -> BulkApproved:
    return BulkApproved(approved=bulk_approve_clean(session, body.language.value, key.name, body.limit))


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
    _key: Reviewer,
    language: LanguageCode,
    format: Literal["xliff", "csv"] = "xliff",
    *,
    status: Annotated[list[UnitStatus] | None, Query()] = None,
) -> Response:
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
        MemoryMatchOut(source=m.source, target=m.target, score=m.score)
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
