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


def current_key(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    header_key: Annotated[str | None, Security(api_key_header)],
) -> ApiKeyInfo:
    presented = credentials.credentials if credentials else header_key
    if not presented:
        raise Unauthorized("send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`")
    key = authenticate(session, presented)
    if key is None:
        raise Unauthorized("the API key is unknown or has been revoked")
    return key


def require(scope: Scope) -> Callable[[ApiKeyInfo], ApiKeyInfo]:
    """A dependency that lets a request through only with a key holding `scope` (or `admin`)."""

    def check(key: Annotated[ApiKeyInfo, Depends(current_key)]) -> ApiKeyInfo:
        if not key.allows(scope):
            raise Forbidden(f"this route needs the `{scope}` scope; the key {key.id!r} has {', '.join(key.scopes)}")
        return key

    return check
