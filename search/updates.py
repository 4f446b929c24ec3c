"""Keeping a loaded searcher current without rebuilding it: a copy with some courses added, edited or removed.

A serving process answers from one searcher while the next is prepared beside it, then swaps them, so that no
request sees half an update. The copy shares what updates never modify in place (encoders, token matrices) and
duplicates what they do (FAISS indexes and their vectors, the sentence lists)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from embeddings import TokenIndex
from models import Course
from search.config import CourseFacts
from search.passages import course_text
from search.searcher import CourseSearcher


def copy_tokens(index: TokenIndex) -> TokenIndex:
    # Upserts replace a course's matrices and never write into them: the arrays can be shared.
    copied = TokenIndex(index.dimension)
    copied.codes_, copied.scales_ = dict(index.codes_), dict(index.scales_)
    return copied


def copy_searcher(searcher: CourseSearcher) -> CourseSearcher:
    parts = searcher.parts
    copied = replace(
        parts,
        passages=parts.passages.copy(),
        multilingual=parts.multilingual.copy() if parts.multilingual is not None else None,
        sentences=parts.sentences.copy() if parts.sentences is not None else None,
        tokens=copy_tokens(parts.tokens) if parts.tokens is not None else None,
    )
    neighbours = searcher.nearest() if searcher.config.neighbour_weight > 0 else None
    return CourseSearcher(
        searcher.config,
        copied,
        searcher.texts,
        searcher.facts,
        neighbours=neighbours,
        query_vectors=searcher.query_vectors,
        lexical=searcher.lexical_index(),
    )


def changed_courses(
    searcher: CourseSearcher, courses: Sequence[Course], competency_names: Mapping[str, str]
) -> list[Course]:
    """The courses whose indexed text or filter facts differ from what the searcher holds (new ones included)."""
    fields = searcher.config.fields
    return [
        course
        for course in courses
        if searcher.texts.get(course.identifier) != course_text(course, fields, competency_names)
        or searcher.facts.get(course.identifier) != CourseFacts.of(course)
    ]


def updated_searcher(
    searcher: CourseSearcher,
    upserts: Sequence[Course],
    removals: Collection[str],
    competency_names: Mapping[str, str],
) -> CourseSearcher:
    """A new searcher equal to `searcher` with `upserts` indexed (only those whose text or facts changed are
    encoded) and `removals` dropped, warmed (BM25, nearest courses, pool layout) so that its first search is as
    fast as any; `searcher` itself is not modified. Returns `searcher` when nothing changes."""
    changed = changed_courses(searcher, upserts, competency_names)
    gone = [identifier for identifier in removals if identifier in searcher.texts]
    if not changed and not gone:
        return searcher
    updated = copy_searcher(searcher)
    if gone:
        updated.remove_courses(gone)
    if changed:
        updated.upsert_courses(changed, competency_names)
    updated.warm()
    return updated
