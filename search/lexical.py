"""The lexical retriever: BM25 over the course passages, with English stopwords dropped and Snowball stems,
kept current course by course.

The scores are bm25s's defaults (Lucene's variant, k1 1.5, b 0.75; tests/test_lexical.py checks they equal
bm25s's own), but the index is our own. bm25s stores every (term, course) score precomputed, and each of those
depends on the whole corpus (the number of courses, their mean length, the term's document frequency): one
added course changes them all, so bm25s can only index everything again (0.13 s of tokenising, stemming and
counting at 2,400 courses, the largest part of applying one edit after the encoding). Here the corpus is kept as
counts (each course's term counts, each term's postings, the total length) that a change updates in proportion
to its own tokens, and a query computes the scores of its few terms from their postings when it is asked."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from functools import cache

import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"\w+")
_STOPWORDS = frozenset(STOPWORDS_EN)
K1 = 1.5
B = 0.75
# A passage without a single token still counts as a document of one (unmatchable) token, as it did in bm25s.
_NOTHING = "\0"


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
    """BM25 over one passage per course; `columns` maps each course to its column in a score vector.

    Columns are never reused: a removed course leaves a column that scores nothing, so that the columns a
    caller looked up stay valid for the courses still indexed. `copy` shares what updates never modify in place
    (each course's term counts) and copies a term's postings only when an update changes them."""

    def __init__(self, texts: Mapping[str, str] | None = None) -> None:
        self.identifiers: list[str | None] = []  # by column; None for a removed course
        self.columns: dict[str, int] = {}
        self._counts: list[Counter[str] | None] = []  # by column: the passage's term counts
        self._lengths = np.zeros(0, dtype=np.float64)  # by column: tokens in the passage (0 once removed)
        self._postings: dict[str, dict[int, int]] = {}  # term -> {column: count}
        self._owned: set[str] = set()  # terms whose postings belong to this index alone (not shared by a copy)
        self._total = 0
        if texts:
            identifiers = sorted(texts)
            self.upsert(identifiers, [texts[identifier] for identifier in identifiers])

    def __len__(self) -> int:
        return len(self.columns)

    def copy(self) -> LexicalIndex:
        copied = LexicalIndex()
        copied.identifiers, copied.columns = list(self.identifiers), dict(self.columns)
        copied._counts, copied._lengths = list(self._counts), self._lengths.copy()
        copied._postings, copied._total = dict(self._postings), self._total
        self._owned = set()  # shared from now on, by both
        return copied

    # --- keeping it current -------------------------------------------------------------------------------
    def upsert(self, identifiers: Sequence[str], texts: Sequence[str]) -> None:
        """Index these passages, replacing a course's earlier one (it keeps its column)."""
        self.remove([identifier for identifier in identifiers if identifier in self.columns], keep_columns=True)
        new = [identifier for identifier in identifiers if identifier not in self.columns]
        first = len(self.identifiers)
        self.identifiers.extend(new)
        self.columns.update((identifier, first + n) for n, identifier in enumerate(new))
        self._counts.extend([None] * len(new))
        self._lengths = np.concatenate([self._lengths, np.zeros(len(new))]) if new else self._lengths
        for identifier, text in zip(identifiers, texts, strict=True):
            column = self.columns[identifier]
            counts = Counter(tokenize(text) or [_NOTHING])
            self._counts[column] = counts
            length = sum(counts.values())
            self._lengths[column] = length
            self._total += length
            for term, count in counts.items():
                self._own(term)[column] = count

    def remove(self, identifiers: Collection[str], *, keep_columns: bool = False) -> int:
        """Drop these courses (unknown ones are ignored); returns how many were indexed."""
        removed = 0
        for identifier in identifiers:
            column = self.columns.get(identifier)
            counts = self._counts[column] if column is not None else None
            if column is None or counts is None:
                continue
            for term in counts:
                postings = self._own(term)
                del postings[column]
                if not postings:
                    del self._postings[term]
                    self._owned.discard(term)
            self._total -= int(self._lengths[column])
            self._lengths[column] = 0
            self._counts[column] = None
            if not keep_columns:
                del self.columns[identifier]
                self.identifiers[column] = None
            removed += 1
        return removed

    def _own(self, term: str) -> dict[int, int]:
        """The term's postings, copied first when they are shared with the index this one was copied from."""
        if term not in self._owned:
            self._postings[term] = dict(self._postings.get(term, {}))
            self._owned.add(term)
        return self._postings[term]

    # --- scoring --------------------------------------------------------------------------------------------
    def query_tokens(self, query: str) -> list[str]:
        """The query's tokens that occur in the indexed passages (others score nothing)."""
        return [token for token in tokenize(query) if token in self._postings]

    def all_scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 of every column for these tokens (a repeated token counts again, as in bm25s): Lucene's
        idf log(1 + (N - df + 0.5) / (df + 0.5)) times tf / (tf + k1 (1 - b + b length / mean length))."""
        scores = np.zeros(len(self.identifiers), dtype=np.float64)
        documents = len(self.columns)
        if not documents:
            return scores
        mean_length = self._total / documents
        for token in tokens:
            postings = self._postings.get(token)
            if not postings:
                continue
            columns = np.fromiter(postings.keys(), dtype=np.int64, count=len(postings))
            counts = np.fromiter(postings.values(), dtype=np.float64, count=len(postings))
            frequency = len(postings)
            idf = math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))
            lengths = self._lengths[columns]
            scores[columns] += idf * counts / (counts + K1 * ((1 - B) + B * lengths / mean_length))
        return scores

    def scores(self, queries: Sequence[str], columns: np.ndarray) -> np.ndarray:
        """(queries, len(columns)) BM25 scores of the courses at `columns`; 0 for a query without known words."""
        scores = np.zeros((len(queries), len(columns)), dtype=np.float32)
        for row, query in enumerate(queries):
            tokens = self.query_tokens(query)
            if tokens:
                scores[row] = self.all_scores(tokens)[columns]
        return scores

    def search(self, query: str, k: int, allowed: Collection[str] | None = None) -> list[tuple[str, float]]:
        """The best `k` courses with a positive score, best first (ties by identifier)."""
        tokens = self.query_tokens(query)
        if not tokens:
            return []
        scores = self.all_scores(tokens).astype(np.float32)
        live = np.fromiter(
            (i is not None and (allowed is None or i in allowed) for i in self.identifiers),
            dtype=bool,
            count=len(self.identifiers),
        )
        scores = np.where(live, scores, -np.inf)
        k = min(k, int((scores > 0).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted((-float(scores[j]), self.identifiers[j] or "") for j in top)
        return [(identifier, -negative) for negative, identifier in ranked]
