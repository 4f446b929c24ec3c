"""Dependencies shared by the routes: the loaded services, a database session, the caller's API key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.auth import ApiKeyInfo, Scope, authenticate
from api.errors import Forbidden, Unauthorized
from api.services import Services
from models.db import unit_of_work

bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer kyk_…` with an API key")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key, as an alternative")


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on any error."""
    with unit_of_work(services.sessions) as session:
        yield session


# scope="function": commit before the response is sent, so that a client never sees success for lost work
# and a read right after a write sees it.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


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


def current_key(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    header_key: Annotated[str | None, Security(api_key_header)],
) -> ApiKeyInfo:
    known = request.scope.get(AUTHENTICATED_KEY)
    if isinstance(known, ApiKeyInfo):
        return known
    return identify(session, credentials.credentials if credentials else header_key)


# The scope each `require(...)` dependency checks, for the gate to check it before the body is read.
REQUIRED_SCOPE: dict[Callable[..., ApiKeyInfo], Scope] = {}


def check_scope(key: ApiKeyInfo, scope: Scope) -> ApiKeyInfo:
    if not key.allows(scope):
        raise Forbidden(f"this route needs the `{scope}` scope; the key {key.id!r} has {', '.join(key.scopes)}")
    return key


def check_language(key: ApiKeyInfo, language: str) -> None:
    """403 unless the key may review translations into `language` (keys can be limited to some languages)."""
    if not key.allows_language(language):
        allowed = ", ".join(key.languages)
        raise Forbidden(f"the key {key.id!r} may review {allowed} only, not {language!r}")


def require(scope: Scope) -> Callable[[ApiKeyInfo], ApiKeyInfo]:
    """A dependency that lets a request through only with a key holding `scope` (or `admin`)."""

    def check(key: Annotated[ApiKeyInfo, Depends(current_key)]) -> ApiKeyInfo:
        return check_scope(key, scope)

    REQUIRED_SCOPE[check] = scope
    return check
