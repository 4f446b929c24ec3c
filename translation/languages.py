"""The languages translation works with: the catalog's registry plus BCP-47 tags and each engine's codes."""

from __future__ import annotations

from dataclasses import dataclass

from models import LANGUAGES, Language, UnknownLanguageError, get_language

# FLORES-200 codes, used by NLLB-200 and IndicTrans2. IndicTrans2 writes Konkani as gom_Deva.
_FLORES: dict[str, str] = {
    "en": "eng_Latn",
    "as": "asm_Beng",
    "bn": "ben_Beng",
    "brx": "brx_Deva",
    "doi": "doi_Deva",
    "gu": "guj_Gujr",
    "hi": "hin_Deva",
    "kn": "kan_Knda",
    "ks": "kas_Arab",
    "kok": "gom_Deva",
    "mai": "mai_Deva",
    "ml": "mal_Mlym",
    "mni": "mni_Beng",
    "mr": "mar_Deva",
    "ne": "npi_Deva",
    "or": "ory_Orya",
    "pa": "pan_Guru",
    "sa": "san_Deva",
    "sat": "sat_Olck",
    "sd": "snd_Arab",
    "ta": "tam_Taml",
    "te": "tel_Telu",
    "ur": "urd_Arab",
}
# NLLB-200 has no Bodo, Dogri or Konkani.
_NOT_IN_NLLB = {"brx", "doi", "kok"}
# Languages commonly written in more than one script get the script subtag in BCP-47.
_SCRIPT_SUBTAG = {"ks", "mni", "sat", "sd"}

# Unicode blocks of the scripts, for the wrong-script check.
SCRIPT_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "Latn": ((0x0041, 0x005A), (0x0061, 0x007A), (0x00C0, 0x024F)),
    "Deva": ((0x0900, 0x097F), (0xA8E0, 0xA8FF)),
    "Beng": ((0x0980, 0x09FF),),
    "Guru": ((0x0A00, 0x0A7F),),
    "Gujr": ((0x0A80, 0x0AFF),),
    "Orya": ((0x0B00, 0x0B7F),),
    "Taml": ((0x0B80, 0x0BFF),),
    "Telu": ((0x0C00, 0x0C7F),),
    "Knda": ((0x0C80, 0x0CFF),),
    "Mlym": ((0x0D00, 0x0D7F),),
    "Arab": ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    "Olck": ((0x1C50, 0x1C7F),),
}

# Zero of each script's native decimal digits (Arabic-script languages use Extended Arabic-Indic digits).
DIGIT_ZERO: dict[str, int] = {
    "Deva": 0x0966,
    "Beng": 0x09E6,
    "Guru": 0x0A66,
    "Gujr": 0x0AE6,
    "Orya": 0x0B66,
    "Taml": 0x0BE6,
    "Telu": 0x0C66,
    "Knda": 0x0CE6,
    "Mlym": 0x0D66,
    "Arab": 0x06F0,
    "Olck": 0x1C50,
}

# Sentence-final marks: Devanagari and several other scripts use the danda, Urdu the Arabic full stop.
FULL_STOP: dict[str, str] = {"Deva": "।", "Beng": "।", "Orya": "।", "Guru": "।", "Arab": "۔", "Olck": "᱾"}


@dataclass(frozen=True)
class TranslationLanguage:
    language: Language
    bcp47: str
    flores: str  # IndicTrans2 and NLLB-200: hin_Deva
    nllb: str | None  # None where NLLB-200 lacks the language
    marian: str  # ISO 639-3, the `>>hin<<` target token of multilingual opus-mt models

    @property
    def code(self) -> str:
        return self.language.code

    @property
    def script(self) -> str:
        return self.language.script

    @property
    def name(self) -> str:
        return self.language.name


def _entry(language: Language) -> TranslationLanguage:
    bcp47 = f"{language.code}-{language.script}" if language.code in _SCRIPT_SUBTAG else language.code
    flores = _FLORES[language.code]
    return TranslationLanguage(
        language=language,
        bcp47=bcp47,
        flores=flores,
        nllb=None if language.code in _NOT_IN_NLLB else flores,
        marian=language.iso639_3,
    )


TRANSLATION_LANGUAGES: dict[str, TranslationLanguage] = {language.code: _entry(language) for language in LANGUAGES}
IGOT_PORTAL_LANGUAGES: tuple[str, ...] = tuple(language.code for language in LANGUAGES if language.on_igot_portal)


def translation_language(code_or_name: str) -> TranslationLanguage:
    """Resolve a code or name (hi, hin, Hindi, hin_Deva, hi-IN ...); unknown ones raise with the supported list."""
    key = code_or_name.strip()
    for entry in TRANSLATION_LANGUAGES.values():
        if key in (entry.flores, entry.bcp47) or key.casefold() == entry.bcp47.casefold():
            return entry
    base = key.split("-")[0].split("_")[0]
    try:
        return TRANSLATION_LANGUAGES[get_language(base if base != key else key).code]
    except UnknownLanguageError:
        raise UnknownLanguageError(
            f"unknown language {code_or_name!r}; supported codes: {', '.join(TRANSLATION_LANGUAGES)}"
        ) from None


def parse_languages(text: str) -> list[TranslationLanguage]:
    """A comma-separated list (`hi,ta,bn`, or `igot` for the iGOT portal's languages other than English)."""
    codes: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if item.casefold() == "igot":
            codes.extend(code for code in IGOT_PORTAL_LANGUAGES if code != "en")
        else:
            codes.append(translation_language(item).code)
    if not codes:
        raise UnknownLanguageError(f"no language given; supported codes: {', '.join(TRANSLATION_LANGUAGES)}")
    return [TRANSLATION_LANGUAGES[code] for code in dict.fromkeys(codes)]
