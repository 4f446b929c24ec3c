"""Whether a text uses a glossary term, allowing for Indic inflection.

An approved term rarely appears in a translation exactly as the glossary writes it: Indian languages mark case
and number on the noun itself ("प्रशिक्षण" → "प्रशिक्षणों", "नीति" → "नीतियों", Tamil "நிர்வாகம்" →
"நிர்வாகத்தில்", Bengali "প্রশাসন" → "প্রশাসনের"), and a final vowel sign changes before the ending ("योजना" →
"योजनाओं"). Postpositions written as separate words ("के लिए") need nothing special.

No library here does light inflection matching for these languages (stemmers such as the Indic NLP Library's
are morphological analysers with their own data files, far beyond this need), so this module keeps, per language,
a short list of the common case and number endings, and accepts a word when it is the term's word, or the term's
word (or its stem: without a final vowel sign, or Tamil's and Malayalam's final -m) followed by one of them. A
longer word that merely begins with the term ("कार्य" in "कार्यालय") does not count: words are compared whole.
"""

from __future__ import annotations

import unicodedata

# Common noun endings (case, number, oblique), as they follow the stem.
_DEVANAGARI = ("ों", "ें", "ें", "ाँ", "ां", "े", "ी", "ियों", "ियाँ", "ियां", "ाओं", "ाएँ", "ाएं", "ओं", "एँ", "एं")
_MARATHI = ("ा", "ाचा", "ाची", "ाचे", "ाच्या", "ाला", "ात", "ाने", "ांचा", "ांची", "ांचे", "ांच्या", "ांना", "ांत")
_BENGALI = ("ের", "র", "কে", "তে", "য়", "ে", "গুলি", "গুলো", "দের", "টি", "টা", "য়ের")
_TAMIL = (
    "த்தில்", "த்தை", "த்தின்", "த்திற்கு", "த்துக்கு", "த்தால்", "த்தோடு", "த்துடன்", "த்தும்",
    "யில்", "யை", "யின்", "யுக்கு", "க்கு", "யால்", "யுடன்", "கள்", "களில்", "களை", "களுக்கு", "களின்",
    "ில்", "ை", "ின்", "ுக்கு", "ால்", "ுடன்", "ும்", "ிற்கு",
)  # fmt: skip
_TELUGU = ("లో", "ను", "కు", "కి", "తో", "లు", "ల", "ాన్ని", "ానికి", "ంలో")
_KANNADA = ("ದಲ್ಲಿ", "ವನ್ನು", "ಕ್ಕೆ", "ದ", "ಗಳು", "ಗಳ", "ಯಲ್ಲಿ", "ಯನ್ನು", "ಗೆ")
_MALAYALAM = ("ത്തിൽ", "ത്തെ", "ത്തിന്റെ", "ത്തിന്", "ങ്ങൾ", "യിൽ", "യുടെ", "ിൽ", "ിന്റെ")
_GUJARATI = ("નો", "ની", "નું", "ના", "માં", "ને", "થી", "ો", "ોને", "ોમાં")
_GURMUKHI = ("ਾਂ", "ਆਂ", "ੀਆਂ", "ਦਾ", "ਦੀ", "ਦੇ", "ਵਿੱਚ", "ਨੂੰ", "ੇ")
_ODIA = ("ର", "ରେ", "କୁ", "ମାନେ", "ମାନଙ୍କ", "ଟି")

ENDINGS: dict[str, tuple[str, ...]] = {
    "hi": _DEVANAGARI,
    "mai": _DEVANAGARI,
    "ne": _DEVANAGARI,
    "doi": _DEVANAGARI,
    "mr": _DEVANAGARI + _MARATHI,
    "bn": _BENGALI,
    "as": _BENGALI,
    "ta": _TAMIL,
    "te": _TELUGU,
    "kn": _KANNADA,
    "ml": _MALAYALAM,
    "gu": _GUJARATI,
    "pa": _GURMUKHI,
    "or": _ODIA,
}
# Tamil "-ம்" and Malayalam "-ം" end a noun only in the nominative: before an ending it becomes "-த்த…".
_FINAL_M = ("ம்", "ം")
# Tamil doubles the first consonant of the next word onto this one ("திட்டத்தைப் பற்றி"): that is not an ending.
_TAMIL_SANDHI = ("க்", "ச்", "த்", "ப்")


def stem(word: str) -> str:
    """`word` without a final -m (Tamil, Malayalam) or final vowel signs, the part an ending attaches to."""
    for final in _FINAL_M:
        if word.endswith(final) and len(word) > len(final) + 1:
            return word[: -len(final)]
    trimmed = word
    while trimmed and unicodedata.category(trimmed[-1]) in ("Mn", "Mc") and len(trimmed) > 2:
        trimmed = trimmed[:-1]
    return trimmed


def word_forms_match(found: str, term_word: str, language: str) -> bool:
    """Whether `found` is `term_word` itself or one of its inflected forms in `language`."""
    if found.casefold() == term_word.casefold():
        return True
    endings = ENDINGS.get(language, ())
    bases = {term_word, stem(term_word)}
    forms = {found}
    if language == "ta":
        forms |= {found[: -len(doubled)] for doubled in _TAMIL_SANDHI if found.endswith(doubled)}
    return any(form == base + ending for form in forms for base in bases for ending in endings)


def words(text: str) -> list[str]:
    """The words of `text`: runs of letters, marks and digits (`\\w` would split at Indic vowel signs, which
    Python does not count as alphanumeric)."""
    found: list[str] = []
    current: list[str] = []
    for character in text:
        if unicodedata.category(character)[0] in "LMN":
            current.append(character)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


def uses_term(text: str, term: str, language: str) -> bool:
    """Whether `text` contains the (possibly multi-word) `term` as whole words, each allowed to inflect in
    `language` (in a language without an ending list, only the term's own words count)."""
    wanted = words(term)
    found = words(text)
    if not wanted:
        return False
    for start in range(len(found) - len(wanted) + 1):
        window = found[start : start + len(wanted)]
        if all(word_forms_match(word, want, language) for word, want in zip(window, wanted, strict=True)):
            return True
    return False
