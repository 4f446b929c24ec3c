"""Key management over HTTP (the `admin` scope); `karmayogi keys` does the same from the command line."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from api.auth import ApiKeyInfo, Scope, create_key, list_keys, revoke_key
from api.deps import SessionDep, require
from api.errors import problem_responses

router = APIRouter(
    prefix="/v1/keys",
    tags=["keys"],
    dependencies=[Depends(require("admin"))],
    responses=problem_responses(400, 401, 403, 422),
)

KeyId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$", description="The key's public id")]


class NewKey(BaseModel):
    name: str = Field(min_length=1, max_length=128, pattern=r"\S", description="Who holds the key")
    scopes: list[Scope] = Field(min_length=1, max_length=4)


class CreatedKey(ApiKeyInfo):
    key: str = Field(description="The key itself; shown only in this response")


@router.get("", summary="List keys (never the keys themselves)")
def get_keys(session: SessionDep, include_revoked: bool = False) -> list[ApiKeyInfo]:
    return list_keys(session, include_revoked=include_revoked)


@router.post("", status_code=201, summary="Create a key; the response holds it, once")
def post_key(session: SessionDep, body: NewKey) -> CreatedKey:
    info, key = create_key(session, body.name, list(body.scopes))
    return CreatedKey(**info.model_dump(), key=key)


@router.delete("/{key_id}", summary="Revoke a key", responses=problem_responses(404))
def delete_key(session: SessionDep, key_id: KeyId) -> ApiKeyInfo:
    return revoke_key(session, key_id)
