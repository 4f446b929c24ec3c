"""The catalog insights as the API documents them (recommender.insights computes them as dataclasses and arrays):
coverage per competency and language, translation priorities, role readiness. Pairs become labelled objects."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.explanations import COMPETENCY_ID
from api.json_response import PRECISION
from recommender.insights import CoverageMatrix, RoleReadiness, TranslationPriorities

COMPETENCY_NAME = "The competency's name in the KCM (English)"


class CoverageCell(BaseModel):
    courses: int = Field(
        description="Courses tagged with the competency and available in the language (natively or through an "
        "approved translation)"
    )
    via_translation: int = Field(description="Of those, courses available in it only through an approved translation")
    at_required_level: int = Field(description="Of those, courses that build the competency up to its required level")
    by_level: dict[str, int] = Field(
        description="Of those, courses by the level they are tagged at: `1` to `5`, and `unstated`"
    )


class CoverageRow(BaseModel):
    competency_id: str = Field(description=COMPETENCY_ID)
    name: str = Field(description=COMPETENCY_NAME)
    area_id: str = Field(description="The competency's area: BEH, FUN or DOM")
    required_level: int = Field(description="The highest level any role requires, 1-5")
    roles: int = Field(description="How many roles require the competency")
    languages: dict[str, CoverageCell] = Field(description="The coverage in each language column, by language code")


class CoverageOut(BaseModel):
    languages: list[str] = Field(description="The language columns")
    competencies: list[CoverageRow] = Field(description="One row per competency that some role requires")

    @classmethod
    def of(cls, matrix: CoverageMatrix) -> CoverageOut:
        return cls.model_validate({"languages": matrix.languages, "competencies": matrix.as_records()})


class CompetencyLearners(BaseModel):
    competency_id: str = Field(description=COMPETENCY_ID)
    learners: int = Field(description="Learners with a gap in the competency that the count stands for")


class PriorityCourseOut(BaseModel):
    course_id: str = Field(description="The course's id")
    name: str = Field(description="The course's name as stored")
    languages: list[str] = Field(description="The languages it is available in now")
    learners: int = Field(
        description="Learners it serves beyond the courses ranked above it (gaps that nothing in the language builds "
        "yet)"
    )
    gaps: int = Field(description="The (learner, gap) pairs behind `learners`")
    competencies: list[CompetencyLearners] = Field(description="The competencies behind the count, most learners first")
    learners_alone: int = Field(description="Learners it would serve if it were the only course translated")


class PrioritiesOut(BaseModel):
    language: str = Field(description="The language to translate into")
    learners: int = Field(description="Learners whose first preferred language it is")
    learners_unserved: int = Field(description="Of those, learners with a gap that no course in the language builds")
    courses: list[PriorityCourseOut] = Field(description="The courses to translate, first first")
    missing_everywhere: list[CompetencyLearners] = Field(
        description="Competencies with unserved gaps that no course in any language builds: new content is needed"
    )

    @classmethod
    def of(cls, priorities: TranslationPriorities) -> PrioritiesOut:
        def labelled(pairs: tuple[tuple[str, int], ...]) -> list[CompetencyLearners]:
            return [CompetencyLearners(competency_id=competency_id, learners=count) for competency_id, count in pairs]

        return cls(
            language=priorities.language,
            learners=priorities.learners,
            learners_unserved=priorities.learners_unserved,
            courses=[
                PriorityCourseOut(
                    course_id=course.course_id,
                    name=course.name,
                    languages=list(course.languages),
                    learners=course.learners,
                    gaps=course.gaps,
                    competencies=labelled(course.competencies),
                    learners_alone=course.learners_alone,
                )
                for course in priorities.courses
            ],
            missing_everywhere=labelled(priorities.missing_everywhere),
        )


class RequirementOut(BaseModel):
    competency_id: str = Field(description=COMPETENCY_ID)
    name: str = Field(description=COMPETENCY_NAME)
    required_level: int = Field(description="The level the role requires, 1-5")
    importance: int = Field(description="1 useful, 2 important, 3 critical")
    closable_levels: list[int] = Field(description="The levels 1 to `required_level` that some available course builds")


class RoleReadinessOut(BaseModel):
    role_id: str = Field(description="The role's id")
    designation: str = Field(description="The post")
    department: str = Field(description="The post's department, by name")
    levels_required: int = Field(
        description="Competency-levels the role requires: a competency required at level 3 counts levels 1, 2 and 3"
    )
    levels_closable: int = Field(description="Of those, levels that some available course builds")
    share: float = Field(description=f"levels_closable / levels_required (1 when nothing is required); {PRECISION}")
    requirements: list[RequirementOut] = Field(description="Each required competency")

    @classmethod
    def of(cls, readiness: RoleReadiness) -> RoleReadinessOut:
        return cls(
            role_id=readiness.role_id,
            designation=readiness.designation,
            department=readiness.department,
            levels_required=readiness.levels_required,
            levels_closable=readiness.levels_closable,
            share=readiness.share,
            requirements=[
                RequirementOut(
                    competency_id=r.competency_id,
                    name=r.name,
                    required_level=r.required_level,
                    importance=r.importance,
                    closable_levels=list(r.closable_levels),
                )
                for r in readiness.requirements
            ],
        )
