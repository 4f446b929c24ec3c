"""What the index reads for each course: one passage built from chosen fields, and that passage's sentences
(measured choices: docs/search.md).

A course is matched by its whole passage and, beside it, by its best sentence: one sentence that says exactly what
a learner asked for is a strong sign even when the rest of a long description is about other things."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from models import Course, InvalidInputError

FIELDS = ("title", "description", "keywords", "competencies")
DEFAULT_FIELDS = ("title", "description", "keywords", "competencies")


def course_text(
    course: Course, fields: Sequence[str] = DEFAULT_FIELDS, competency_names: Mapping[str, str] = {}
) -> str:
    """One text for the whole course, from the chosen fields, in a fixed order."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InvalidInputError(f"unknown passage field(s) {', '.join(unknown)}: choose from {', '.join(FIELDS)}")
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


# A sentence ends at ., ! or ? (or the Devanagari danda) followed by white space.
_SENTENCE_END = re.compile(r"(?<=[.!?\u0964])\s+")


def passage_segments(text: str) -> list[str]:
    """The passage's sentences, in order; fragments of three characters or fewer are dropped (list markers)."""
    segments = [part.strip() for part in _SENTENCE_END.split(text)]
    return [segment for segment in segments if len(segment) > 3] or ([text.strip()] if text.strip() else [])


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?", "।")) else text + "."


def multilingual_passage(course: Course, chars: int) -> str:
    """What the multilingual encoder reads: the title and the description's first `chars` characters, cut at a
    word (the 4-bit E5 engine is slow on long texts, and the start carries the topic)."""
    description = (
        course.description[:chars].rsplit(" ", 1)[0] if len(course.description) > chars else course.description
    )
    return f"{course.name}. {description}".strip()
