"""The FastAPI application: `create_app()` builds it; uvicorn runs `api.app:create_app --factory`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from api import docs, fonts, native_threads
from api.errors import install_error_handlers, move_problem_schemas
from api.input_text import safe_text
from api.json_response import PRECISION, JsonResponse
from api.limits import RequestGate
from api.metrics import Metrics, MetricsMiddleware
from api.routers import catalog, health, insights, keys, recommendations, review, review_bulk, search, translation
from api.services import Services, load_services
from api.settings import Settings
from api.strict import single_valued_query
from api.worker_header import WorkerHeader

STATIC = Path(__file__).with_name("static")

DESCRIPTION = f"""
Course recommendations, semantic search, the catalog and translation review for iGOT Karmayogi.

Every `/v1` route needs an API key (`Authorization: Bearer kyk_…` or `X-API-Key`) with the route's scope:
`recommend:read` (the portal), `catalog:write` and `translate:review` (content teams), `admin` (everything).
Errors are `application/problem+json` (RFC 9457); `errors` names each offending field.
Responses are UTF-8 JSON, non-ASCII text as is; every number with a fraction (scores, similarities) is
{PRECISION}.
"""


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. Tests pass ready `services`; otherwise they are loaded once at start-up."""
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        if owned:
            native_threads.for_serving()  # before the models load: api/native_threads.py
        app.state.services = services or load_services(settings)
        app.state.services.watch(app.state.metrics)
        app.state.services.catalog.start()  # load in the background, then follow the change feed
        try:
            yield
        finally:
            app.state.services.catalog.close()
            if owned:
                app.state.services.close()

    app = FastAPI(
        title="karmayogi-ai",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc from local assets: api/docs.py
        redoc_url=None,
        dependencies=[Depends(single_valued_query), Depends(safe_text)],
        # No redirect from `/path/` to `/path`: Starlette builds its Location from the Host header, which a client
        # chooses; an unknown path is a 404 instead.
        redirect_slashes=False,
        default_response_class=JsonResponse,  # UTF-8 as is, floats rounded: api/json_response.py
    )
    app.state.metrics = Metrics()
    if services is not None:
        # Usable without running the lifespan (e.g. a plain TestClient).
        app.state.services = services
    install_error_handlers(app)
    _document_problems(app)
    app.include_router(health.router)
    app.include_router(catalog.router)
    app.include_router(catalog.writes)
    app.include_router(recommendations.router)
    app.include_router(search.router)
    app.include_router(keys.router)
    app.include_router(translation.router)
    app.include_router(review.router)
    app.include_router(review_bulk.router)
    app.include_router(insights.router)
    app.include_router(insights.ui)
    app.include_router(docs.docs_router(app))
    app.include_router(fonts.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    limits = settings.service
    app.add_middleware(
        RequestGate,  # authenticate, then read the body under a deadline, then take an in-flight slot
        max_in_flight=limits.max_in_flight,
        max_body_bytes=limits.max_body_bytes,
        large_bodies={"/v1/courses/bulk": limits.max_ingest_bytes},
        body_timeout_seconds=limits.body_timeout_seconds,
        body_min_bytes_per_second=limits.body_min_bytes_per_second,
    )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(WorkerHeader)
    return app


def _document_problems(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = move_problem_schemas(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema
