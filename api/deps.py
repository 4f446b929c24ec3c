"""Dependencies shared by the routes: the loaded services, a database session, the caller's API key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from api.auth import ApiKeyInfo, Scope, authenticate
from api.errors import Forbidden, Unauthorized
from api.services import Services
from models.db import end_unit_of_work, unit_of_work

bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer kyk_…` with an API key")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key, as an alternative")


# The dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in a worker thread,
# and each such trip (a hand-over to the thread pool and back, under the GIL) cost more than the work itself: a
# recommendation made ten of them, about 4 ms of its 22 ms on a 2-core machine (issue 16). The busiest routes
# (recommendations, search) are `async def` too, and run their work in one worker thread themselves
# (`run_in_threadpool`): a plain `def` route costs a second trip, for FastAPI's check of the response.


async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on any error.

    Opening a session does no I/O, so it happens here; ending it (commit or rollback, then close) may wait on
    the database, so it runs in a worker thread, shielded so that a cancelled request still returns its
    connection. A session with no transaction open (it never touched the database, or a read-only route ended
    its reads with `reads_done`) is closed at once."""
    session = services.sessions()
    succeeded = False
    try:
        yield session
        succeeded = True
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(end_unit_of_work, session, succeeded)
        else:
            session.close()


# scope="function": commit before the response is sent, so that a client never sees success for lost work
# and a read right after a write sees it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def reads_done(session: Session) -> None:
    """A read-only route's last use of the database: its transaction ends here, in the route's worker thread, so
    that the unit of work then closes on the event loop without another trip to the thread pool."""
    session.commit()


# The request gate (api/limits.py) authenticates a request before it reads the body and leaves the key here, so
# that the route's dependency does not look it up twice.
AUTHENTICATED_KEY = "karmayogi.api_key"


async def presented_key(request: Request) -> str | None:
    """The key the request presents, `Authorization: Bearer` first, else `X-API-Key`; None without one."""
    credentials = await bearer(request)
    return credentials.credentials if credentials else await api_key_header(request)


MISSING_KEY = "send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`"


def identify(session: Session, presented: str | None) -> ApiKeyInfo:
    """The known, unrevoked key that was presented; 401 otherwise."""
    if not presented:
        raise Unauthorized(MISSING_KEY)
    key = authenticate(session, presented)
    if key is None:
        raise Unauthorized("the API key is unknown or has been revoked")
    return key


def lookup_key(sessions: sessionmaker[Session], presented: str | None) -> ApiKeyInfo:
    """`identify` in a unit of work of its own (blocking: call it from a worker thread)."""
    with unit_of_work(sessions) as session:
        return identify(session, presented)


async def current_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    header_key: Annotated[str | None, Security(api_key_header)],
) -> ApiKeyInfo:
    known = request.scope.get(AUTHENTICATED_KEY)
    if isinstance(known, ApiKeyInfo):
        return known
    presented = credentials.credentials if credentials else header_key
    return await anyio.to_thread.run_sync(lookup_key, request.app.state.services.sessions, presented)


# The scope each `require(...)` dependency checks, for the gate to check it before the body is read.
REQUIRED_SCOPE: dict[Callable[..., Awaitable[ApiKeyInfo]], Scope] = {}


def check_scope(key: ApiKeyInfo, scope: Scope) -> ApiKeyInfo:
    if not key.allows(scope):
        raise Forbidden(f"this route needs the `{scope}` scope; the key {key.id!r} has {', '.join(key.scopes)}")
    return key


def check_language(key: ApiKeyInfo, language: str) -> None:
    """403 unless the key may review translations into `language` (keys can be limited to some languages)."""
    if not key.allows_language(language):
        allowed = ", ".join(key.languages)
        raise Forbidden(f"the key {key.id!r} may review {allowed} only, not {language!r}")


def require(scope: Scope) -> Callable[[ApiKeyInfo], Awaitable[ApiKeyInfo]]:
    """A dependency that lets a request through only with a key holding `scope` (or `admin`)."""

    async def check(key: Annotated[ApiKeyInfo, Depends(current_key)]) -> ApiKeyInfo:
        return check_scope(key, scope)

    REQUIRED_SCOPE[check] = scope
    return check
