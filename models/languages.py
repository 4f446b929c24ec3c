"""Languages the catalog may be written in: English and the 22 languages of the Eighth Schedule."""

from __future__ import annotations

from dataclasses import dataclass

from models.problems import InvalidInputError


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1 where one exists, else ISO 639-3 (brx, doi, kok, mai, mni, sat)
    iso639_3: str
    name: str
    native_name: str
    script: str  # ISO 15924
    on_igot_portal: bool


LANGUAGES: tuple[Language, ...] = (
    Language("en", "eng", "English", "English", "Latn", True),
    Language("as", "asm", "Assamese", "অসমীয়া", "Beng", True),
    Language("bn", "ben", "Bengali", "বাংলা", "Beng", True),
    Language("brx", "brx", "Bodo", "बड़ो", "Deva", False),
    Language("doi", "doi", "Dogri", "डोगरी", "Deva", False),
    Language("gu", "guj", "Gujarati", "ગુજરાતી", "Gujr", True),
    Language("hi", "hin", "Hindi", "हिन्दी", "Deva", True),
    Language("kn", "kan", "Kannada", "ಕನ್ನಡ", "Knda", True),
    Language("ks", "kas", "Kashmiri", "کٲشُر", "Arab", False),
    Language("kok", "kok", "Konkani", "कोंकणी", "Deva", False),
    Language("mai", "mai", "Maithili", "मैथिली", "Deva", False),
    Language("ml", "mal", "Malayalam", "മലയാളം", "Mlym", True),
    Language("mni", "mni", "Manipuri", "মৈতৈলোন্", "Beng", True),
    Language("mr", "mar", "Marathi", "मराठी", "Deva", True),
    Language("ne", "npi", "Nepali", "नेपाली", "Deva", False),
    Language("or", "ory", "Odia", "ଓଡ଼ିଆ", "Orya", True),
    Language("pa", "pan", "Punjabi", "ਪੰਜਾਬੀ", "Guru", True),
    Language("sa", "san", "Sanskrit", "संस्कृतम्", "Deva", False),
    Language("sat", "sat", "Santali", "ᱥᱟᱱᱛᱟᱲᱤ", "Olck", False),
    Language("sd", "snd", "Sindhi", "سنڌي", "Arab", False),
    Language("ta", "tam", "Tamil", "தமிழ்", "Taml", True),
    Language("te", "tel", "Telugu", "తెలుగు", "Telu", True),
    Language("ur", "urd", "Urdu", "اردو", "Arab", True),
)

_BY_KEY: dict[str, Language] = {}
for _language in LANGUAGES:
    for _key in (_language.code, _language.iso639_3, _language.name, _language.native_name):
        _BY_KEY[_key.casefold()] = _language
# Spellings seen in real catalogues.
_BY_KEY.update({"oriya": _BY_KEY["or"], "bangla": _BY_KEY["bn"], "manipuri (meitei)": _BY_KEY["mni"]})


class UnknownLanguageError(InvalidInputError):
    """A language code or name that the catalog does not support."""


def supported_codes() -> list[str]:
    return [language.code for language in LANGUAGES]


def get_language(code_or_name: str) -> Language:
    """Resolve an ISO 639-1/639-3 code or an English or native name; raise with the supported list."""
    language = _BY_KEY.get(code_or_name.strip().casefold())
    if language is None:
        raise UnknownLanguageError(
            f"unknown language {code_or_name!r}; supported codes: {', '.join(supported_codes())}"
        )
    return language


def normalise_language(code_or_name: str) -> str:
    return get_language(code_or_name).code
