"""Semantic course search for the portal (`recommend:read`): hybrid and cross-lingual, and similar courses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, SessionDep, reads_done, require
from api.errors import problem_responses
from api.json_response import PRECISION
from api.localize import DISPLAY_DESCRIPTION, ReaderLanguage, displays
from api.name_filters import NAME_FILTER, matching_names
from api.services import Services
from api.vocab import LIST_OF_LANGUAGES, LanguageCode, LanguageCodes
from models import Course, NotFoundError
from models.display import CourseDisplay
from search import SearchFilters, detect_language

router = APIRouter(
    prefix="/v1",
    tags=["search"],
    dependencies=[Depends(require("recommend:read"))],
    responses=problem_responses(400, 401, 403, 422, 503),
)

K = Annotated[int, Query(ge=1, le=100, description="How many courses")]


class Hit(BaseModel):
    course_id: str = Field(description="The course's id")
    name: str = Field(description="The course's name as stored (`display` has it in the reader's language)")
    score: float = Field(description=f"Relevance, higher first; comparable within one response only; {PRECISION}")
    languages: list[str] = Field(description="The languages the course is offered in")
    duration_seconds: int | None = Field(description="The course's length in seconds; null: not stated")
    organisations: list[str] = Field(description="The course's providers, by full name")
    display: CourseDisplay = Field(description=DISPLAY_DESCRIPTION)


class SimilarCourses(BaseModel):
    course_id: str = Field(description="The course the others are like")
    items: list[Hit] = Field(description="The most similar courses, most similar first; the course itself left out")


class SearchResults(BaseModel):
    query: str = Field(description="The query, as given")
    language: str = Field(description="The query's language: given as `lang`, else detected")
    items: list[Hit] = Field(description="The courses found, best first")


@router.get("/search", summary="Search courses by meaning, in any language (hybrid: dense and BM25)")
async def search(
    session: SessionDep,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=500, pattern=r"\S", description="What the learner typed")],
    k: K = 10,
    *,
    lang: Annotated[
        LanguageCode | None, Query(description="The query's language, when known; detected otherwise")
    ] = None,
    language: Annotated[
        LanguageCodes | None,
        Query(
            description="Only courses offered in one of these languages (then ranked by relevance alone). "
            + LIST_OF_LANGUAGES
        ),
    ] = None,
    reads: Annotated[
        LanguageCodes | None,
        Query(
            description="Other languages the reader reads (not a filter). Courses in the query's language, these "
            "and English rank above courses in any other language, which only fill the list up to k. "
            + LIST_OF_LANGUAGES
        ),
    ] = None,
    provider: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=256)]] | None,
        Query(description=f"Only courses by one of these providers. {NAME_FILTER}"),
    ] = None,
    max_duration_minutes: Annotated[
        int | None, Query(ge=1, le=100_000, description="Only courses that take at most this many minutes")
    ] = None,
) -> SearchResults:
    # `async def`, its work in one worker thread: one trip to the thread pool instead of two (api/deps.py).
    return await run_in_threadpool(
        _search,
        session,
        services,
        q,
        k,
        lang=lang,
        language=language,
        reads=reads,
        provider=provider,
        max_duration_minutes=max_duration_minutes,
    )


def _search(
    session: Session,
    services: Services,
    q: str,
    k: int,
    *,
    lang: LanguageCode | None,
    language: list[LanguageCode] | None,
    reads: list[LanguageCode] | None,
    provider: list[str] | None,
    max_duration_minutes: int | None,
) -> SearchResults:
    loaded = services.catalog.get()
    searcher = services.catalog.searcher_of(loaded)  # the same state as the course facts below
    courses = loaded.recommender.courses_by_id_
    filters = SearchFilters(
        languages=frozenset(code.value for code in language or []),
        providers=_providers(provider or [], courses),
        max_duration_seconds=max_duration_minutes * 60 if max_duration_minutes else None,
    )
    query_language = lang.value if lang else detect_language(q)
    # Searches run side by side: the encoders batch concurrent queries (embeddings/batching.py) or run on threads of
    # their own (E5), the rest is shared read-only state.
    found = searcher.search(q, k, filters, language=query_language, reads=[code.value for code in reads or []])
    # Each course is shown in the query's language first, then the languages the reader reads, then the filter's.
    reading = [query_language, *(code.value for code in [*(reads or []), *(language or [])])]
    items = _hits(session, courses, found, reading)
    reads_done(session)
    return SearchResults(query=q, language=query_language, items=items)


@router.get(
    "/courses/{identifier}/similar",
    summary="Courses most like this one (by the meaning of their texts)",
    responses=problem_responses(404),
)
def similar(
    session: SessionDep,
    services: ServicesDep,
    identifier: Annotated[str, Path(min_length=1, max_length=128, description="The course's id")],
    k: K = 10,
    *,
    lang: ReaderLanguage = None,
) -> SimilarCourses:
    loaded = services.catalog.get()
    searcher = services.catalog.searcher_of(loaded)  # the same state as the course facts below
    text = searcher.texts.get(identifier)
    if text is None:
        raise NotFoundError("course", identifier)
    [found] = searcher.match_texts([text], k + 1)
    others = [(course_id, score) for course_id, score in found if course_id != identifier][:k]
    reading = [lang.value] if lang else []
    return SimilarCourses(
        course_id=identifier, items=_hits(session, loaded.recommender.courses_by_id_, others, reading)
    )


def _providers(asked: list[str], courses: Mapping[str, Course]) -> frozenset[str]:
    """The providers' names as the catalog stores them; the asked values themselves when none matches (so the
    filter still finds nothing rather than everything)."""
    if not asked:
        return frozenset()
    stored = {name for course in courses.values() for name in course.organisations}
    return frozenset(matching_names(asked, stored) or asked)


def _hits(
    session: Session, courses: Mapping[str, Course], found: list[tuple[str, float]], reading: list[str]
) -> list[Hit]:
    shown = displays(session, (courses[course_id] for course_id, _ in found if course_id in courses), reading)
    return [
        Hit(
            course_id=course_id,
            name=courses[course_id].name,
            score=score,
            languages=list(courses[course_id].languages),
            duration_seconds=courses[course_id].duration_seconds,
            organisations=list(courses[course_id].organisations),
            display=shown[course_id],
        )
        for course_id, score in found
        if course_id in courses
    ]
