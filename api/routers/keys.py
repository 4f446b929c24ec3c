"""Key management over HTTP (the `admin` scope); `karmayogi keys` does the same from the command line."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from api.auth import ApiKeyInfo, Scope, create_key, list_keys, revoke_key
from api.deps import SessionDep, require
from api.errors import problem_responses
from api.schemas import RequestBody
from api.vocab import TargetLanguageCode, UtcDatetime

router = APIRouter(
    prefix="/v1/keys",
    tags=["keys"],
    dependencies=[Depends(require("admin"))],
    responses=problem_responses(400, 401, 403, 422),
)

SCOPES = "What the key may do: recommend:read, catalog:write, translate:review, admin (everything)"
KeyId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$", description="The key's public id")]


class NewKey(RequestBody):
    name: str = Field(min_length=1, max_length=128, pattern=r"\S", description="Who holds the key")
    scopes: list[Scope] = Field(min_length=1, max_length=4, description=SCOPES)
    languages: list[TargetLanguageCode] = Field(
        default_factory=list,
        max_length=22,
        description="Limit the key to reviewing these languages' translations (e.g. hi, mr); empty: all languages",
    )


class KeyOut(BaseModel):
    """An API key as listed: never the key itself."""

    id: str = Field(description="Public id of the key (the part after `kyk_`)")
    name: str = Field(description="Who holds the key")
    scopes: list[Scope] = Field(description=SCOPES)
    languages: list[str] = Field(description="The only languages it may review; empty: all")
    created_at: UtcDatetime = Field(description="When the key was created (UTC)")
    revoked_at: UtcDatetime | None = Field(description="When the key was revoked (UTC); null: it is valid")

    @classmethod
    def of(cls, info: ApiKeyInfo) -> KeyOut:
        return cls.model_validate(info.model_dump())


class CreatedKey(KeyOut):
    key: str = Field(description="The key itself; shown only in this response")


@router.get("", summary="List keys (never the keys themselves)")
def get_keys(
    session: SessionDep,
    include_revoked: Annotated[bool, Query(description="List revoked keys too")] = False,
) -> list[KeyOut]:
    return [KeyOut.of(info) for info in list_keys(session, include_revoked=include_revoked)]


@router.post("", status_code=201, summary="Create a key; the response holds it, once")
def post_key(session: SessionDep, body: NewKey) -> CreatedKey:
    info, key = create_key(session, body.name, list(body.scopes), [language.value for language in body.languages])
    return CreatedKey(**KeyOut.of(info).model_dump(), key=key)


@router.delete("/{key_id}", summary="Revoke a key", responses=problem_responses(404))
def delete_key(session: SessionDep, key_id: KeyId) -> KeyOut:
    return KeyOut.of(revoke_key(session, key_id))
