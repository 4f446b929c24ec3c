"""Request and response bodies of the HTTP API that are not domain records themselves."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class RequestBody(BaseModel):
    """A JSON request body: a field the document does not declare is a 422 naming it (`body.colour`), not
    silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(description="This page's items")
    total: int = Field(description="Items matching the filters, over all pages")
    offset: int = Field(description="Items skipped before this page (the request's `offset`)")
    limit: int = Field(description="The page size asked for (the request's `limit`)")


class IngestResult(BaseModel):
    created: int = Field(description="Records that were new")
    updated: int = Field(description="Records that replaced a different stored version")
    unchanged: int = Field(description="Records identical to the stored version (nothing written)")
    skipped: list[str] = Field(description="Problems of records left out (only with `skip_invalid=true`)")
