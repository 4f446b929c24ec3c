"""The engine interface: translate a batch of segments from one language to another.

Machine translation engines get protected text (tokens in place of URLs, numbers ...) and must return one
translation per segment; the memory engine gets raw text and returns None where it has no match."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from translation.languages import TranslationLanguage
from translation.memory import MemoryMatch, TranslationMemory


class Engine(Protocol):
    name: str
    wants_protected_text: bool

    def translate(
        self, segments: Sequence[str], source: TranslationLanguage, target: TranslationLanguage
    ) -> list[str | None]: ...


class MemoryEngine:
    """Matches from the translation memory of approved translations: exact ones by default; fuzzy ones at
    or above `min_score` when asked (their score is reported so a reviewer knows to look)."""

    name = "memory"
    wants_protected_text = False

    def __init__(self, memory: TranslationMemory, min_score: float = 100.0) -> None:
        self.memory = memory
        self.min_score = min_score

    def translate(
        self, segments: Sequence[str], source: TranslationLanguage, target: TranslationLanguage
    ) -> list[str | None]:
        return [match.target if match else None for match in self.lookup(segments)]

    def lookup(self, segments: Sequence[str]) -> list[MemoryMatch | None]:
        results: list[MemoryMatch | None] = []
        for segment in segments:
            match = self.memory.lookup(segment)
            if match is None and self.min_score < 100:
                best = self.memory.matches(segment, limit=1, min_score=self.min_score)
                match = best[0] if best else None
            results.append(match)
        return results
