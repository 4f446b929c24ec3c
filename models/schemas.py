"""Validated domain records: the Karmayogi Competency Model, roles, courses and learners."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.languages import normalise_language

Level = Annotated[int, Field(ge=1, le=5, description="Proficiency level, 1 (Beginner) to 5 (Expert)")]
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^\S+$")]
NonEmptyText = Annotated[str, Field(min_length=1)]
# The widths of the columns that store them (models/tables.py): longer text, or a count past PostgreSQL INTEGER, is
# refused here as invalid input, alike on every database, instead of failing the write on PostgreSQL only.
ShortName = Annotated[str, Field(min_length=1, max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=256)]
OptionalName = Annotated[str, Field(max_length=256)]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]

LEVEL_NAMES: dict[int, str] = {1: "Beginner", 2: "Basic", 3: "Intermediate", 4: "Advanced", 5: "Expert"}


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)


class ProficiencyLevel(Record):
    level: Level
    name: ShortName
    description: str = ""


class CompetencyArea(Record):
    """Behavioural, Functional or Domain."""

    id: Identifier
    name: Name
    description: str = ""


class CompetencyTheme(Record):
    id: Identifier
    area_id: Identifier
    name: Name
    description: str = ""


class Competency(Record):
    """A KCM sub-theme: the unit that roles require and courses build."""

    id: Identifier = Field(description="The competency's id, e.g. FUN-02-01")
    theme_id: Identifier = Field(description="Its theme's id, e.g. FUN-02")
    area_id: Identifier = Field(description="Its area's id: BEH (behavioural), FUN (functional) or DOM (domain)")
    name: Name = Field(description="The competency's name (English)")
    description: str = Field(default="", description="What the competency is about (English)")
    levels: dict[Level, NonEmptyText] = Field(description="A descriptor for each of the five levels")

    @field_validator("levels")
    @classmethod
    def _all_five_levels(cls, levels: dict[int, str]) -> dict[int, str]:
        missing = sorted(set(LEVEL_NAMES) - set(levels))
        if missing:
            raise ValueError(f"descriptor missing for level(s) {', '.join(map(str, missing))}")
        return dict(sorted(levels.items()))


class CompetencyModel(Record):
    """The whole KCM as one document: levels, areas, themes and competencies (flattened)."""

    proficiency_levels: list[ProficiencyLevel]
    areas: list[CompetencyArea]
    themes: list[CompetencyTheme]
    competencies: list[Competency]


class RequiredCompetency(Record):
    competency_id: Identifier = Field(description="The required competency's id")
    level: Level
    importance: Annotated[int, Field(ge=1, le=3, description="1 useful, 2 important, 3 critical")] = 2


class Role(Record):
    """A designation in a department (FRAC): what it does and the competency levels it requires."""

    id: Identifier = Field(description="The role's id, e.g. ROLE-DOPT-SO")
    designation: Name = Field(description="The post, e.g. Section Officer")
    department: Name = Field(description="The department the post is in, by name")
    ministry: OptionalName | None = Field(default=None, description="The ministry, or the state's government")
    state: Annotated[str, Field(max_length=128)] | None = Field(
        default=None, description="The state of a state government's role; null: a central role"
    )
    responsibilities: list[str] = Field(default=[], description="What the post holder is responsible for (FRAC)")
    activities: list[str] = Field(default=[], description="What the post holder does (FRAC)")
    competencies: list[RequiredCompetency] = Field(default=[], description="The competency levels the role requires")

    @model_validator(mode="after")
    def _each_competency_once(self) -> Role:
        _reject_repeats([c.competency_id for c in self.competencies], "competencies")
        return self


class CourseCompetency(Record):
    competency_id: Identifier = Field(description="The id of a competency the course builds")
    level: Level | None = Field(default=None, description="None: the provider did not state a level")


SourceFormat = Literal["igot_v6", "igot_v5", "plain", "csv"]


CourseStatus = Literal["active", "retired"]
LevelSource = Literal["self", "assessed"]  # a learner's own statement, or an assessment


class Course(Record):
    identifier: Identifier = Field(description="The course's id (iGOT's do_…)")
    name: NonEmptyText = Field(description="The course's name, as written by its provider")
    description: str = Field(default="", description="The course's description, as written by its provider")
    keywords: list[str] = Field(default=[], description="The provider's keywords")
    languages: list[str] = Field(
        default=["en"], min_length=1, description="The languages the course is offered in (codes, e.g. hi)"
    )
    duration_seconds: Count | None = Field(default=None, description="The course's length in seconds; null: not stated")
    primary_category: Annotated[str, Field(max_length=64)] = Field(
        default="Course", description="iGOT's primaryCategory, e.g. Course, Program"
    )
    organisations: list[str] = Field(default=[], description="The course's providers, by full name")
    rating: Annotated[float, Field(ge=0, le=5)] | None = Field(
        default=None, description="The average rating, 0-5 (over HTTP rounded to 4 decimal places); null: unrated"
    )
    rating_count: Count = Field(default=0, description="How many learners rated the course")
    competencies: list[CourseCompetency] = Field(default=[], description="The competencies the course builds")
    source_format: SourceFormat = Field(
        default="plain", description="The shape it was ingested from: igot_v6, igot_v5, plain or csv"
    )
    status: CourseStatus = Field(
        default="active", description="`retired`: out of search and recommendations, its history and translations kept"
    )

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, languages: list[str]) -> list[str]:
        return list(dict.fromkeys(normalise_language(language) for language in languages))

    @model_validator(mode="after")
    def _each_competency_once(self) -> Course:
        _reject_repeats([c.competency_id for c in self.competencies], "competencies")
        return self


class AttestedCompetency(Record):
    competency_id: Identifier
    level: Level
    source: LevelSource = "self"


class Learner(Record):
    id: Identifier
    name: OptionalName | None = None
    roles: list[Identifier] = []
    department: OptionalName | None = None
    preferred_languages: list[str] = ["en"]
    enrolled: list[Identifier] = []
    completed: list[Identifier] = []
    competencies: list[AttestedCompetency] = []
    interests: list[str] = []

    @field_validator("preferred_languages")
    @classmethod
    def _known_languages(cls, languages: list[str]) -> list[str]:
        return list(dict.fromkeys(normalise_language(language) for language in languages))

    @model_validator(mode="after")
    def _consistent(self) -> Learner:
        both = sorted(set(self.enrolled) & set(self.completed))
        if both:
            raise ValueError(f"course(s) both enrolled and completed: {', '.join(both)}")
        _reject_repeats([c.competency_id for c in self.competencies], "competencies")
        return self


def _reject_repeats(ids: list[str], field: str) -> None:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{field} lists {', '.join(repeated)} more than once")


def content_hash(record: BaseModel) -> str:
    """What ingest compares to tell a changed record from an unchanged one."""
    # An active course hashes without its status, as every course did before retirement existed: the hashes
    # (and so the catalog fingerprint and the stored index) of existing catalogs stay valid.
    unchanged = {"status"} if isinstance(record, Course) and record.status == "active" else None
    return hashlib.sha256(record.model_dump_json(exclude=unchanged).encode("utf-8")).hexdigest()
