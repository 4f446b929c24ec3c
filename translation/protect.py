"""Protection of text that must come through machine translation unchanged.

URLs, e-mails, dates, numbers, `{placeholders}`, HTML tags and acronyms / do-not-translate terms are replaced
by numbered tokens `<0>`, `<1>` ... before translation and put back afterwards. Models mangle such tokens
(`< 0 >`, `&lt;0&gt;`, native digits `<०>`), so restoration accepts those spellings too. Everything here is a
pure function of its arguments: no state is shared between calls, so concurrent requests cannot mix up
their placeholders."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from translation.languages import DIGIT_ZERO

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("placeholder", r"<\s*\d+\s*>"),  # tokens that look like ours in the source are protected too
    ("html", r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|&[a-zA-Z]+;|&#\d+;"),
    ("url", r"(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)\]]"),
    ("email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    ("placeholder", r"\{\{[^{}]*\}\}|\{[A-Za-z0-9_.]*\}|%\([A-Za-z0-9_]+\)[sd]|%[sd]|\$\{[A-Za-z0-9_]+\}"),
    ("date", r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"),
    ("number", r"(?<![\w.])\d+(?:[.,:]\d+)*%?(?![\w])"),
    ("acronym", r"\b[A-Z][A-Z0-9&]*[A-Z](?:s\b)?(?![a-z])\b"),
)
_TOKEN = re.compile(r"(?:<|&lt;|‹|〈|＜)\s*(\d{1,3})\s*(?:>|&gt;|›|〉|＞)")


@dataclass(frozen=True)
class Span:
    kind: str  # placeholder | html | url | email | date | number | acronym | term
    value: str


@dataclass(frozen=True)
class Protected:
    text: str  # the text with tokens instead of the protected spans
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Restored:
    text: str
    missing: tuple[Span, ...] = field(default=())  # spans the model dropped
    invented: tuple[str, ...] = field(default=())  # tokens the model made up (removed)


def token(index: int) -> str:
    return f"<{index}>"


def protect(text: str, keep: Iterable[str] = ()) -> Protected:
    """Replace protected spans by tokens; `keep` adds do-not-translate terms (matched as whole words)."""
    pattern = _compile(tuple(sorted(set(keep), key=len, reverse=True)))
    spans: list[Span] = []

    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup or "term"
        spans.append(Span("term" if kind == "term" else kind.rstrip("0123456789"), match.group()))
        return token(len(spans) - 1)

    return Protected(pattern.sub(replace, text), tuple(spans))


def _compile(terms: tuple[str, ...]) -> re.Pattern[str]:
    # Longest and most specific first: do-not-translate terms, then the fixed patterns in order.
    groups = []
    if terms:
        groups.append("(?P<term>" + "|".join(rf"(?<!\w){re.escape(term)}(?!\w)" for term in terms) + ")")
    groups.extend(f"(?P<{kind}{i}>{regex})" for i, (kind, regex) in enumerate(_PATTERNS))
    return re.compile("|".join(groups))


def restore(text: str, spans: tuple[Span, ...], native_digits: str | None = None) -> Restored:
    """Put the protected spans back. `native_digits` (an ISO 15924 script) rewrites protected numbers
    and dates in that script's digits; URLs, e-mails and placeholders are never touched."""
    used: set[int] = set()
    invented: list[str] = []

    def replace(match: re.Match[str]) -> str:
        index = _to_int(match.group(1))
        if index is None or index >= len(spans):
            invented.append(match.group())
            return ""
        used.add(index)
        span = spans[index]
        if native_digits and span.kind in ("number", "date"):
            return to_native_digits(span.value, native_digits)
        return span.value

    restored = _TOKEN.sub(replace, text)
    if invented:
        restored = re.sub(r"[ \t]{2,}", " ", restored).strip()
    missing = tuple(span for index, span in enumerate(spans) if index not in used)
    return Restored(restored, missing, tuple(invented))


def _to_int(digits: str) -> int | None:
    try:
        return int("".join(str(unicodedata.digit(ch)) for ch in digits))
    except (TypeError, ValueError):
        return None


def to_native_digits(text: str, script: str) -> str:
    """ASCII digits to the script's own digits (Devanagari ०-९ ...); unchanged for scripts without them."""
    zero = DIGIT_ZERO.get(script)
    if zero is None:
        return text
    return text.translate({ord("0") + i: chr(zero + i) for i in range(10)})


def to_ascii_digits(text: str) -> str:
    """Any Unicode decimal digit to ASCII, so that numbers in different scripts compare equal."""
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in text)
