"""SQLAlchemy tables. Every table of the project lives here so that one Alembic history covers them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


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
    source_format: Mapped[str] = mapped_column(String(16), default="plain")
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
    source: Mapped[str] = mapped_column(String(16), default="self")
