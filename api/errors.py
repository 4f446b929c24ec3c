"""Every error the service returns is `application/problem+json` (RFC 9457), mapped here and only here.

Domain errors (unknown ids, rejected files, unknown languages) keep their own types in the domain packages;
`install_error_handlers` turns each into a status and a problem document naming the offending field.
A domain error means bad input only when it is an `InvalidInputError` (a 422); any other exception is a bug:
it is logged with its traceback under a fresh error id, and the 500 names that id and nothing internal (no
stack trace, SQL or file path), so that an operator can find the log line a user quotes.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import log_policy
from api.json_response import JsonResponse
from models import (
    IngestRejectedError,
    InvalidInputError,
    NotFoundError,
    SchemaNotReadyError,
    UnknownLanguageError,
    database_unavailable,
    error_line,
)
from translation import ApprovalBlockedError, IllegalTransitionError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("karmayogi.api")


class FieldProblem(BaseModel):
    field: str = Field(description="Where: `query.k`, `body.competencies.0.level`, `path.id`, or a field of a line")
    reason: str = Field(description="What is wrong with it, in English")
    line: int | None = Field(default=None, description="Line of the request body (bulk ingest)")
    record_id: str | None = Field(default=None, description="The id of the record on that line, when it has one")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="A URN naming the kind of problem, e.g. urn:karmayogi:problem:not-found")
    title: str = Field(description="A short, fixed summary of the kind of problem")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="What went wrong with this request, in English")
    instance: str | None = Field(default=None, description="The request path")
    errors: list[FieldProblem] = Field(default_factory=list, description="One entry per offending field")
    error_id: str | None = Field(
        default=None, description="On a 500 only: the id under which the service logged the failure"
    )


class ApiError(Exception):
    """An error raised by the HTTP layer itself (authentication, limits)."""

    status = 400
    slug = "bad-request"
    title = "Bad request"
    headers: dict[str, str] = {}

    def __init__(self, detail: str, errors: Sequence[FieldProblem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)


class InvalidInput(ApiError):
    status = 422
    slug = "validation"
    title = "Invalid request"


class Unauthorized(ApiError):
    status = 401
    slug = "unauthorized"
    title = "Missing or invalid API key"
    headers = {"WWW-Authenticate": 'Bearer realm="karmayogi"'}


class Forbidden(ApiError):
    status = 403
    slug = "forbidden"
    title = "The API key lacks the required scope"


class NotFound(ApiError):
    """An unknown id given in a body or query (a NotFoundError names path ids)."""

    status = 404
    slug = "not-found"
    title = "Not found"


class PayloadTooLarge(ApiError):
    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(ApiError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class Conflict(ApiError):
    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class NotReady(ApiError):
    status = 503
    slug = "not-ready"
    title = "Service not ready"


def problem_response(
    request: Request | None,
    status: int,
    slug: str,
    title: str,
    *,
    detail: str,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
    error_id: str | None = None,
) -> JSONResponse:
    problem = Problem(
        type=f"urn:karmayogi:problem:{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        errors=list(errors),
        error_id=error_id,
    )
    return JsonResponse(
        problem.model_dump(mode="json", exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


# Domain errors of the packages below `api`, registered by type; the other packages' typed errors join here.
DomainHandler = Callable[[Request, Exception], JSONResponse]


def _not_found(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NotFoundError)
    field = f"path.{_path_param(request, error.identifier)}"
    return problem_response(
        request, 404, "not-found", "Not found", detail=str(error), errors=[FieldProblem(field=field, reason=str(error))]
    )


def _ingest_rejected(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, IngestRejectedError)
    errors = [FieldProblem(field=p.field, reason=p.reason, line=p.line, record_id=p.record_id) for p in error.problems]
    detail = f"{len(errors)} problem(s) in the request body; nothing was written"
    return problem_response(request, 422, "ingest-rejected", "Invalid records", detail=detail, errors=errors)


def _unknown_language(request: Request, error: Exception) -> JSONResponse:
    return problem_response(request, 422, "unknown-language", "Unknown language", detail=str(error))


def _illegal_transition(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, IllegalTransitionError)
    problem = FieldProblem(field="path.unit_id", reason=str(error))
    return problem_response(
        request, 409, "illegal-transition", "Not allowed in the unit's status", detail=str(error), errors=[problem]
    )


def _approval_blocked(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApprovalBlockedError)
    problems = [FieldProblem(field="body.override_reason", reason=f"error flag {flag}") for flag in error.flags]
    return problem_response(
        request, 409, "approval-blocked", "Error flags block approval", detail=str(error), errors=problems
    )


def _invalid_input(request: Request, error: Exception) -> JSONResponse:
    # The domain packages raise InvalidInputError for input they cannot use (as the CLI treats it: exit code 2).
    return problem_response(request, 422, "invalid-input", "Invalid input", detail=str(error))


# How long a client is told to wait before retrying when the database is unavailable (a lock held, a restart).
RETRY_AFTER_SECONDS = 2


def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    """The database cannot be used now (locked by another writer, unreachable, silent, timed out): a 503 the client
    may retry, and one log line, not a traceback (the cause is outside the service)."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, error_line(error))
    return problem_response(
        request,
        503,
        "database-unavailable",
        "Database unavailable",
        detail="the database cannot be used right now (busy with another writer, unreachable or too slow to "
        f"answer); the request did not complete: retry in {RETRY_AFTER_SECONDS} s",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _schema_not_ready(request: Request, error: Exception) -> JSONResponse:
    log.error("database not ready: %s", error)
    return problem_response(request, 503, "not-ready", "Service not ready", detail="the database is not migrated")


DOMAIN_ERRORS: dict[type[Exception], DomainHandler] = {
    NotFoundError: _not_found,
    IngestRejectedError: _ingest_rejected,
    UnknownLanguageError: _unknown_language,
    SchemaNotReadyError: _schema_not_ready,
    IllegalTransitionError: _illegal_transition,
    ApprovalBlockedError: _approval_blocked,
    InvalidInputError: _invalid_input,
}


# Pages answer their errors as pages: a module of pages (the review UI) registers a renderer for its path prefix,
# which receives the problem document that an API client would get and returns the HTML response.
PageRenderer = Callable[[Request, dict[str, Any], dict[str, str]], Response]
_PAGE_RENDERERS: dict[str, PageRenderer] = {}


def render_errors_as_pages(prefix: str, renderer: PageRenderer) -> None:
    """Errors under `prefix` (the path itself and below it) are rendered by `renderer` instead of problem+json."""
    _PAGE_RENDERERS[prefix.rstrip("/")] = renderer


def _as_page(request: Request, response: Response) -> Response:
    path = request.url.path
    renderer = next(
        (r for prefix, r in _PAGE_RENDERERS.items() if path == prefix or path.startswith(prefix + "/")), None
    )
    if renderer is None or response.media_type != PROBLEM_JSON:
        return response
    kept = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return renderer(request, json.loads(bytes(response.body)), kept)


def _paged(handler: Callable[[Request, Exception], Any]) -> Callable[[Request, Exception], Any]:
    async def run(request: Request, error: Exception) -> Response:
        return _as_page(request, await handler(request, error))

    return run


def _field_problem(item: dict[str, Any], body: Any) -> FieldProblem:
    """One validation error as a field problem; a body that is not JSON is named `body`, with its line and column."""
    if item.get("type") == "json_invalid":
        position = item["loc"][-1] if isinstance(item["loc"][-1], int) else 0
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        message = (item.get("ctx") or {}).get("error") or item["msg"]
        return FieldProblem(field="body", reason=f"malformed JSON: {message} at line {line}, column {column}")
    if item.get("type") == "extra_forbidden":
        return FieldProblem(field=_location(item["loc"]), reason="unknown field: this body does not take it")
    return FieldProblem(field=_location(item["loc"]), reason=item["msg"])


def install_error_handlers(app: FastAPI) -> None:
    log_policy.install("uvicorn", "uvicorn.error", "uvicorn.access")

    async def api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return problem_response(
            request,
            error.status,
            error.slug,
            error.title,
            detail=error.detail,
            errors=error.errors,
            headers=error.headers or None,
        )

    async def validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [_field_problem(item, error.body) for item in error.errors()]
        detail = "; ".join(f"{e.field}: {e.reason}" for e in errors) or "invalid request"
        return problem_response(request, 422, "validation", "Invalid request", detail=detail, errors=errors)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        title = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}.get(error.status_code, "HTTP error")
        slug = title.lower().replace(" ", "-")
        return problem_response(
            request, error.status_code, slug, title, detail=str(error.detail), headers=error.headers
        )

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        error_id = uuid.uuid4().hex[:12]
        log.error("error %s: unhandled on %s %s", error_id, request.method, request.url.path, exc_info=error)
        detail = f"the request failed because of a fault in the service, logged as error {error_id}"
        return problem_response(request, 500, "internal", "Internal error", detail=detail, error_id=error_id)

    async def database_error(request: Request, error: Exception) -> JSONResponse:
        # Registered for the database's errors so that a 503 is answered here, not by the last-resort handler
        # (which re-raises for the server to log a traceback); any other database error is a bug all the same.
        if database_unavailable(error):
            return _database_unavailable(request, error)
        return await unexpected(request, error)

    app.add_exception_handler(ApiError, _paged(api_error))
    app.add_exception_handler(RequestValidationError, _paged(validation_error))
    app.add_exception_handler(StarletteHTTPException, _paged(http_error))
    for error_type, handler in DOMAIN_ERRORS.items():
        app.add_exception_handler(error_type, _paged(_async(handler)))
    for error_type in (DBAPIError, SQLAlchemyTimeoutError):
        app.add_exception_handler(error_type, _paged(database_error))
    app.add_exception_handler(Exception, _paged(unexpected))


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem+json errors for a route."""
    descriptions = {
        400: "Malformed request: the body cannot be parsed",
        401: "No API key, or an unknown or revoked one",
        403: "The API key lacks the scope this route requires",
        404: "Unknown id",
        409: "Conflict with the current state",
        413: "Request body too large",
        415: "Unsupported Content-Type",
        422: "Invalid request; `errors` names each offending field",
        503: "Service not ready, or the database unavailable for now (`Retry-After` says when to retry)",
    }
    return {
        status: {"description": descriptions[status], "model": Problem, "content": {PROBLEM_JSON: {}}}
        for status in statuses
    }


def move_problem_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI files every response model under application/json; errors are sent as problem+json."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if PROBLEM_JSON in content and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return document


def _async(handler: DomainHandler) -> Callable[[Request, Exception], Any]:
    async def run(request: Request, error: Exception) -> JSONResponse:
        return handler(request, error)

    return run


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _path_param(request: Request, value: str) -> str:
    for name, param in request.path_params.items():
        if param == value:
            return name
    return "id"
