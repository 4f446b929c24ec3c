"""Liveness, readiness and Prometheus metrics (no API key: they are for the orchestrator and Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import ServicesDep
from api.errors import problem_responses
from models import SchemaNotReadyError, check_schema

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]


@router.get("/healthz", summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Ready to serve: database reachable and migrated, index loaded and matching the catalog",
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
    checks.update(services.readiness())
    ready = all(value == "ok" for value in checks.values())
    body = Readiness(ready=ready, checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}, **problem_responses()},
)
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
