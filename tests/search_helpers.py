"""Text matches as the recommender gets them in production (a course searcher's `match_texts`), over a catalog
small enough to index in memory: dense MiniLM passages only, the one signal `match_texts` uses."""

from __future__ import annotations

from collections.abc import Sequence

from embeddings import Encoder
from models import Course
from recommender import CourseMatcher
from search import CourseSearcher, RetrievalConfig, empty_parts, load_encoders

DENSE_ONLY = RetrievalConfig(multilingual_encoder=None, segment_weight=0, token_weight=0, neighbour_weight=0)


def minilm_encoder() -> Encoder:
    return load_encoders(DENSE_ONLY)[0]


def dense_matcher(courses: Sequence[Course], encoder: Encoder | None = None) -> CourseMatcher:
    searcher = CourseSearcher(DENSE_ONLY, empty_parts(DENSE_ONLY, encoder or minilm_encoder()))
    searcher.upsert_courses(courses, {})
    return searcher.match_texts
