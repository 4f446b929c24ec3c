"""Which of the app's routes a request is for, found before the router runs: the request gate (api/limits.py)
decides from it whether to authenticate and how large a body to accept, and the metrics label requests with its
template, so that no label value comes from the client."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import fastapi.routing
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


@dataclass(eq=False)
class MatchedRoute:
    template: str  # the path template, `/v1/courses/{identifier}`; a mount's prefix, `/static`
    route: BaseRoute  # the route as declared (an APIRoute for the API)
    dependant: Any  # FastAPI's dependency tree of the route (None for plain Starlette routes and mounts)
    method_allowed: bool  # False: the path exists, the method does not (the router answers 405)
    notes: dict[str, Any] = field(default_factory=dict)  # what users of the table work out once per route


class RouteTable:
    """The app's routes flattened once (FastAPI nests included routers), matched in the router's order."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = routes
        self._count = -1
        self._entries: list[tuple[Any, MatchedRoute, MatchedRoute]] = []

    def match(self, scope: Scope) -> MatchedRoute | None:
        """The route the router will pick for this request (first full match, else the first path match), or None
        when no route has the path (a 404 or a trailing-slash redirect)."""
        if len(self._routes) != self._count:
            self._entries = list(self._flatten())
            self._count = len(self._routes)
        partial: MatchedRoute | None = None
        for matcher, full, path_only in self._entries:
            match, _ = matcher.matches(scope)
            if match == Match.FULL:
                return full
            if match == Match.PARTIAL and partial is None:
                partial = path_only
        return partial

    def _flatten(self) -> Iterable[tuple[Any, MatchedRoute, MatchedRoute]]:
        for matcher, route in _route_contexts(self._routes):
            template = getattr(matcher, "path", None) or getattr(route, "path", None) or "other"
            dependant = getattr(matcher, "dependant", None) or getattr(route, "dependant", None)
            yield (
                matcher,
                MatchedRoute(template, route, dependant, method_allowed=True),
                MatchedRoute(template, route, dependant, method_allowed=False),
            )


def _route_contexts(routes: Sequence[BaseRoute]) -> Iterable[tuple[Any, BaseRoute]]:
    """(what to match against, the declared route) for each route. FastAPI 0.16x keeps included routers nested
    and matches through per-inclusion contexts (`iter_route_contexts`); earlier versions copied them flat."""
    iterate: Callable[[Sequence[BaseRoute]], Iterable[Any]] | None = getattr(
        fastapi.routing, "iter_route_contexts", None
    )
    if iterate is None:
        return [(route, route) for route in routes]
    return [(context, context.original_route) for context in iterate(routes)]


def route_table(app: Any) -> RouteTable:
    """The table of `app` (the FastAPI application in the ASGI scope), built on first use."""
    table = getattr(app.state, "route_table", None)
    if table is None:
        table = app.state.route_table = RouteTable(app.router.routes)
    return table


MATCHED = "karmayogi.route"


def matched_route(scope: Scope) -> MatchedRoute | None:
    """The route of this request (see `RouteTable.match`), worked out once per request and kept in the scope."""
    if MATCHED not in scope:
        scope[MATCHED] = route_table(scope["app"]).match(scope)
    matched: MatchedRoute | None = scope[MATCHED]
    return matched
