"""Liveness, readiness and Prometheus metrics (no API key: they are for the orchestrator and Prometheus)."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field
from sqlalchemy import text

from api.deps import ServicesDep
from api.errors import problem_responses
from models import SchemaNotReadyError, check_schema

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(description="`ok` while the process answers")


class CatalogState(BaseModel):
    """How current this worker's recommender and index are."""

    applied_sequence: int = Field(description="The last change of the catalog's change feed this worker serves")
    catalog_sequence: int = Field(description="The last change in the feed, as this worker last read it")
    behind_seconds: float = Field(
        description="Age of the oldest change not served yet, in seconds; 0 when caught up; rounded to 3 decimal places"
    )
    courses: int = Field(description="Courses in the served state")
    worker: int = Field(description="The worker's process id (several workers answer on one port)")


class Readiness(BaseModel):
    ready: bool = Field(description="True while a consistent state is served and the database answers")
    checks: dict[str, str] = Field(description="`ok`, or what is wrong, by component (database, index)")
    catalog: CatalogState = Field(description="How current the served catalog state is")


@router.get("/healthz", summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Ready to serve: database reachable and migrated, a consistent catalog state loaded",
    description=(
        "200 while a consistent state of the catalog is served, also while newer changes are being applied "
        "(`catalog.behind_seconds` says how far behind); 503 only when nothing is loaded yet or the database "
        "is unreachable."
    ),
    response_model=Readiness,
    responses={503: {"description": "Not ready; `checks` says what failed", "model": Readiness}},
)
def readyz(services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        check_schema(services.engine)
        checks["database"] = "ok"
    except SchemaNotReadyError as error:
        checks["database"] = str(error)
    except Exception as error:
        checks["database"] = f"unreachable ({type(error).__name__})"
    freshness = services.catalog.freshness()
    if freshness.loaded:
        checks["index"] = "ok"
    else:
        checks["index"] = freshness.problem or "loading"
    ready = all(value == "ok" for value in checks.values())
    catalog = CatalogState(
        applied_sequence=freshness.applied_sequence,
        catalog_sequence=freshness.catalog_sequence,
        behind_seconds=round(freshness.behind_seconds, 3),
        courses=freshness.courses,
        worker=os.getpid(),
    )
    body = Readiness(ready=ready, checks=checks, catalog=catalog)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}, **problem_responses()},
)
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
