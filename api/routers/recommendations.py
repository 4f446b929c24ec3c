"""Recommendations for the portal (`recommend:read`): ranked courses with reasons, gaps and learning paths."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep, SessionDep, reads_done, require
from api.errors import FieldProblem, InvalidInput, problem_responses
from api.explanations import (
    COMPETENCY_ID,
    ExplanationOut,
    GapAnalysisOut,
    GapOut,
    analysis_out,
    explanation_out,
    gap_out,
)
from api.json_response import PRECISION
from api.localize import DISPLAY_DESCRIPTION, displays, reasons
from api.schemas import RequestBody
from api.services import Services
from api.vocab import JsonInt, LanguageCode
from models import Learner, NotFoundError, get_learner
from models.display import CourseDisplay
from recommender import (
    ProfileError,
    Recommendations,
    Recommender,
    inline_learner,
    learning_path,
)

router = APIRouter(
    prefix="/v1",
    tags=["recommendations"],
    dependencies=[Depends(require("recommend:read"))],
    responses=problem_responses(400, 401, 403, 422, 503),
)

LearnerId = Annotated[str, Path(min_length=1, max_length=128, description="The learner's id, e.g. L000001")]
K = Annotated[int, Query(ge=1, le=100, description="How many courses")]
Lang = Annotated[
    LanguageCode | None,
    Query(description="The language the learner reads now: ranked first among their preferred languages"),
]
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^\S+$")]


COURSE_ID = "The course's id"
LEARNER_ID = "The learner's id; `inline-profile` for a profile posted to /v1/recommendations"
NAME = "The course's name as stored (`display` has it in the reader's language)"
DURATION = "The course's length in seconds; null: not stated"
NOTES = "Remarks on the result, in English: no role on record, levels taken as 0, every level met"


class RecommendationOut(BaseModel):
    course_id: str = Field(description=COURSE_ID)
    name: str = Field(description=NAME)
    score: float = Field(description=f"The ranking score, higher first; comparable within one response; {PRECISION}")
    duration_seconds: int | None = Field(description=DURATION)
    languages: list[str] = Field(description="The languages the course is offered in")
    display: CourseDisplay = Field(description=DISPLAY_DESCRIPTION)
    reason: str = Field(
        description="Why, in one line: the gaps it closes, the language, the rating; written in the first of the "
        "reader's languages that has a message catalog (English, Hindi), else in English"
    )
    explanation: ExplanationOut = Field(description="The evidence behind the reason, per gap")


class RecommendationsOut(BaseModel):
    learner_id: str = Field(description=LEARNER_ID)
    mode: Literal["gaps", "role-free"] = Field(description="role-free: no role, so popularity, ratings, interests")
    items: list[RecommendationOut] = Field(description="The courses, best first")
    gaps: list[GapOut] = Field(description="The learner's gaps, highest priority first")
    reason: str | None = Field(description="Why the list is empty or short")
    notes: list[str] = Field(description=NOTES)


class ClosedLevel(BaseModel):
    """A level of a competency that a step of the path reaches."""

    competency_id: str = Field(description=COMPETENCY_ID)
    competency: str = Field(description="The competency's name in the KCM (English)")
    level: int = Field(description="The level reached by the course, 1-5")


class UncoveredLevel(BaseModel):
    """A level step of a gap that no available course builds."""

    competency_id: str = Field(description=COMPETENCY_ID)
    level: int = Field(description="The level no available course builds, 1-5")


class PathStepOut(BaseModel):
    stage: int = Field(description="1: every gap's first level up, 2: the second, ...")
    course_id: str = Field(description=COURSE_ID)
    name: str = Field(description=NAME)
    duration_seconds: int | None = Field(description=DURATION)
    closes: list[ClosedLevel] = Field(description="The competency levels this course reaches")
    display: CourseDisplay = Field(description=DISPLAY_DESCRIPTION)


class LearningPathOut(BaseModel):
    learner_id: str = Field(description=LEARNER_ID)
    steps: list[PathStepOut] = Field(description="The courses in the order to take them")
    total_duration_seconds: int = Field(description="The steps' durations added up (those that state one)")
    unknown_durations: int = Field(description="Steps whose course states no duration (not in the total)")
    uncovered: list[UncoveredLevel] = Field(description="Competency levels that no available course builds")
    notes: list[str] = Field(description=NOTES)


class Profile(RequestBody):
    """A learner who is not in the database."""

    roles: list[Identifier] = Field(min_length=1, max_length=10, description="Role ids, e.g. ROLE-DOPT-SO")
    levels: dict[Identifier, Annotated[JsonInt, Field(ge=1, le=5)]] = Field(
        default_factory=dict, max_length=500, description="Competency id -> level the learner holds"
    )
    preferred_languages: list[LanguageCode] = Field(
        default=[LanguageCode("en")],
        min_length=1,
        max_length=23,
        description="The languages the learner reads, best first: courses in them rank higher, and `display` and "
        "`reason` follow them",
    )
    completed: list[Identifier] = Field(default_factory=list, max_length=1000, description="Completed course ids")
    k: Annotated[JsonInt, Field(ge=1, le=100)] = Field(default=10, description="How many courses")


@router.get(
    "/learners/{learner_id}/recommendations",
    summary="Courses for a learner, ranked, each with its reason",
    responses=problem_responses(404),
)
async def learner_recommendations(
    session: SessionDep, services: ServicesDep, learner_id: LearnerId, k: K = 10, *, lang: Lang = None
) -> RecommendationsOut:
    # `async def`, its work in one worker thread: one trip to the thread pool instead of two (api/deps.py).
    return await run_in_threadpool(_learner_recommendations, session, services, learner_id, k=k, lang=lang)


def _learner_recommendations(
    session: Session, services: Services, learner_id: str, *, k: int, lang: LanguageCode | None
) -> RecommendationsOut:
    learner = _reading(get_learner(session, learner_id), lang)
    recommender = services.catalog.recommender()
    out = _out(session, services, recommender, learner, result=recommender.recommend(learner, k))
    reads_done(session)
    return out


@router.post("/recommendations", summary="Courses for an inline profile (roles and levels), each with its reason")
async def profile_recommendations(session: SessionDep, services: ServicesDep, profile: Profile) -> RecommendationsOut:
    return await run_in_threadpool(_profile_recommendations, session, services, profile)  # as above


def _profile_recommendations(session: Session, services: Services, profile: Profile) -> RecommendationsOut:
    recommender = services.catalog.recommender()
    try:
        learner = inline_learner(
            profile.roles,
            profile.levels,
            recommender.inputs.competencies,
            preferred_languages=[language.value for language in profile.preferred_languages],
            completed=profile.completed,
        )
        result = recommender.recommend(learner, profile.k)
    except ProfileError as error:
        field, _, reason = str(error).partition(": ")
        raise InvalidInput(str(error), [FieldProblem(field=f"body.{field}", reason=reason)]) from None
    except NotFoundError as error:
        field = {"role": "roles", "course": "completed"}.get(error.kind, error.kind)
        raise InvalidInput(str(error), [FieldProblem(field=f"body.{field}", reason=str(error))]) from None
    out = _out(session, services, recommender, learner, result=result)
    reads_done(session)
    return out


@router.get(
    "/learners/{learner_id}/gaps",
    summary="A learner's competency gaps against their roles, highest priority first",
    responses=problem_responses(404),
)
def learner_gaps(session: SessionDep, services: ServicesDep, learner_id: LearnerId) -> GapAnalysisOut:
    return analysis_out(services.catalog.recommender().analyse(get_learner(session, learner_id)))


@router.get(
    "/learners/{learner_id}/path",
    summary="An ordered plan of courses that closes the gaps level by level, with its total duration",
    responses=problem_responses(404),
)
def learner_path(
    session: SessionDep, services: ServicesDep, learner_id: LearnerId, lang: Lang = None
) -> LearningPathOut:
    recommender = services.catalog.recommender()
    learner = _reading(get_learner(session, learner_id), lang)
    plan = learning_path(recommender, learner)
    courses = recommender.courses_by_id_
    shown = displays(session, (courses[step.course_id] for step in plan.steps), learner.preferred_languages)
    return LearningPathOut(
        learner_id=plan.learner_id,
        steps=[
            PathStepOut(
                stage=step.stage,
                course_id=step.course_id,
                name=step.name,
                duration_seconds=step.duration_seconds,
                closes=[
                    ClosedLevel(competency_id=competency_id, competency=name, level=level)
                    for competency_id, name, level in step.closes
                ],
                display=shown[step.course_id],
            )
            for step in plan.steps
        ],
        total_duration_seconds=plan.total_duration_seconds,
        unknown_durations=plan.unknown_durations,
        uncovered=[UncoveredLevel(competency_id=competency_id, level=level) for competency_id, level in plan.uncovered],
        notes=list(plan.notes),
    )


def _reading(learner: Learner, lang: LanguageCode | None) -> Learner:
    if lang is None:
        return learner
    languages = [lang.value, *(code for code in learner.preferred_languages if code != lang.value)]
    return learner.model_copy(update={"preferred_languages": languages})


def _out(
    session: Session, services: Services, recommender: Recommender, learner: Learner, *, result: Recommendations
) -> RecommendationsOut:
    """The response, with each course's display and reason for the learner's languages (their order as asked)."""
    courses = recommender.courses_by_id_
    shown = displays(session, (courses[item.course_id] for item in result.items), learner.preferred_languages)
    reason = reasons(learner.preferred_languages, services.glossary)
    return RecommendationsOut(
        learner_id=result.learner_id,
        mode=result.mode,
        items=[
            RecommendationOut(
                course_id=item.course_id,
                name=item.name,
                score=item.score,
                duration_seconds=item.duration_seconds,
                languages=list(item.languages),
                display=shown[item.course_id],
                reason=reason(item.explanation),
                explanation=explanation_out(item.explanation),
            )
            for item in result.items
        ],
        gaps=[gap_out(gap) for gap in result.analysis.gaps],
        reason=result.reason,
        notes=list(result.notes),
    )
