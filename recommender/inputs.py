"""What the recommender reads from the catalog, gathered once: KCM, roles, courses, popularity, translations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Competency, Course, Role, approved_languages, list_courses, list_roles, load_competency_model
from models.tables import LearnerCourseRow, LearnerRow


@dataclass(frozen=True)
class CatalogInputs:
    competencies: Mapping[str, Competency]
    roles: Mapping[str, Role]
    courses: list[Course]  # the order fixes each course's column in every matrix
    # department -> course id -> learners of that department who enrolled in or completed it
    department_popularity: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    # course id -> languages in which its metadata has an approved translation (models.approved_languages)
    approved_translations: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def courses_by_id(self) -> dict[str, Course]:
        return {course.identifier: course for course in self.courses}


def load_inputs(session: Session) -> CatalogInputs:
    model = load_competency_model(session)
    return CatalogInputs(
        competencies={c.id: c for c in model.competencies},
        roles={r.id: r for r in list_roles(session)},
        courses=list_courses(session),
        department_popularity=department_popularity(session),
        approved_translations=approved_languages(session),
    )


def department_popularity(session: Session) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    query = (
        select(LearnerRow.department, LearnerCourseRow.course_id, func.count())
        .join(LearnerCourseRow, LearnerCourseRow.learner_id == LearnerRow.id)
        .where(LearnerRow.department.is_not(None))
        .group_by(LearnerRow.department, LearnerCourseRow.course_id)
    )
    for department, course_id, count in session.execute(query):
        if department is not None:  # excluded by the query; narrows the column's type
            counts[department][course_id] = int(count)
    return dict(counts)
