"""Reading the stored catalog back as domain records; statistics and a fingerprint of the courses."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Row,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from models.changes import record_changes
from models.schemas import (
    AttestedCompetency,
    Competency,
    CompetencyArea,
    CompetencyModel,
    CompetencyTheme,
    Course,
    CourseCompetency,
    Learner,
    ProficiencyLevel,
    RequiredCompetency,
    Role,
    content_hash,
)
from models.statuses import UnitStatus
from models.tables import (
    CompetencyAreaRow,
    CompetencyRow,
    CompetencyThemeRow,
    CourseCompetencyRow,
    CourseRow,
    LearnerCompetencyRow,
    LearnerCourseRow,
    LearnerRoleRow,
    LearnerRow,
    ProficiencyLevelRow,
    RoleRow,
    TranslationUnitRow,
)


class NotFoundError(LookupError):
    """A course, role, learner or competency that is not in the catalog."""

    def __init__(self, kind: str, identifier: str) -> None:
        super().__init__(f"unknown {kind} {identifier!r}")
        self.kind = kind
        self.identifier = identifier


def load_competency_model(session: Session) -> CompetencyModel:
    return CompetencyModel(
        proficiency_levels=[
            ProficiencyLevel(level=r.level, name=r.name, description=r.description)
            for r in session.scalars(select(ProficiencyLevelRow).order_by(ProficiencyLevelRow.level))
        ],
        areas=[
            CompetencyArea(id=r.id, name=r.name, description=r.description)
            for r in session.scalars(select(CompetencyAreaRow).order_by(CompetencyAreaRow.id))
        ],
        themes=[
            CompetencyTheme(id=r.id, area_id=r.area_id, name=r.name, description=r.description)
            for r in session.scalars(select(CompetencyThemeRow).order_by(CompetencyThemeRow.id))
        ],
        competencies=[_competency(r) for r in session.scalars(select(CompetencyRow).order_by(CompetencyRow.id))],
    )


def get_competency(session: Session, competency_id: str) -> Competency:
    row = session.get(CompetencyRow, competency_id)
    if row is None:
        raise NotFoundError("competency", competency_id)
    return _competency(row)


def list_courses(
    session: Session, *, retired: bool = False, identifiers: Collection[str] | None = None
) -> list[Course]:
    """Courses in identifier order: the active ones (with `retired`, all); with `identifiers`, only those."""
    query = select(CourseRow).order_by(CourseRow.identifier)
    if not retired:
        query = query.where(CourseRow.status == "active")
    if identifiers is not None:
        query = query.where(CourseRow.identifier.in_(list(identifiers)))
    return [_course(r) for r in session.scalars(query)]


def get_course(session: Session, identifier: str) -> Course:
    row = session.get(CourseRow, identifier)
    if row is None:
        raise NotFoundError("course", identifier)
    return _course(row)


def list_roles(session: Session) -> list[Role]:
    return [_role(r) for r in session.scalars(select(RoleRow).order_by(RoleRow.id))]


def get_role(session: Session, role_id: str) -> Role:
    row = session.get(RoleRow, role_id)
    if row is None:
        raise NotFoundError("role", role_id)
    return _role(row)


def get_learner(session: Session, learner_id: str) -> Learner:
    """One learner, read in two statements (its row; its roles, courses and levels in one UNION ALL) and without
    the ORM's objects: this is the read of every recommendation request, and loading `LearnerRow` with its three
    relationships took four statements and about twice the time."""
    # On the session's connection: Core statements need none of the ORM's execution path.
    connection = session.connection()
    found = connection.execute(_LEARNER_ROW, {"learner_id": learner_id}).one_or_none()
    if found is None:
        raise NotFoundError("learner", learner_id)
    roles: list[tuple[int, str]] = []
    courses: list[tuple[str, str]] = []
    levels: list[tuple[str, int, str]] = []
    for kind, identifier, number, label in connection.execute(_LEARNER_LISTS, {"learner_id": learner_id}):
        if kind == "role":
            roles.append((number, identifier))
        elif kind == "course":
            courses.append((identifier, label))
        else:
            levels.append((identifier, number, label))
    return _assembled_learner(found, roles=roles, courses=courses, levels=levels)


def _learner_lists() -> CompoundSelect[str, str, int, str]:
    """(kind, id, number, label) rows: roles (id, position), courses (id, status), competencies (id, level, source)."""
    learner_id = bindparam("learner_id", type_=String)
    no_number, no_label = cast(null(), Integer), cast(null(), String)
    role, course, level = LearnerRoleRow, LearnerCourseRow, LearnerCompetencyRow
    return union_all(
        select(literal("role"), role.role_id, role.position, no_label).where(role.learner_id == learner_id),
        select(literal("course"), course.course_id, no_number, course.status).where(course.learner_id == learner_id),
        select(literal("level"), level.competency_id, level.level, level.source).where(level.learner_id == learner_id),
    )


# Built once (building a statement costs about as much as running it here).
_LEARNER_ROW = select(
    LearnerRow.id, LearnerRow.name, LearnerRow.department, LearnerRow.preferred_languages, LearnerRow.interests
).where(LearnerRow.id == bindparam("learner_id"))
_LEARNER_LISTS = _learner_lists()


def iter_learners(session: Session, batch_size: int = 1000) -> Iterator[Learner]:
    """All learners in id order, fetched in batches so that memory stays bounded."""
    last = ""
    while True:
        query = select(LearnerRow).where(LearnerRow.id > last).order_by(LearnerRow.id).limit(batch_size)
        rows = list(session.scalars(query))
        if not rows:
            return
        yield from (_learner(r) for r in rows)
        last = rows[-1].id
        session.expunge_all()


def approved_languages(session: Session, course_ids: Collection[str] | None = None) -> dict[str, frozenset[str]]:
    """Course id -> the languages in which a reviewer approved its metadata: every translated field of the
    course in that language (at least one) is approved; untranslated fields do not count, any other status
    (machine draft, in review, rejected) withholds the language. Courses with none are left out."""
    units = TranslationUnitRow
    not_approved = func.sum(case((units.status != UnitStatus.APPROVED, 1), else_=0))
    query = (
        select(units.course_id, units.language)
        .where(units.status != UnitStatus.UNTRANSLATED)
        .group_by(units.course_id, units.language)
        .having(not_approved == 0)
    )
    if course_ids is not None:
        query = query.where(units.course_id.in_(course_ids))
    found: dict[str, set[str]] = defaultdict(set)
    for course_id, language in session.execute(query):
        found[course_id].add(language)
    return {course_id: frozenset(languages) for course_id, languages in found.items()}


def catalog_fingerprint(session: Session) -> str:
    """Changes whenever any course is added, removed or edited (used to detect a stale index)."""
    digest = hashlib.sha256()
    for identifier, stored_hash in session.execute(
        select(CourseRow.identifier, CourseRow.content_hash).order_by(CourseRow.identifier)
    ):
        digest.update(f"{identifier}\0{stored_hash}\n".encode())
    return digest.hexdigest()


@dataclass
class CatalogStats:
    areas: int = 0
    themes: int = 0
    competencies: int = 0
    roles: int = 0
    departments: int = 0
    ministries: int = 0
    courses: int = 0  # active ones: the figures below describe them
    courses_retired: int = 0
    providers: int = 0
    learners: int = 0
    courses_by_language: dict[str, int] = field(default_factory=dict)
    courses_by_format: dict[str, int] = field(default_factory=dict)
    courses_by_area: dict[str, int] = field(default_factory=dict)
    courses_non_english: int = 0

    @property
    def non_english_share(self) -> float:
        """Share of courses offered in at least one language other than English."""
        return self.courses_non_english / self.courses if self.courses else 0.0


def catalog_stats(session: Session) -> CatalogStats:
    def count(table: type) -> int:
        return session.scalar(select(func.count()).select_from(table)) or 0

    roles = session.execute(select(RoleRow.department, RoleRow.ministry, RoleRow.state)).all()
    languages: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    providers: set[str] = set()
    non_english = 0
    for course_languages, organisations, source_format in session.execute(
        select(CourseRow.languages, CourseRow.organisations, CourseRow.source_format).where(
            CourseRow.status == "active"
        )
    ):
        languages.update(course_languages)
        formats[source_format] += 1
        providers.update(organisations)
        non_english += any(code != "en" for code in course_languages)
    by_area = session.execute(
        select(CompetencyAreaRow.name, func.count(func.distinct(CourseCompetencyRow.course_id)))
        .join(CompetencyRow, CompetencyRow.area_id == CompetencyAreaRow.id)
        .join(CourseCompetencyRow, CourseCompetencyRow.competency_id == CompetencyRow.id)
        .join(CourseRow, CourseRow.identifier == CourseCompetencyRow.course_id)
        .where(CourseRow.status == "active")
        .group_by(CompetencyAreaRow.name)
        .order_by(CompetencyAreaRow.name)
    ).all()
    return CatalogStats(
        areas=count(CompetencyAreaRow),
        themes=count(CompetencyThemeRow),
        competencies=count(CompetencyRow),
        roles=len(roles),
        departments=len({department for department, _, _ in roles}),
        ministries=len({ministry or f"Government of {state}" for _, ministry, state in roles}),
        courses=sum(formats.values()),
        courses_retired=session.scalar(select(func.count()).where(CourseRow.status == "retired")) or 0,
        providers=len(providers),
        learners=count(LearnerRow),
        courses_by_language=dict(languages.most_common()),
        courses_by_format=dict(formats.most_common()),
        courses_by_area={name: int(n) for name, n in by_area},
        courses_non_english=non_english,
    )


def _competency(row: CompetencyRow) -> Competency:
    return Competency(
        id=row.id,
        theme_id=row.theme_id,
        area_id=row.area_id,
        name=row.name,
        description=row.description,
        levels={level.level: level.descriptor for level in row.levels},
    )


def _course(row: CourseRow) -> Course:
    return Course(
        identifier=row.identifier,
        name=row.name,
        description=row.description,
        keywords=row.keywords,
        languages=row.languages,
        duration_seconds=row.duration_seconds,
        primary_category=row.primary_category,
        organisations=row.organisations,
        rating=row.rating,
        rating_count=row.rating_count,
        source_format=row.source_format,
        status=row.status,
        competencies=[
            CourseCompetency(competency_id=c.competency_id, level=c.level)
            for c in sorted(row.competencies, key=lambda c: c.competency_id)
        ],
    )


def _role(row: RoleRow) -> Role:
    return Role(
        id=row.id,
        designation=row.designation,
        department=row.department,
        ministry=row.ministry,
        state=row.state,
        responsibilities=row.responsibilities,
        activities=row.activities,
        competencies=[
            RequiredCompetency(competency_id=c.competency_id, level=c.level, importance=c.importance)
            for c in sorted(row.competencies, key=lambda c: c.competency_id)
        ],
    )


def _learner(row: LearnerRow) -> Learner:
    return _assembled_learner(
        row,
        roles=[(r.position, r.role_id) for r in row.roles],
        courses=[(c.course_id, c.status) for c in row.courses],
        levels=[(c.competency_id, c.level, c.source) for c in row.competencies],
    )


def _assembled_learner(
    row: LearnerRow | Row[str, str | None, str | None, list[str], list[str]],
    *,
    roles: list[tuple[int, str]],
    courses: list[tuple[str, str]],
    levels: list[tuple[str, int, str]],
) -> Learner:
    """A learner from its row and its lists as stored: roles (position, id), courses (id, status) and levels
    (competency id, level, source), in any order."""
    courses = sorted(courses)
    return Learner(
        id=row.id,
        name=row.name,
        roles=[role for _, role in sorted(roles)],
        department=row.department,
        preferred_languages=row.preferred_languages,
        enrolled=[course for course, status in courses if status == "enrolled"],
        completed=[course for course, status in courses if status == "completed"],
        competencies=[
            AttestedCompetency.model_validate({"competency_id": competency, "level": level, "source": source})
            for competency, level, source in sorted(levels)
        ],
        interests=row.interests,
    )


def retire_course(session: Session, identifier: str) -> bool:
    """Withdraw a course from search and recommendations, keeping its row, history and translations; records
    the change in the caller's transaction. False when it was already retired; NotFoundError when unknown."""
    row = session.get(CourseRow, identifier)
    if row is None:
        raise NotFoundError("course", identifier)
    if row.status == "retired":
        return False
    retired = _course(row).model_copy(update={"status": "retired"})
    row.status = "retired"
    row.content_hash = content_hash(retired)
    session.flush()
    record_changes(session, "course", [identifier])
    return True
