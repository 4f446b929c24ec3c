"""The translation memory: exact and fuzzy (rapidfuzz) matches of English texts to approved translations.

`TranslationMemory` is an in-process index for one language pair; `store.load_memory` fills it from the
database. It is built first and then only read, so many threads may look things up at once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils


def normalise(text: str) -> str:
    """The key two texts share when they differ only in case and spacing."""
    return " ".join(text.split()).casefold()


def source_key(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()


@dataclass(frozen=True)
class MemoryMatch:
    source: str
    target: str
    score: float  # 100 for an exact match (ignoring case and spacing)
    warning: str | None = None  # why a reviewer should look twice (it was approved over an error flag)


class TranslationMemory:
    def __init__(self, entries: Iterable[tuple[str, str]] = (), warnings: Mapping[str, str] | None = None) -> None:
        """`entries` are (source, target) pairs; `warnings` maps some sources to a warning their matches carry."""
        self._index: dict[str, int] = {}
        self._sources: list[str] = []
        self._targets: list[str] = []
        self._keys: list[str] = []
        self._warnings: dict[int, str] = {}
        for source, target in entries:
            self.add(source, target, (warnings or {}).get(source))

    def __len__(self) -> int:
        return len(self._sources)

    def add(self, source: str, target: str, warning: str | None = None) -> None:
        key = normalise(source)
        position = self._index.get(key)
        if position is None:
            position = self._index[key] = len(self._sources)
            self._sources.append(source)
            self._targets.append(target)
            self._keys.append(utils.default_process(source))
        else:
            self._targets[position] = target  # the newest approval wins
        if warning:
            self._warnings[position] = warning
        else:
            self._warnings.pop(position, None)

    def _match(self, position: int, score: float) -> MemoryMatch:
        return MemoryMatch(self._sources[position], self._targets[position], score, self._warnings.get(position))

    def lookup(self, text: str) -> MemoryMatch | None:
        """The exact match, if any."""
        position = self._index.get(normalise(text))
        if position is None:
            return None
        return self._match(position, 100.0)

    def matches(self, text: str, limit: int = 3, min_score: float = 75.0) -> list[MemoryMatch]:
        """The best matches at or above `min_score` (rapidfuzz ratio, 0–100), best first."""
        exact = self.lookup(text)
        found = process.extract(
            utils.default_process(text), self._keys, scorer=fuzz.ratio, limit=limit, score_cutoff=min_score
        )
        matches = [self._match(i, round(score, 1)) for _, score, i in found]
        if exact is not None:
            matches = [exact, *(m for m in matches if normalise(m.source) != normalise(exact.source))][:limit]
        return matches
