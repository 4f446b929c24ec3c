"""API keys with scopes. A key is shown once when created; only its SHA-256 digest is stored.

A key reads `kyk_<id>_<secret>`: the id is public (it names the key in listings and logs), the secret
is 256 random bits, so a fast digest is enough — there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field
from sqlalchemy import Row, String, bindparam, select
from sqlalchemy.orm import Session

from api.ui_session import end_sessions_of_key
from models import InvalidInputError, NotFoundError, as_utc, get_language
from models.tables import ApiKeyRow
from models.text_policy import check_text, text_problem

Scope = Literal["recommend:read", "catalog:write", "translate:review", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
SCOPE_HELP: dict[Scope, str] = {
    "recommend:read": "the portal: recommendations, gaps, paths, search and catalog reads",
    "catalog:write": "content teams: bulk ingest of courses",
    "translate:review": "content teams: translation jobs, review and the review UI",
    "admin": "key management; implies every other scope",
}
PREFIX = "kyk"


class ApiKeyInfo(BaseModel):
    id: str = Field(description="Public id of the key (the part after `kyk_`)")
    name: str
    scopes: list[Scope]
    languages: list[str] = Field(default_factory=list, description="The languages it may review; empty: all")
    created_at: datetime
    revoked_at: datetime | None = None

    def allows(self, scope: Scope) -> bool:
        return self.revoked_at is None and (scope in self.scopes or "admin" in self.scopes)

    @property
    def review_languages(self) -> list[str] | None:
        """The only languages the key may review; None: all (no limit, or an admin key)."""
        return None if not self.languages or "admin" in self.scopes else list(self.languages)

    def allows_language(self, language: str) -> bool:
        limited = self.review_languages
        return limited is None or language in limited


class UnknownScopeError(InvalidInputError):
    def __init__(self, scope: str) -> None:
        super().__init__(f"unknown scope {scope!r}; scopes are: {', '.join(SCOPES)}")


def parse_scope(text: str) -> Scope:
    for scope in SCOPES:
        if text == scope:
            return scope
    raise UnknownScopeError(text)


def create_key(session: Session, name: str, scopes: list[str], languages: Sequence[str] = ()) -> tuple[ApiKeyInfo, str]:
    """Store a new key, limited to reviewing `languages` when some are given; returns its description and the
    key itself, which is never shown again."""
    for scope in scopes:
        parse_scope(scope)
    codes = [_language_code(language) for language in languages]
    if not check_text(name, "name").strip():
        raise InvalidInputError("a key needs a name saying who holds it")
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKeyRow(
        id=key_id,
        name=name.strip(),
        key_hash=digest(key),
        scopes=list(dict.fromkeys(scopes)),
        languages=list(dict.fromkeys(codes)),
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return _info(row), key


def _language_code(language: str) -> str:
    code = get_language(language.strip()).code  # UnknownLanguageError: an InvalidInputError naming the supported
    if code == "en":
        raise InvalidInputError("English is the source language: a key cannot be limited to reviewing it")
    return code


def list_keys(session: Session, include_revoked: bool = False) -> list[ApiKeyInfo]:
    query = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id)
    if not include_revoked:
        query = query.where(ApiKeyRow.revoked_at.is_(None))
    return [_info(row) for row in session.scalars(query)]


def revoke_key(session: Session, key_id: str) -> ApiKeyInfo:
    """Revoke by id (or by the whole key); revoking twice keeps the first time."""
    row = session.get(ApiKeyRow, check_text(_key_id(key_id), "key_id"))
    if row is None:
        raise NotFoundError("API key", key_id)
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.flush()
    end_sessions_of_key(session, row.id)  # the review UI's sessions signed in with it end too
    return _info(row)


def authenticate(session: Session, presented: str) -> ApiKeyInfo | None:
    """The key's description if `presented` is a known, unrevoked key; None otherwise."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or text_problem(presented) is not None:
        return None
    # Every request with a key reads it: a statement built once, and no ORM object.
    row = session.connection().execute(_KEY_BY_ID, {"key_id": parts[1]}).one_or_none()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest(presented)):
        return None
    return _info(row)


_KEY_BY_ID = select(*ApiKeyRow.__table__.columns).where(ApiKeyRow.id == bindparam("key_id", type_=String))


def key_by_id(session: Session, key_id: str) -> ApiKeyInfo | None:
    """The key with this public id, revoked or not (the review UI's session names keys by id)."""
    row = session.get(ApiKeyRow, key_id)
    return _info(row) if row is not None else None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _key_id(key_or_id: str) -> str:
    parts = key_or_id.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == PREFIX else key_or_id


def _info(row: ApiKeyRow | Row[Any]) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        name=row.name,
        scopes=[parse_scope(scope) for scope in row.scopes],
        languages=list(row.languages or []),
        created_at=as_utc(row.created_at),
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
    )
