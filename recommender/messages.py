"""The message catalog of the reasons shown to learners (gettext, through Babel), and numbers and language names
formatted for the reader's locale.

The English text is in the code (the msgids); every other language is a `.po` file under
`recommender/locale/<code>/LC_MESSAGES/reasons.po`, with the template `recommender/locale/reasons.pot`. The `.po`
files are compiled in memory with `babel.messages` the first time a language is used (a few milliseconds), so no
`.mo` file is committed, none goes stale and no build step is needed. A language without a catalog falls back to
English. To add one: `pybabel init -D reasons -i recommender/locale/reasons.pot -d recommender/locale -l ta`,
translate, done (`tests/test_localized_responses.py` checks that every catalog matches the template and keeps
each message's placeholders).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from models import LANGUAGES

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "reasons"
SOURCE_LANGUAGE = "en"
# Numbers follow Indian conventions in English too (1,00,000: lakh grouping).
_BABEL_LOCALES = {"en": "en_IN"}
_ENGLISH_NAMES = {language.code: language.name for language in LANGUAGES}


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def message_languages() -> frozenset[str]:
    """The languages reasons can be written in: English and every language with a catalog."""
    found = {path.parent.parent.name for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return frozenset({SOURCE_LANGUAGE, *found})


def reason_language(preferred: Sequence[str]) -> str:
    """The first of the reader's languages that has a message catalog; English when none has."""
    available = message_languages()
    return next((language for language in preferred if language in available), SOURCE_LANGUAGE)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of `language`; the identity (English) for English and languages without one."""
    path = catalog_path(language)
    if language == SOURCE_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def babel_locale(language: str) -> Locale:
    """The Babel locale whose conventions the text of `language` follows (English: en_IN)."""
    return Locale.parse(_BABEL_LOCALES.get(language, language))


@lru_cache(maxsize=8192)
def number(value: float, language: str, pattern: str | None = None) -> str:
    """`value` formatted for `language` (grouping and separators; `pattern` e.g. "0.0" fixes the decimals).
    Remembered: reasons repeat the same few levels, counts and ratings, and one Babel call costs about 20 µs (62
    of them were a quarter of a recommendation's time in the profile of issue 16)."""
    return format_decimal(value, format=pattern, locale=babel_locale(language))


def language_name(code: str, language: str) -> str:
    """The name of the language `code`, written in `language` (English: the catalog's own names)."""
    if language == SOURCE_LANGUAGE:
        return _ENGLISH_NAMES.get(code, code)
    name = babel_locale(language).languages.get(code)
    return str(name) if name else _ENGLISH_NAMES.get(code, code)
