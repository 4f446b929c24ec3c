"""Catalog: courses, competencies and roles (paginated, filterable), and bulk ingest of courses."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import StringConstraints
from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from api.deps import ServicesDep, SessionDep, require
from api.errors import FieldProblem, InvalidInput, UnsupportedMediaType, problem_responses
from api.localize import LocalizedCourse, ReaderLanguage, displays
from api.name_filters import NAME_FILTER, matching_names
from api.schemas import IngestResult, Page
from api.settings import MAX_PAGE_SIZE
from api.vocab import LanguageCode
from models import (
    Competency,
    Course,
    Role,
    get_competency,
    get_course,
    get_role,
    ingest_file,
    load_competency_model,
    retire_course,
)
from models.tables import CourseCompetencyRow, CourseRow, RoleCompetencyRow, RoleRow

router = APIRouter(
    prefix="/v1",
    tags=["catalog"],
    dependencies=[Depends(require("recommend:read"))],
    responses=problem_responses(400, 401, 403, 422),
)
writes = APIRouter(
    prefix="/v1",
    tags=["catalog"],
    dependencies=[Depends(require("catalog:write"))],
    responses=problem_responses(400, 401, 403, 422),
)

Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}")]
IdFilter = Annotated[str | None, Query(min_length=1, max_length=128)]
NameFilter = Annotated[str | None, Query(min_length=1, max_length=256)]
CourseId = Annotated[str, PathParam(description="The course's id")]

INGEST_TYPES = {"application/x-ndjson": ".jsonl", "application/jsonl": ".jsonl", "text/csv": ".csv"}


async def _raw_body(request: Request) -> bytes:
    return await request.body()


def _ingest_suffix(request: Request) -> str:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in INGEST_TYPES:
        raise UnsupportedMediaType(
            f"send courses as one of {', '.join(INGEST_TYPES)}",
            [FieldProblem(field="header.content-type", reason=f"unsupported media type {media or 'none'!r}")],
        )
    return INGEST_TYPES[media]


@router.get("/courses", summary="List courses")
def list_courses(
    session: SessionDep,
    language: Annotated[LanguageCode | None, Query(description="Only courses offered in this language")] = None,
    competency: Annotated[IdFilter, Query(description="Only courses that build this competency")] = None,
    category: Annotated[
        str | None, Query(min_length=1, max_length=64, description="primaryCategory, e.g. Course")
    ] = None,
    *,
    provider: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=256)]] | None,
        Query(description=f"Only courses by one of these providers. {NAME_FILTER}"),
    ] = None,
    lang: ReaderLanguage = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[LocalizedCourse]:
    query = select(CourseRow)
    if provider:
        query = query.where(CourseRow.identifier.in_(_courses_by(session, provider)))
    if language is not None:
        # Languages are stored as a JSON list of normalised codes; the quoted code matches one element.
        query = query.where(cast(CourseRow.languages, String).like(f'%"{language.value}"%'))
    if competency is not None:
        having = select(CourseCompetencyRow.course_id).where(CourseCompetencyRow.competency_id == competency)
        query = query.where(CourseRow.identifier.in_(having))
    if category is not None:
        query = query.where(CourseRow.primary_category == category)
    rows, total = _page(session, query.order_by(CourseRow.identifier), offset, limit)
    # The rows are in the session now, so get_course converts them without another query.
    courses = [get_course(session, row.identifier) for row in rows]
    return Page(items=_localized(session, courses, lang), total=total, offset=offset, limit=limit)


@router.get("/courses/{identifier}", summary="Get a course", responses=problem_responses(404))
def get_one_course(session: SessionDep, identifier: CourseId, lang: ReaderLanguage = None) -> LocalizedCourse:
    return _localized(session, [get_course(session, identifier)], lang)[0]


@writes.post(
    "/courses/bulk",
    summary="Ingest courses (JSON Lines or CSV body)",
    description=(
        "Validates the whole body first: any invalid record rejects it (422, one entry per problem with its line "
        "and field) and nothing is written, unless `skip_invalid=true`. Re-sending the same body changes nothing. "
        "Formats: see docs/formats.md. Needs the `catalog:write` scope."
    ),
    responses=problem_responses(413, 415),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media: {"schema": {"type": "string", "minLength": 1}} for media in INGEST_TYPES},
        }
    },
)
def ingest_courses(
    request_body: Annotated[bytes, Depends(_raw_body)],
    suffix: Annotated[str, Depends(_ingest_suffix)],
    services: ServicesDep,
    skip_invalid: Annotated[bool, Query(description="Write the valid records and report the rest")] = False,
) -> IngestResult:
    if not request_body.strip():
        empty = FieldProblem(field="body", reason="expected at least one record")
        raise InvalidInput("the request body is empty", [empty])
    with tempfile.TemporaryDirectory(prefix="karmayogi-ingest-") as folder:
        path = Path(folder) / f"body{suffix}"
        path.write_bytes(request_body)
        report = ingest_file(services.engine, "courses", path, skip_invalid=skip_invalid)
    if report.written:
        services.catalog.wake()  # the change feed carries it to every worker; this one need not wait to poll
    if report.created + report.updated + report.unchanged + len(report.skipped) == 0:
        raise InvalidInput("the request body holds no records", [FieldProblem(field="body", reason="no records")])
    return IngestResult(
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=[f"line {p.line}: {p.field}: {p.reason}" for p in report.skipped],
    )


@writes.delete(
    "/courses/{identifier}",
    summary="Retire a course",
    description=(
        "Takes the course out of search and recommendations on every worker at once (within about a second), "
        "keeping its record (`status: retired`), its history and its translations. Retiring a retired course "
        "changes nothing. Ingesting it again with `status: active` (or iGOT's `Live`) brings it back. Needs the "
        "`catalog:write` scope."
    ),
    status_code=204,
    responses=problem_responses(404),
)
def retire(
    session: SessionDep,
    services: ServicesDep,
    identifier: Annotated[str, PathParam(min_length=1, max_length=128, description="The course's id")],
) -> Response:
    retire_course(session, identifier)
    session.commit()
    services.catalog.wake()
    return Response(status_code=204)


@router.get("/competencies", summary="List competencies (KCM sub-themes)")
def list_competencies(
    session: SessionDep,
    area: Annotated[IdFilter, Query(description="Area id: BEH, FUN or DOM")] = None,
    theme: Annotated[IdFilter, Query(description="Theme id, e.g. FUN-02")] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Words that must appear in the name")
    ] = None,
    *,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Competency]:
    words = q.casefold().split() if q else []
    matching = [
        c
        for c in load_competency_model(session).competencies
        if (area is None or c.area_id == area)
        and (theme is None or c.theme_id == theme)
        and all(word in c.name.casefold() for word in words)
    ]
    return Page(items=matching[offset : offset + limit], total=len(matching), offset=offset, limit=limit)


@router.get("/competencies/{competency_id}", summary="Get a competency", responses=problem_responses(404))
def get_one_competency(
    session: SessionDep,
    competency_id: Annotated[str, PathParam(description="The competency's id (a KCM sub-theme), e.g. FUN-02-01")],
) -> Competency:
    return get_competency(session, competency_id)


@router.get("/roles", summary="List roles")
def list_roles(
    session: SessionDep,
    department: Annotated[NameFilter, Query(description=f"Only roles in this department. {NAME_FILTER}")] = None,
    ministry: Annotated[
        NameFilter, Query(description=f"Only roles under this ministry (or state government). {NAME_FILTER}")
    ] = None,
    state: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=128,
            description="Only roles of this state government (its name in any case); central roles have none",
        ),
    ] = None,
    *,
    competency: Annotated[IdFilter, Query(description="Only roles that require this competency")] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Role]:
    query = select(RoleRow)
    for column, value in ((RoleRow.department, department), (RoleRow.ministry, ministry), (RoleRow.state, state)):
        if value is not None:
            stored = [name for name in session.scalars(select(column).distinct()) if name is not None]
            query = query.where(column.in_(matching_names([value], stored)))
    if competency is not None:
        requiring = select(RoleCompetencyRow.role_id).where(RoleCompetencyRow.competency_id == competency)
        query = query.where(RoleRow.id.in_(requiring))
    rows, total = _page(session, query.order_by(RoleRow.id), offset, limit)
    return Page(items=[get_role(session, row.id) for row in rows], total=total, offset=offset, limit=limit)


@router.get("/roles/{role_id}", summary="Get a role and its competency profile", responses=problem_responses(404))
def get_one_role(
    session: SessionDep, role_id: Annotated[str, PathParam(description="The role's id, e.g. ROLE-DOPT-SO")]
) -> Role:
    return get_role(session, role_id)


def _courses_by(session: Session, providers: list[str]) -> set[str]:
    """Ids of the courses by any of `providers` (as NAME_FILTER says); providers are stored as names in a JSON list,
    so they are matched here rather than in SQL, alike on every database."""
    rows = session.execute(select(CourseRow.identifier, CourseRow.organisations)).all()
    wanted = matching_names(providers, (name for _, organisations in rows for name in organisations))
    return {identifier for identifier, organisations in rows if wanted.intersection(organisations)}


def _page(session: Session, query: Select[Any], offset: int, limit: int) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(session.scalars(query.offset(offset).limit(limit)))
    return rows, total


def _localized(session: Session, courses: list[Course], lang: LanguageCode | None) -> list[LocalizedCourse]:
    shown = displays(session, courses, [lang.value] if lang else [])
    return [LocalizedCourse(**course.model_dump(), display=shown[course.identifier]) for course in courses]
