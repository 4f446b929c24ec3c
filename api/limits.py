"""Request limits: the body size, enforced before a route reads the body (413 problem+json), and how many
requests are inside the app at once."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PayloadTooLarge, problem_response


class BodyLimit:
    """Refuse bodies over `default` bytes, or over `bulk` bytes on routes whose path ends in `/bulk`.

    Checks the declared Content-Length first, then counts the bytes actually received (chunked bodies).
    The body is buffered here, which the limits keep bounded.
    """

    def __init__(self, app: ASGIApp, default: int, bulk: int) -> None:
        self.app = app
        self.default = default
        self.bulk = bulk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.bulk if scope["path"].rstrip("/").endswith("/bulk") else self.default
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        # Read the body here, so that an oversized one is refused before any route sees part of it.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await self._refuse(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = PayloadTooLarge(f"the request body is over the limit of {limit} bytes for {scope['path']}")
        response = problem_response(None, error.status, error.slug, error.title, error.detail)
        await response(scope, receive, send)


class InFlightLimit:
    """At most `limit` requests inside the app at once; the rest wait their turn in the event loop.

    A request checks a database connection out in one worker thread (authentication) and gives it back in another
    (the session's teardown), with the route's own thread in between. When more requests than the pool has
    connections reach the thread pool, threads that wait for a connection can take every thread the holders need
    to finish: nothing moves until the pool's 30-second timeout fails them (seen under the load test with 64
    clients). Waiting here instead costs no thread. Probes stay outside the limit so that they answer under load.
    """

    def __init__(self, app: ASGIApp, limit: int, exempt: tuple[str, ...] = ("/healthz", "/readyz", "/metrics")) -> None:
        self.app = app
        self.slots = asyncio.Semaphore(limit)
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        async with self.slots:
            await self.app(scope, receive, send)
