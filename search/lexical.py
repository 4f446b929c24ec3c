"""The lexical retriever: BM25 (bm25s) over the course passages, with English stopwords dropped and Snowball
stems."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from functools import cache

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"\w+")
_STOPWORDS = frozenset(STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    """BM25's tokens: lower-cased words, English stopwords dropped, Snowball-stemmed so that "programming" meets
    "program" (+0.03 nDCG@10 for BM25 on the external benchmark: docs/search.md)."""
    stems: list[str] = _stemmer().stemWords(
        [token for token in _TOKEN.findall(text.casefold()) if token not in _STOPWORDS]
    )
    return stems


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


class LexicalIndex:
    """BM25 over one passage per course; `columns` maps each course to its column in a score vector."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.identifiers = sorted(texts)
        self.columns = {identifier: n for n, identifier in enumerate(self.identifiers)}
        self.bm25 = bm25s.BM25()
        if self.identifiers:  # bm25s cannot index nothing (the last course of a catalog was removed)
            # A passage without a single token still needs a document, or its column would shift the others.
            self.bm25.index([tokenize(texts[i]) or ["\0"] for i in self.identifiers], show_progress=False)

    def query_tokens(self, query: str) -> list[str]:
        """The query's tokens that occur in the indexed passages (bm25s refuses unknown ones)."""
        known = getattr(self.bm25, "vocab_dict", None) or {}
        return [token for token in tokenize(query) if token in known]

    def scores(self, queries: Sequence[str], columns: np.ndarray) -> np.ndarray:
        """(queries, len(columns)) BM25 scores of the courses at `columns`; 0 for a query without known words."""
        scores = np.zeros((len(queries), len(columns)), dtype=np.float32)
        for row, query in enumerate(queries):
            tokens = self.query_tokens(query)
            if tokens:
                scores[row] = self.bm25.get_scores(tokens)[columns]
        return scores

    def search(self, query: str, k: int, allowed: Collection[str] | None = None) -> list[tuple[str, float]]:
        """The best `k` courses with a positive score, best first (ties by column)."""
        tokens = self.query_tokens(query)
        if not tokens:
            return []
        scores = self.bm25.get_scores(tokens)
        if allowed is not None:
            mask = np.fromiter((i in allowed for i in self.identifiers), dtype=bool, count=len(self.identifiers))
            scores = np.where(mask, scores, -np.inf)
        k = min(k, int(np.isfinite(scores).sum()), int((scores > 0).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.identifiers[j], float(scores[j])) for j in top]
