"""Strict query strings: a parameter the document declares as one value may not be given several times.

FastAPI would silently take the last of `?theme=a&theme=b`; the API answers 422 naming the parameter instead.
Which parameters are lists is read from the OpenAPI document, the same contract clients see.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

from fastapi import FastAPI, Request

from api.errors import FieldProblem, InvalidInput


async def single_valued_query(request: Request) -> None:
    # `async def`: it runs for every request and does no I/O; as a `def` it cost every request a thread trip.
    repeated = [
        key for key, count in Counter(key for key, _ in request.query_params.multi_items()).items() if count > 1
    ]
    if not repeated:
        return
    route = request.scope.get("route")
    lists = _list_parameters(request.app).get((getattr(route, "path", ""), request.method), frozenset())
    wrong = [key for key in repeated if key not in lists]
    if wrong:
        problems = [
            FieldProblem(field=f"query.{key}", reason="given more than once; expected one value") for key in wrong
        ]
        raise InvalidInput("; ".join(f"{p.field}: {p.reason}" for p in problems), problems)


@cache
def _list_parameters(app: FastAPI) -> dict[tuple[str, str], frozenset[str]]:
    found: dict[tuple[str, str], frozenset[str]] = {}
    for path, operations in app.openapi().get("paths", {}).items():
        for method, operation in operations.items():
            names = {
                parameter["name"]
                for parameter in operation.get("parameters", [])
                if parameter.get("in") == "query" and _is_array(parameter.get("schema", {}))
            }
            found[(path, method.upper())] = frozenset(names)
    return found


def _is_array(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "array" or any(_is_array(option) for option in schema.get("anyOf", []))
