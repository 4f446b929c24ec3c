"""How a course is shown to a reader: its name and description in the first of the reader's languages that it is
offered in or has an approved translation into, read fresh from the database for the courses of one response.

The rule, per course, for the reader's languages in order (the first language that gives anything wins):

- one or more of the course's fields (name, description) has an APPROVED translation into the language, made from
  the course's present text: `source` "translation", and `translated_fields` names those fields; a field without
  one (not translated, a draft, in review, rejected, or approved for an older text) shows the original text;
- else the course is offered in the language: `source` "native", the original text;
- else the next language. When no language gives anything: `source` "original", the original text, and `language`
  the course's first language.

So `language` is the language chosen for the course, and `translated_fields` says which fields are in it by
translation: with only the Hindi title approved, `language` is "hi", `source` "translation", `translated_fields`
["name"], and `description` is the original text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session

from models.statuses import UnitStatus
from models.tables import CourseRow, TranslationUnitRow

DisplayField = Literal["name", "description"]
DISPLAY_FIELDS: tuple[DisplayField, ...] = ("name", "description")


class CourseDisplay(BaseModel):
    """A course as the reader should see it (beside the original fields, which stay as stored)."""

    name: str = Field(description="The name to show: the approved translation where there is one, else the original")
    description: str = Field(
        description="The description to show: the approved translation where there is one, else the original"
    )
    language: str = Field(
        description="The language chosen for the course: the first of the reader's languages that the course is "
        "offered in or has an approved translation into; else the course's own first language"
    )
    source: Literal["native", "translation", "original"] = Field(
        description="translation: at least one field is an approved translation into `language` (see "
        "`translated_fields`); native: the course is offered in `language`, shown as written; original: none of the "
        "reader's languages, so the original text"
    )
    translated_fields: list[DisplayField] = Field(
        default_factory=list,
        description="The fields shown from an approved translation; the others are the original text",
    )


@dataclass
class CourseTexts:
    """A course's present text and its approved translations (language -> field -> text) in asked languages."""

    name: str
    description: str
    languages: list[str]
    approved: dict[str, dict[DisplayField, str]] = field(default_factory=dict)


def _approved_texts_query() -> Select[str, str, str, list[str], str, str, str, str | None, str | None]:
    units = TranslationUnitRow
    return (
        select(
            CourseRow.identifier,
            CourseRow.name,
            CourseRow.description,
            CourseRow.languages,
            units.language,
            units.field,
            units.source_text,
            units.edited,
            units.draft,
        )
        .outerjoin(
            units,
            and_(
                units.course_id == CourseRow.identifier,
                units.status == UnitStatus.APPROVED,
                units.language.in_(bindparam("languages", expanding=True)),
                units.field.in_(DISPLAY_FIELDS),
            ),
        )
        .where(CourseRow.identifier.in_(bindparam("courses", expanding=True)))
    )


# Built once: building the statement took about half of this read's time, on every request.
_APPROVED_TEXTS = _approved_texts_query()


def approved_texts(session: Session, course_ids: Collection[str], languages: Collection[str]) -> dict[str, CourseTexts]:
    """Course id -> its stored text and the approved translations of its fields into `languages`, in ONE query
    (courses outer-joined to their approved units). An approved unit made from an older text of the field is left
    out. Courses not in the database are missing from the result."""
    if not course_ids:
        return {}
    asked = {"courses": list(course_ids), "languages": list(languages)}
    rows = session.connection().execute(_APPROVED_TEXTS, asked)  # a Core statement: no ORM execution path
    found: dict[str, CourseTexts] = {}
    approved: dict[str, dict[str, dict[DisplayField, str]]] = defaultdict(dict)
    for row in rows:
        identifier = row.identifier
        texts = found.setdefault(identifier, CourseTexts(row.name, row.description or "", list(row.languages)))
        language: str | None = row.language  # None: the course has no approved unit in these languages
        if language is None:
            continue
        unit_field: DisplayField = "name" if row.field == "name" else "description"
        text = row.edited if row.edited is not None else row.draft
        current = texts.name if unit_field == "name" else texts.description
        if text and row.source_text == current:
            approved[identifier].setdefault(language, {})[unit_field] = text
    for identifier, by_language in approved.items():
        found[identifier].approved = by_language
    return found


def choose_display(texts: CourseTexts, languages: Sequence[str]) -> CourseDisplay:
    """The display of one course for a reader of `languages` (first is best), by the rule of this module."""
    for language in languages:
        translated = texts.approved.get(language, {})
        if translated:
            return CourseDisplay(
                name=translated.get("name", texts.name),
                description=translated.get("description", texts.description),
                language=language,
                source="translation",
                translated_fields=[name for name in DISPLAY_FIELDS if name in translated],
            )
        if language in texts.languages:
            return CourseDisplay(name=texts.name, description=texts.description, language=language, source="native")
    return original_display(texts.name, texts.description, texts.languages)


def original_display(name: str, description: str, languages: Sequence[str]) -> CourseDisplay:
    """The course as written, in none of the reader's languages."""
    return CourseDisplay(
        name=name, description=description, language=languages[0] if languages else "en", source="original"
    )


def course_displays(
    session: Session, course_ids: Collection[str], languages: Sequence[str]
) -> dict[str, CourseDisplay]:
    """The display of each course for a reader of `languages`, from one query; courses not stored are left out."""
    wanted = list(dict.fromkeys(languages))
    return {
        identifier: choose_display(texts, wanted)
        for identifier, texts in approved_texts(session, course_ids, wanted).items()
    }
