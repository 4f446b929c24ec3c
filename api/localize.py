"""What the routes add to the courses they return: each course's `display` (models.display: the first of the
reader's languages it is offered in or has an approved translation into, read fresh with one query per response,
so an approval shows at the next request) and the `reason` in the reader's language (recommender.messages), with
the glossary's names for the KCM competencies in that language where it has them (else the English name)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Annotated

from fastapi import Query
from pydantic import Field, computed_field
from sqlalchemy.orm import Session

from api.vocab import LanguageCode
from models import Course
from models.display import CourseDisplay, CourseTexts, choose_display, course_displays
from models.schemas import Identifier
from recommender import Explanation
from recommender.messages import SOURCE_LANGUAGE, reason_language
from translation import Glossary

DISPLAY_DESCRIPTION = (
    "The course as the reader should see it: name and description in the first of the reader's languages "
    "(the request's `lang`, then the learner's preferred languages) that the course is offered in (native) or "
    "has an approved translation into (translation), else the original text (original)"
)

ReaderLanguage = Annotated[
    LanguageCode | None,
    Query(description="The language the reader reads: each course's `display` is in it where it can be"),
]


class LocalizedCourse(Course):
    """A course as stored, with how to show it to the reader."""

    identifier: Identifier = Field(
        description="Deprecated, to be removed in the next release: the same as `course_id`, the name every "
        "response uses for a course's id",
        deprecated=True,
    )
    display: CourseDisplay = Field(description=DISPLAY_DESCRIPTION)

    @computed_field(description="The course's id (`course_id` in every response)")  # type: ignore[prop-decorator]
    @property
    def course_id(self) -> str:
        return self.__dict__["identifier"]  # read past the deprecation warning of `identifier`


def displays(session: Session, courses: Iterable[Course], languages: Sequence[str]) -> dict[str, CourseDisplay]:
    """Course id -> display for a reader of `languages`, from one query. A course that is no longer stored (the
    loaded catalog is a little behind the database) is shown from its loaded record."""
    given = {course.identifier: course for course in courses}
    found = course_displays(session, given, languages)
    return {identifier: found.get(identifier) or _as_loaded(course, languages) for identifier, course in given.items()}


def reasons(languages: Sequence[str], glossary: Callable[[], Glossary]) -> Callable[[Explanation], str]:
    """A function writing an explanation's reason for a reader of `languages`: in the first of them that has a
    message catalog (else English)."""
    language = reason_language(languages)
    names = glossary().competency_names(language) if language != SOURCE_LANGUAGE else None
    return lambda explanation: explanation.summary(language, names)


def _as_loaded(course: Course, languages: Sequence[str]) -> CourseDisplay:
    return choose_display(CourseTexts(course.name, course.description, list(course.languages)), languages)
