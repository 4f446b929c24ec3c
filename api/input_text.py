"""The input-text policy over HTTP (models.text_policy): a NUL character or a lone surrogate anywhere in a request's
path parameters, query string, form fields or JSON body is a 422 naming the field, before any route, dependency or
database query sees it. Bulk-ingest bodies are checked by the ingest readers, which name the line as well.

An app-wide dependency, so that every route (the API and the review UI's pages and forms) gets it."""

from __future__ import annotations

from fastapi import Request

from api.errors import FieldProblem, InvalidInput
from models.text_policy import dotted, printable, text_problem, unsafe_texts

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def safe_text(request: Request) -> None:
    problems: list[FieldProblem] = []

    def check(field: str, value: object) -> None:
        if isinstance(value, str) and (reason := text_problem(value)) is not None:
            problems.append(FieldProblem(field=field, reason=reason))

    for name, value in request.path_params.items():
        check(f"path.{name}", value)
    for key, value in request.query_params.multi_items():
        check("query", key)
        check(f"query.{printable(key)}", value)
    if getattr(request.scope.get("route"), "body_field", None) is not None:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media in FORM_TYPES:
            for key, value in (await request.form()).multi_items():
                check("body", key)
                check(f"body.{printable(key)}", value)
        else:
            try:
                body = await request.json()  # parsed already by FastAPI (the request keeps it)
            except Exception:  # not JSON: the route's own validation answers
                body = None
            problems += [FieldProblem(field=dotted(where), reason=why) for where, why in unsafe_texts(body, ("body",))]
    if problems:
        raise InvalidInput("; ".join(f"{p.field}: {p.reason}" for p in problems), problems)
