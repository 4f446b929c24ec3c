"""What the index reads for each course: one passage built from chosen fields (a measured choice: docs/search.md).

Splitting long descriptions into title-led chunks and scoring a course by its best chunk was measured too; it did
not beat one passage per course (docs/search.md), so the simpler form stays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from models import Course

FIELDS = ("title", "description", "keywords", "competencies")
DEFAULT_FIELDS = ("title", "description", "keywords", "competencies")


def course_text(
    course: Course, fields: Sequence[str] = DEFAULT_FIELDS, competency_names: Mapping[str, str] = {}
) -> str:
    """One text for the whole course, from the chosen fields, in a fixed order."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown passage field(s) {', '.join(unknown)}: choose from {', '.join(FIELDS)}")
    parts: list[str] = []
    if "title" in fields:
        parts.append(_sentence(course.name))
    if "description" in fields and course.description:
        parts.append(_sentence(course.description))
    if "keywords" in fields and course.keywords:
        parts.append(_sentence("Keywords: " + ", ".join(course.keywords)))
    if "competencies" in fields and course.competencies:
        names = [competency_names.get(c.competency_id, "") for c in course.competencies]
        if any(names):
            parts.append(_sentence("Competencies: " + ", ".join(name for name in names if name)))
    return " ".join(parts)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?", "।")) else text + "."
