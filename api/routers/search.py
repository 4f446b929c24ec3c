"""Semantic course search for the portal (`recommend:read`): hybrid and cross-lingual, and similar courses."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from api.deps import ServicesDep, require
from api.errors import problem_responses
from api.vocab import LanguageCode
from models import Course, NotFoundError
from search import SearchFilters, detect_language

router = APIRouter(
    prefix="/v1",
    tags=["search"],
    dependencies=[Depends(require("recommend:read"))],
    responses=problem_responses(400, 401, 403, 422, 503),
)
# The multilingual encoder is a C engine whose thread safety is not documented: one search at a time per worker.
_search_lock = threading.Lock()

K = Annotated[int, Query(ge=1, le=100, description="How many courses")]


class Hit(BaseModel):
    course_id: str
    name: str
    score: float = Field(description="Relevance; comparable within one response only")
    languages: list[str]
    duration_seconds: int | None
    organisations: list[str]


class SimilarCourses(BaseModel):
    course_id: str
    items: list[Hit]


class SearchResults(BaseModel):
    query: str
    language: str = Field(description="The query's language: given as `lang`, else detected")
    items: list[Hit]


@router.get("/search", summary="Search courses by meaning, in any language (hybrid: dense and BM25)")
def search(
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=500, pattern=r"\S", description="What the learner typed")],
    k: K = 10,
    lang: Annotated[
        LanguageCode | None, Query(description="The query's language, when known; detected otherwise")
    ] = None,
    language: Annotated[
        list[LanguageCode] | None, Query(description="Only courses offered in one of these languages")
    ] = None,
    provider: Annotated[list[str] | None, Query(description="Only courses by one of these providers")] = None,
    max_duration_minutes: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> SearchResults:
    loaded = services.catalog.get()
    searcher = services.catalog.searcher()
    filters = SearchFilters(
        languages=frozenset(code.value for code in language or []),
        providers=frozenset(provider or []),
        max_duration_seconds=max_duration_minutes * 60 if max_duration_minutes else None,
    )
    query_language = lang.value if lang else detect_language(q)
    with _search_lock:
        found = searcher.search(q, k, filters, language=query_language)
    return SearchResults(query=q, language=query_language, items=_hits(loaded.recommender.courses_by_id_, found))


@router.get(
    "/courses/{identifier}/similar",
    summary="Courses most like this one (by the meaning of their texts)",
    responses=problem_responses(404),
)
def similar(
    services: ServicesDep,
    identifier: Annotated[str, Path(min_length=1, max_length=128)],
    k: K = 10,
) -> SimilarCourses:
    loaded = services.catalog.get()
    searcher = services.catalog.searcher()
    text = searcher.texts.get(identifier)
    if text is None:
        raise NotFoundError("course", identifier)
    with _search_lock:
        [found] = searcher.match_texts([text], k + 1)
    others = [(course_id, score) for course_id, score in found if course_id != identifier][:k]
    return SimilarCourses(course_id=identifier, items=_hits(loaded.recommender.courses_by_id_, others))


def _hits(courses: Mapping[str, Course], found: list[tuple[str, float]]) -> list[Hit]:
    return [
        Hit(
            course_id=course_id,
            name=courses[course_id].name,
            score=round(score, 6),
            languages=list(courses[course_id].languages),
            duration_seconds=courses[course_id].duration_seconds,
            organisations=list(courses[course_id].organisations),
        )
        for course_id, score in found
        if course_id in courses
    ]
