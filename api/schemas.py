"""Request and response bodies of the HTTP API that are not domain records themselves."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="Items matching the filters, over all pages")
    offset: int
    limit: int


class IngestResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    skipped: list[str] = Field(description="Problems of records left out (only with `skip_invalid=true`)")
