"""The glossary: official terms with per-language approved translations, do-not-translate terms and forbidden
renderings. KCM competency names are glossary terms, so course translations use the recommender's names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indic_transliteration import sanscript
from sqlalchemy.orm import Session

from models import Competency, load_competency_model
from translation.errors import GlossaryError
from translation.languages import translation_language

DEFAULT_GLOSSARY = Path(__file__).resolve().parent.parent / "data" / "translation" / "glossary.json"

_SANSCRIPT_SCHEMES = {
    "Deva": sanscript.DEVANAGARI,
    "Beng": sanscript.BENGALI,
    "Gujr": sanscript.GUJARATI,
    "Guru": sanscript.GURMUKHI,
    "Knda": sanscript.KANNADA,
    "Mlym": sanscript.MALAYALAM,
    "Orya": sanscript.ORIYA,
    "Taml": sanscript.TAMIL,
    "Telu": sanscript.TELUGU,
}
_VIRAMA_AT_WORD_END = re.compile(r"[\u094D\u09CD\u0A4D\u0ACD\u0B4D](?=\s|$)")


@dataclass(frozen=True)
class Term:
    source: str
    translations: dict[str, str] = field(default_factory=dict)  # language code -> approved rendering
    forbidden: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language code -> renderings not to use
    do_not_translate: bool = False
    competency_id: str | None = None

    def approved(self, language: str) -> str | None:
        return self.source if self.do_not_translate else self.translations.get(language)


@dataclass(frozen=True)
class TermMatch:
    term: Term
    start: int
    end: int


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...] = ()

    def do_not_translate(self) -> list[str]:
        return [term.source for term in self.terms if term.do_not_translate]

    def find(self, source: str) -> list[TermMatch]:
        """Terms in an English text: whole words, case-insensitive, longest first, never overlapping."""
        taken: list[tuple[int, int]] = []
        found: list[TermMatch] = []
        for term in sorted(self.terms, key=lambda t: len(t.source), reverse=True):
            flags = 0 if term.do_not_translate else re.IGNORECASE
            for match in re.finditer(rf"(?<!\w){re.escape(term.source)}(?!\w)", source, flags):
                if all(match.end() <= start or match.start() >= end for start, end in taken):
                    taken.append(match.span())
                    found.append(TermMatch(term, match.start(), match.end()))
        return sorted(found, key=lambda m: m.start)

    def apply(self, source: str, target: str, language: str) -> str:
        """Replace forbidden renderings of the terms found in `source` by their approved translation."""
        for match in self.find(source):
            approved = match.term.approved(language)
            for bad in match.term.forbidden.get(language, ()):
                if approved and bad in target and approved not in target:
                    target = target.replace(bad, approved)
        return target

    def with_terms(self, terms: Iterable[Term]) -> Glossary:
        return Glossary((*self.terms, *terms))

    def competency_names(self, language: str) -> dict[str, str]:
        """Competency id -> its approved name in `language`, for the KCM competencies the glossary translates."""
        return {
            term.competency_id: term.translations[language]
            for term in self.terms
            if term.competency_id is not None and language in term.translations
        }


def load_glossary(path: Path = DEFAULT_GLOSSARY, competencies: Iterable[Competency] = ()) -> Glossary:
    """Read a glossary file. Entries with `competency_id` take their English term from `competencies`
    (the KCM in the database); every KCM competency becomes a term even without translations."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise GlossaryError(f"{path}: cannot read the glossary: {error}") from None
    names = {competency.id: competency.name for competency in competencies}
    terms = [Term(source, do_not_translate=True) for source in document.get("do_not_translate", [])]
    described: set[str] = set()
    for position, entry in enumerate(document.get("terms", []), start=1):
        competency_id = entry.get("competency_id")
        source = entry.get("term") or names.get(competency_id or "")
        if competency_id and competency_id not in names:
            continue  # a competency of another KCM version, or no KCM loaded: nothing to name
        if not source:
            raise GlossaryError(f"{path}: terms[{position}]: needs `term` or `competency_id`")
        terms.append(_term(path, position, source, entry, competency_id=competency_id))
        described.add(competency_id or "")
    terms.extend(Term(name, competency_id=cid) for cid, name in names.items() if cid not in described)
    return Glossary(tuple(terms))


def _term(path: Path, position: int, source: str, entry: dict[str, Any], *, competency_id: str | None) -> Term:
    try:
        translations = {translation_language(k).code: str(v) for k, v in entry.get("translations", {}).items()}
        forbidden = {translation_language(k).code: tuple(v) for k, v in entry.get("forbidden", {}).items()}
    except ValueError as error:
        raise GlossaryError(f"{path}: terms[{position}] ({source}): {error}") from None
    for language in entry.get("transliterate", []):
        code = translation_language(language).code
        translations.setdefault(code, transliterate(source, translation_language(code).script))
    return Term(source, translations, forbidden, bool(entry.get("do_not_translate")), competency_id)


def transliterate(name: str, script: str) -> str:
    """A proper noun written in an Indic script from its English spelling (a best effort: English spelling
    is read as the OPTITRANS romanisation, and the word-final inherent vowel is dropped as Hindi speakers do)."""
    scheme = _SANSCRIPT_SCHEMES.get(script)
    if scheme is None:
        return name
    converted = sanscript.transliterate(name.lower(), sanscript.OPTITRANS, scheme)
    return _VIRAMA_AT_WORD_END.sub("", converted) if script != "Taml" else converted


def catalog_glossary(session: Session, path: Path = DEFAULT_GLOSSARY) -> Glossary:
    """The shipped glossary with the KCM competencies stored in the database as terms."""
    return load_glossary(path, load_competency_model(session).competencies)
