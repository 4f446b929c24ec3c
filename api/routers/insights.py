"""Catalog insights for content teams (`translate:review`): coverage matrix and heatmap, translation priorities,
role readiness, as JSON under /v1/insights and as a page of the review UI (/review/insights)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import SessionDep, require
from api.errors import problem_responses
from api.insight_schemas import CoverageOut, PrioritiesOut, RoleReadinessOut
from api.ui import SECURITY_HEADERS, ReviewerDep, page, to_login
from api.vocab import LIST_OF_LANGUAGES, LanguageCode, LanguageCodes
from models import iter_learners
from recommender.inputs import load_inputs
from recommender.insights import CoverageMatrix, coverage_matrix, role_readiness, translation_priorities
from translation import list_units

router = APIRouter(
    prefix="/v1/insights",
    tags=["insights"],
    dependencies=[Depends(require("translate:review"))],
    responses=problem_responses(400, 401, 403, 422),
)
ui = APIRouter(prefix="/review/insights", include_in_schema=False)

Languages = Annotated[
    LanguageCodes | None,
    Query(description=f"Language columns; default: the portal's languages. {LIST_OF_LANGUAGES}"),
]
Target = Annotated[LanguageCode, Query(description="The language to translate into")]
Limit = Annotated[int, Query(ge=1, le=500, description="How many courses")]


def _matrix(session: Session, lang: list[LanguageCode] | None) -> CoverageMatrix:
    return coverage_matrix(load_inputs(session), [code.value for code in lang] if lang else None)


def _png(matrix: CoverageMatrix) -> bytes:
    from recommender.insights_plot import coverage_heatmap

    with tempfile.TemporaryDirectory() as folder:
        return coverage_heatmap(matrix, Path(folder) / "coverage.png").read_bytes()


@router.get("/coverage", summary="Courses per required competency and language (direct or approved translation)")
def coverage(session: SessionDep, lang: Languages = None) -> CoverageOut:
    return CoverageOut.of(_matrix(session, lang))


@router.get(
    "/coverage.png",
    summary="The coverage matrix as a heatmap",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def coverage_png(session: SessionDep, lang: Languages = None) -> Response:
    return Response(_png(_matrix(session, lang)), media_type="image/png")


@router.get("/translate-priorities", summary="Courses to translate first, with the learner counts behind each")
def priorities(session: SessionDep, lang: Target, limit: Limit = 20) -> PrioritiesOut:
    inputs = load_inputs(session)
    return PrioritiesOut.of(translation_priorities(inputs, iter_learners(session), lang.value, limit=limit))


@router.get("/readiness", summary="Per role, the share of required competency-levels the catalog can build")
def readiness(
    session: SessionDep,
    lang: Annotated[LanguageCode | None, Query(description="Count only courses available in it")] = None,
) -> list[RoleReadinessOut]:
    return [RoleReadinessOut.of(r) for r in role_readiness(load_inputs(session), lang.value if lang else None)]


# --- the review UI page ---------------------------------------------------------------------------------


@ui.get("", response_class=HTMLResponse)
def insights_page(
    request: Request,
    session: SessionDep,
    reviewer: ReviewerDep,
    lang: Annotated[LanguageCode, Query()] = LanguageCode("hi"),
    *,
    limit: Annotated[int, Query(ge=1, le=100)] = 15,
) -> Response:
    if reviewer is None:
        return to_login()
    inputs = load_inputs(session)
    result = translation_priorities(inputs, iter_learners(session), lang.value, limit=limit)
    names = {c.id: c.name for c in inputs.competencies.values()}
    context = {
        "reviewer": reviewer,
        "lang": lang.value,
        "priorities": result,
        "competency_names": names,
        "readiness": role_readiness(inputs, lang.value)[:15],
        # Each course's units awaiting review in this language, linked from its row.
        "units": {c.course_id: list_units(session, lang.value, course_id=c.course_id) for c in result.courses},
    }
    return page(request, "insights.html", context)


@ui.get("/coverage.png")
def insights_heatmap(session: SessionDep, reviewer: ReviewerDep) -> Response:
    if reviewer is None:
        return to_login()
    return Response(_png(_matrix(session, None)), media_type="image/png", headers=SECURITY_HEADERS)
