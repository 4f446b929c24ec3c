"""Types shared by the API schemas: closed vocabularies as enums (so OpenAPI lists every value), zoned timestamps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Strict

from models import LANGUAGES, as_utc

# Members from LANGUAGES at import time: mypy reads only enums whose members are written out, hence the ignore.
LanguageCode = StrEnum("LanguageCode", {language.code: language.code for language in LANGUAGES})  # type: ignore[misc]


def comma_separated(value: object) -> object:
    """A list of query values, each possibly "hi,en": one item per value, each then checked against the
    vocabulary (for a list parameter: `Annotated[list[X], BeforeValidator(comma_separated)]`)."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        return [part.strip() for item in value for part in (item.split(",") if isinstance(item, str) else [item])]
    return value


# A list of languages as a query parameter: repeated (`language=hi&language=en`), comma-separated
# (`language=hi,en`) or both. An unknown code is a 422 naming the parameter.
LanguageCodes = Annotated[list[LanguageCode], BeforeValidator(comma_separated)]
LIST_OF_LANGUAGES = "Repeat the parameter or separate codes with commas: `hi,en`"
LIST_OF_VALUES = "Repeat the parameter or separate values with commas"
# What translation may translate into: every language but English, the source.
TargetLanguageCode = StrEnum(  # type: ignore[misc]  # members from LANGUAGES, as for LanguageCode
    "TargetLanguageCode", {language.code: language.code for language in LANGUAGES if language.code != "en"}
)
# A whole number in a JSON body is a JSON number: "5" and true are refused, not converted (query strings, which
# are text, still convert).
JsonInt = Annotated[int, Strict()]


# SQLite hands stored timestamps back without their zone; everything is stored in UTC.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
