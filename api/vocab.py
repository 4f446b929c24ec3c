"""Closed vocabularies of the API, as enums so that the OpenAPI document lists every allowed value."""

from __future__ import annotations

from enum import StrEnum

from models import LANGUAGES

LanguageCode = StrEnum("LanguageCode", {language.code: language.code for language in LANGUAGES})  # type: ignore[misc]
