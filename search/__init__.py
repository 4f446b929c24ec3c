"""Retrieval over the course catalog: lexical (BM25), dense (MiniLM passages and sentences, multilingual E5),
late interaction over token vectors, their normalisation and fusion into the default hybrid, the stored index
of a catalog, and its evaluation.

`models` ← `embeddings` ← `search` ← `recommender`: the recommender asks a `CourseSearcher` for candidates
through `match_texts`, and nothing here knows about recommendations."""

from search.building import build_searcher, empty_parts, load_encoders
from search.catalog import (
    BuildReport,
    build_course_index,
    count_courses,
    index_path,
    open_course_searcher,
    open_or_build_searcher,
)
from search.config import (
    METHODS,
    CourseFacts,
    Method,
    RetrievalConfig,
    SearchFilters,
    SearchSettings,
    retrieval_config,
)
from search.evaluation import EvaluationInputError, evaluate_retrieval
from search.language import detect_language
from search.searcher import CourseSearcher, SearchParts, encoding_passes
from search.storage import load_searcher, save_searcher

__all__ = [
    "METHODS",
    "BuildReport",
    "CourseFacts",
    "CourseSearcher",
    "EvaluationInputError",
    "Method",
    "RetrievalConfig",
    "SearchFilters",
    "SearchParts",
    "SearchSettings",
    "build_course_index",
    "build_searcher",
    "count_courses",
    "detect_language",
    "empty_parts",
    "encoding_passes",
    "evaluate_retrieval",
    "index_path",
    "load_encoders",
    "load_searcher",
    "open_course_searcher",
    "open_or_build_searcher",
    "retrieval_config",
    "save_searcher",
]
