"""SQLAlchemy tables. Every table of the project lives here so that one Alembic history covers them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from models.schemas import CourseStatus, LevelSource, SourceFormat
from models.statuses import UnitStatus, status_check


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


def table_of(row: type[Base]) -> Table:
    """The Core table of a mapped class (typed as a `Table`: SQLAlchemy types `__table__` as any FromClause)."""
    table = row.__table__
    assert isinstance(table, Table)
    return table


class ProficiencyLevelRow(Base):
    __tablename__ = "proficiency_levels"

    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")


class CompetencyAreaRow(Base):
    __tablename__ = "competency_areas"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")


class CompetencyThemeRow(Base):
    __tablename__ = "competency_themes"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    area_id: Mapped[str] = mapped_column(ForeignKey("competency_areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")


class CompetencyRow(Base):
    """A KCM sub-theme."""

    __tablename__ = "competencies"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    theme_id: Mapped[str] = mapped_column(ForeignKey("competency_themes.id"), index=True)
    area_id: Mapped[str] = mapped_column(ForeignKey("competency_areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    levels: Mapped[list[CompetencyLevelRow]] = relationship(
        cascade="all, delete-orphan", order_by="CompetencyLevelRow.level", lazy="selectin"
    )


class CompetencyLevelRow(Base):
    __tablename__ = "competency_levels"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="ck_competency_levels_level"),)

    competency_id: Mapped[str] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    descriptor: Mapped[str] = mapped_column(Text)


class RoleRow(Base):
    __tablename__ = "roles"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    designation: Mapped[str] = mapped_column(String(256))
    department: Mapped[str] = mapped_column(String(256), index=True)
    ministry: Mapped[str | None] = mapped_column(String(256))
    state: Mapped[str | None] = mapped_column(String(128))
    responsibilities: Mapped[list[str]] = mapped_column(default=list)
    activities: Mapped[list[str]] = mapped_column(default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    competencies: Mapped[list[RoleCompetencyRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class RoleCompetencyRow(Base):
    __tablename__ = "role_competencies"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="ck_role_competencies_level"),)

    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[str] = mapped_column(ForeignKey("competencies.id"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(Integer)
    importance: Mapped[int] = mapped_column(Integer, default=2)


class CourseRow(Base):
    __tablename__ = "courses"
    __table_args__ = (CheckConstraint("status IN ('active', 'retired')", name="ck_courses_status"),)

    identifier: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(default=list)
    languages: Mapped[list[str]] = mapped_column(default=list)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    primary_category: Mapped[str] = mapped_column(String(64), default="Course")
    organisations: Mapped[list[str]] = mapped_column(default=list)
    rating: Mapped[float | None] = mapped_column(Float)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    source_format: Mapped[SourceFormat] = mapped_column(String(16), default="plain")
    # A retired course leaves search and recommendations and keeps its row, history and translations.
    status: Mapped[CourseStatus] = mapped_column(String(16), default="active", server_default="active")
    content_hash: Mapped[str] = mapped_column(String(64))
    competencies: Mapped[list[CourseCompetencyRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class CourseCompetencyRow(Base):
    __tablename__ = "course_competencies"
    __table_args__ = (CheckConstraint("level IS NULL OR level BETWEEN 1 AND 5", name="ck_course_competencies_level"),)

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.identifier", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[str] = mapped_column(ForeignKey("competencies.id"), primary_key=True, index=True)
    level: Mapped[int | None] = mapped_column(Integer)


class LearnerRow(Base):
    __tablename__ = "learners"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(256))
    department: Mapped[str | None] = mapped_column(String(256), index=True)
    preferred_languages: Mapped[list[str]] = mapped_column(default=list)
    interests: Mapped[list[str]] = mapped_column(default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[LearnerRoleRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    courses: Mapped[list[LearnerCourseRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    competencies: Mapped[list[LearnerCompetencyRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class LearnerRoleRow(Base):
    __tablename__ = "learner_roles"

    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class LearnerCourseRow(Base):
    __tablename__ = "learner_courses"
    __table_args__ = (CheckConstraint("status IN ('enrolled', 'completed')", name="ck_learner_courses_status"),)

    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.identifier"), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(16))


class LearnerCompetencyRow(Base):
    __tablename__ = "learner_competencies"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 5", name="ck_learner_competencies_level"),
        CheckConstraint("source IN ('self', 'assessed')", name="ck_learner_competencies_source"),
    )

    learner_id: Mapped[str] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[str] = mapped_column(ForeignKey("competencies.id"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    source: Mapped[LevelSource] = mapped_column(String(16), default="self")


# Translation (issue 5): units of the review workflow, their history, the translation memory and bulk jobs.


def _now() -> datetime:
    return datetime.now(UTC)


class TranslationUnitRow(Base):
    """One course field in one target language: the source it was made from, the draft and the reviewed text."""

    __tablename__ = "translation_units"
    __table_args__ = (
        UniqueConstraint("course_id", "field", "language", name="uq_translation_units_key"),
        CheckConstraint(status_check(), name="ck_translation_units_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.identifier", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), index=True)
    source_text: Mapped[str] = mapped_column(Text)
    source_hash: Mapped[str] = mapped_column(String(64))
    # A plain string column (not an SQL enum type), kept to UnitStatus by the CHECK above.
    status: Mapped[str] = mapped_column(String(24), default=UnitStatus.UNTRANSLATED, index=True)
    engine: Mapped[str | None] = mapped_column(String(128))
    memory_score: Mapped[float | None] = mapped_column(Float)
    draft: Mapped[str | None] = mapped_column(Text)
    edited: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reviewer: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    history: Mapped[list[TranslationHistoryRow]] = relationship(
        cascade="all, delete-orphan", order_by="TranslationHistoryRow.id", lazy="selectin"
    )


class TranslationHistoryRow(Base):
    """Every change of a unit, with the text as it was then: approved text survives a changed source."""

    __tablename__ = "translation_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("translation_units.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24))
    text: Mapped[str | None] = mapped_column(Text)
    source_text: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[str | None] = mapped_column(String(32))  # the bulk action it was part of


class ReviewBatchRow(Base):
    """One bulk review action (approve or reject many units at once), which can be undone as a whole."""

    __tablename__ = "review_batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(128))
    units: Mapped[list[ReviewBatchUnitRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class ReviewBatchUnitRow(Base):
    """A unit of a batch with what the batch changed of it: enough to put it back."""

    __tablename__ = "review_batch_units"

    batch_id: Mapped[str] = mapped_column(ForeignKey("review_batches.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("translation_units.id", ondelete="CASCADE"), primary_key=True)
    status_before: Mapped[str] = mapped_column(String(24))
    reviewer_before: Mapped[str | None] = mapped_column(String(128))
    note_before: Mapped[str | None] = mapped_column(Text)
    memory_before: Mapped[str | None] = mapped_column(Text)  # the memory's text for the source before; None: none
    memory_origin_before: Mapped[str | None] = mapped_column(String(32))


class TranslationMemoryRow(Base):
    """An approved (or seeded, or imported) translation of one English text."""

    __tablename__ = "translation_memory"
    __table_args__ = (
        UniqueConstraint("source_language", "target_language", "source_key", name="uq_translation_memory_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_language: Mapped[str] = mapped_column(String(8))
    target_language: Mapped[str] = mapped_column(String(8))
    source_key: Mapped[str] = mapped_column(String(64))  # hash of the normalised source text
    source_text: Mapped[str] = mapped_column(Text)
    target_text: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class TranslationJobRow(Base):
    """A bulk translation run; an interrupted one is resumed by running the same command again."""

    __tablename__ = "translation_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ApiKeyRow(Base):
    """An API key of the HTTP service: only the SHA-256 digest of the key is stored, never the key."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the public part of the key
    name: Mapped[str] = mapped_column(String(128))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    # The translation languages the key may review; empty: all of them.
    languages: Mapped[list[str]] = mapped_column(default=list, server_default=text("'[]'"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewSessionRow(Base):
    """A signed-in session of the review UI. The cookie names it (signed); the row decides whether it still holds:
    logout and key revocation delete it, and past `expires_at` it is over. Only the SHA-256 digest of the
    session's random token is stored, so the table does not hold a usable session."""

    __tablename__ = "review_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class CatalogChangeRow(Base):
    """The ordered change feed: every writer of what serving processes hold (courses, the KCM, roles, learners'
    popularity, approved translations) adds a row in the same transaction as its change; `sequence` orders
    them. Serving processes apply the rows after their last applied sequence (api/recommending.py)."""

    __tablename__ = "catalog_changes"
    __table_args__ = (
        CheckConstraint("kind IN ('course', 'translation', 'catalog', 'learners')", name="ck_catalog_changes_kind"),
    )

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    course_id: Mapped[str | None] = mapped_column(String(128))  # None: not about one course
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))
