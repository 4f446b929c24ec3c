"""Types shared by the API schemas: closed vocabularies as enums (so OpenAPI lists every value), zoned timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator

from models import LANGUAGES

LanguageCode = StrEnum("LanguageCode", {language.code: language.code for language in LANGUAGES})  # type: ignore[misc]


def _assume_utc(moment: datetime) -> datetime:
    # SQLite hands stored timestamps back without their zone; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_assume_utc)]
