"""The request gate: what a request must show before the service reads its body, how large and how fast that body
must be, and how many requests are inside the app at once.

In order, for each HTTP request:

1. An unknown path or method goes straight to the router, which answers 404 / 405 without reading the body.
2. A route that needs an API key authenticates the key (and checks the route's scope) first: without one the
   answer is 401 / 403, and no byte of the body is read.
3. The body is read here, under a size limit (413; `max_ingest_bytes` only for the routes given as large, the
   bulk ingest) and a deadline (408): `body_timeout_seconds`, plus a second for each `body_min_bytes_per_second`
   bytes received, so that a large upload at a fair rate has the time it needs and a trickle does not.
4. Only then does the request take an in-flight slot and enter the app, with the body replayed.

A slot is never held while waiting for a client, so slow clients cannot starve the others (a client that sends
one byte a second used to keep its slot for good), and an unauthenticated client cannot make the worker buffer
anything. Whenever a response leaves before the client has sent its whole body, it carries `Connection: close`:
the server stops reading, instead of draining an upload nobody will use.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import Scope as KeyScope
from api.deps import (
    AUTHENTICATED_KEY,
    MISSING_KEY,
    REQUIRED_SCOPE,
    check_scope,
    current_key,
    lookup_key,
    presented_key,
)
from api.errors import ApiError, PayloadTooLarge, Unauthorized
from api.routes import MatchedRoute, matched_route

PROBES = ("/healthz", "/readyz", "/metrics")
CLOSE = (b"connection", b"close")


class RequestTimeout(ApiError):
    status = 408
    slug = "request-timeout"
    title = "The request body did not arrive in time"


class RequestGate:
    """See the module's documentation. `large_bodies` maps route templates to their own size limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        max_body_bytes: int,
        large_bodies: Mapping[str, int],
        body_timeout_seconds: float,
        body_min_bytes_per_second: int,
        exempt: tuple[str, ...] = PROBES,
    ) -> None:
        self.app = app
        self.slots = InFlight(max_in_flight)
        self.max_body_bytes = max_body_bytes
        self.large_bodies = dict(large_bodies)
        self.timeout = body_timeout_seconds
        self.rate = body_min_bytes_per_second
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = _Body(scope["headers"])
        receive, send = body.tracking(receive), body.closing(send)
        matched = None if scope["path"] in self.exempt else matched_route(scope)
        if scope["path"] in self.exempt or matched is None or not matched.method_allowed:
            # Probes stay outside the limit so that they answer under load; unknown paths and methods are answered
            # by the router without reading the body.
            await self.app(scope, receive, send)
            return
        needs_key, scopes = _access(matched)
        if needs_key:
            async with self.slots:  # the key is looked up in the database: see InFlight
                if not await self._admitted(scope, receive, send, scopes):
                    return
                if not body.expected:
                    await self.app(scope, receive, send)
                    return
        elif not body.expected:
            async with self.slots:
                await self.app(scope, receive, send)
            return
        limit = self.large_bodies.get(matched.template, self.max_body_bytes)
        try:
            payload = await self._read(scope, receive, body, limit)
        except ApiError as error:
            await _answer(scope, receive, send, error)
            return
        if payload is None:
            return  # the client went away
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": payload, "more_body": False}

        async with self.slots:
            await self.app(scope, replay, send)

    async def _admitted(self, scope: Scope, receive: Receive, send: Send, scopes: tuple[KeyScope, ...]) -> bool:
        """Authenticate the request's key and check the route's scopes; answer 401 / 403 (or what the app answers
        for a failure to look the key up) and return False when it may not go on."""
        try:
            presented = await presented_key(Request(scope))
            if not presented:
                raise Unauthorized(MISSING_KEY)
            key = await anyio.to_thread.run_sync(lookup_key, scope["app"].state.services.sessions, presented)
            for needed in scopes:
                check_scope(key, needed)
        except Exception as error:
            await _answer(scope, receive, send, error)
            return False
        scope[AUTHENTICATED_KEY] = key
        return True

    async def _read(self, scope: Scope, receive: Receive, body: _Body, limit: int) -> bytes | None:
        if body.declared is not None and body.declared > limit:
            raise PayloadTooLarge(f"the request body is over the limit of {limit} bytes for {scope['path']}")
        chunks: list[bytes] = []
        received = 0
        started = anyio.current_time()
        while True:
            allowed = self.timeout + received / self.rate
            message: Message | None = None
            with anyio.move_on_after(started + allowed - anyio.current_time()):
                message = await receive()
            if message is None:
                expected = f"of {body.declared} " if body.declared is not None else ""
                raise RequestTimeout(
                    f"{received} bytes {expected}of the request body arrived in {allowed:.1f} s; send the body "
                    f"within {self.timeout:g} s plus one second per {self.rate} bytes"
                )
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                raise PayloadTooLarge(f"the request body is over the limit of {limit} bytes for {scope['path']}")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


class InFlight:
    """At most `limit` requests inside the app at once; the rest wait their turn in the event loop.

    A request checks a database connection out in one worker thread (authentication) and gives it back in another
    (the session's teardown), with the route's own thread in between. When more requests than the pool has
    connections reach the thread pool, threads that wait for a connection can take every thread the holders need
    to finish: nothing moves until the pool's 30-second timeout fails them (seen under the load test with 64
    clients). Waiting here instead costs no thread. The gate's own key lookup uses a connection too, so it also
    runs inside a slot; waiting for a client's body never does.
    """

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)

    async def __aenter__(self) -> None:
        await self._slots.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._slots.release()


class _Body:
    """Whether the request has a body, and whether all of it has been received."""

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        length = next((value for name, value in headers if name == b"content-length"), None)
        chunked = any(name == b"transfer-encoding" and b"chunked" in value.lower() for name, value in headers)
        self.declared = int(length) if length is not None and length.isdigit() else None
        self.expected = chunked or bool(self.declared)
        self.complete = not self.expected

    def tracking(self, receive: Receive) -> Receive:
        async def tracked() -> Message:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                self.complete = True
            return message

        return tracked

    def closing(self, send: Send) -> Send:
        async def closed(message: Message) -> None:
            if message["type"] == "http.response.start" and not self.complete:
                headers = list(message.get("headers", []))
                if CLOSE not in headers:
                    message = {**message, "headers": [*headers, CLOSE]}
            await send(message)

        return closed


def _access(matched: MatchedRoute) -> tuple[bool, tuple[KeyScope, ...]]:
    """Whether the route authenticates an API key, and the scopes it requires (read from its dependencies)."""
    cached = matched.notes.get("access")
    if cached is None:
        calls = list(_calls(matched.dependant))
        scopes = tuple(dict.fromkeys(REQUIRED_SCOPE[call] for call in calls if call in REQUIRED_SCOPE))
        cached = matched.notes["access"] = (current_key in calls, scopes)
    return cached


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for dependency in getattr(dependant, "dependencies", None) or ():
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


async def _answer(scope: Scope, receive: Receive, send: Send, error: Exception) -> None:
    """Answer with the app's own handler for `error` (problem+json, or a page for the review UI)."""
    handlers: Mapping[Any, Callable[[Request, Exception], Response | Awaitable[Response]]] = getattr(
        scope["app"], "exception_handlers", {}
    )
    handler = next((handlers[kind] for kind in type(error).__mro__ if kind in handlers), None)
    if handler is None:
        raise error
    response = handler(Request(scope, receive), error)
    if inspect.isawaitable(response):
        response = await response
    await response(scope, receive, send)
