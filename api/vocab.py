"""Types shared by the API schemas: closed vocabularies as enums (so OpenAPI lists every value), zoned timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Strict

from models import LANGUAGES

LanguageCode = StrEnum("LanguageCode", {language.code: language.code for language in LANGUAGES})  # type: ignore[misc]
# What translation may translate into: every language but English, the source.
TargetLanguageCode = StrEnum(  # type: ignore[misc]
    "TargetLanguageCode", {language.code: language.code for language in LANGUAGES if language.code != "en"}
)
# A whole number in a JSON body is a JSON number: "5" and true are refused, not converted (query strings, which
# are text, still convert).
JsonInt = Annotated[int, Strict()]


def _assume_utc(moment: datetime) -> datetime:
    # SQLite hands stored timestamps back without their zone; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_assume_utc)]
