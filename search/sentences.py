"""The best-sentence index: the English encoder's vector of every sentence of every course passage, and which
sentences belong to which course."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from embeddings import VectorIndex
from search.passages import passage_segments

# A sentence's identifier in the index: the course's, this separator, its position in the passage.
SEPARATOR = "\t"
Encode = Callable[[list[str]], np.ndarray]


def segments_of(texts: Sequence[str]) -> list[str]:
    """Every sentence of these passages, in order: what the index holds for them."""
    return [segment for text in texts for segment in passage_segments(text)]


def course_of(sentence: str) -> str:
    return sentence.split(SEPARATOR, 1)[0]


@dataclass(frozen=True)
class SentencePlacement:
    """Where the sentences of a pool of courses sit in the index, grouped by course in pool order."""

    rows: np.ndarray  # the pool's sentence rows
    starts: np.ndarray  # where each course's group starts in `rows`
    owners: np.ndarray  # the pool positions of the courses that have sentences


class SentenceIndex:
    def __init__(self, vectors: VectorIndex) -> None:
        self.vectors = vectors
        self.by_course: dict[str, list[str]] = {}
        for sentence in vectors.identifiers:
            self.by_course.setdefault(course_of(sentence), []).append(sentence)

    def __len__(self) -> int:
        return len(self.vectors)

    def copy(self) -> SentenceIndex:
        """An independent copy (updates replace a course's list of sentences, never change one in place)."""
        copied = SentenceIndex(VectorIndex(self.vectors.dimension))
        copied.vectors, copied.by_course = self.vectors.copy(), dict(self.by_course)
        return copied

    def of(self, course: str) -> list[str]:
        return list(self.by_course.get(course, ()))

    def upsert(self, identifiers: Sequence[str], texts: Sequence[str], encode: Encode) -> None:
        """Replace the sentences of these courses by those of their new passages."""
        self.upsert_encoded(identifiers, texts, encode(segments_of(texts)))

    def upsert_encoded(self, identifiers: Sequence[str], texts: Sequence[str], vectors: np.ndarray) -> None:
        """`upsert` with the vectors of `segments_of(texts)` already encoded (in order)."""
        self.remove(identifiers)
        names = [
            f"{identifier}{SEPARATOR}{n}"
            for identifier, text in zip(identifiers, texts, strict=True)
            for n in range(len(passage_segments(text)))
        ]
        if len(names) != len(vectors):
            raise ValueError(f"{len(names)} sentences but {len(vectors)} vectors")
        if not names:
            return
        self.vectors.upsert(names, vectors)
        for name in names:
            self.by_course.setdefault(course_of(name), []).append(name)

    def remove(self, identifiers: Collection[str]) -> None:
        self.vectors.remove([sentence for identifier in identifiers for sentence in self.by_course.pop(identifier, [])])

    def placement(self, pool: Sequence[str]) -> SentencePlacement:
        owners = [(n, self.by_course[i]) for n, i in enumerate(pool) if self.by_course.get(i)]
        sentences = [sentence for _, own in owners for sentence in own]
        return SentencePlacement(
            rows=self.vectors.rows_of(sentences) if sentences else np.zeros(0, dtype=np.int64),
            starts=np.cumsum([0] + [len(own) for _, own in owners[:-1]]).astype(np.int64),
            owners=np.array([n for n, _ in owners], dtype=np.int64),
        )

    def best_scores(self, queries: np.ndarray, placement: SentencePlacement, pool_size: int) -> np.ndarray:
        """(queries, pool) best sentence cosine of each pool course; -1 (the lowest a cosine can be) for a course
        without sentences."""
        scores = np.full((len(queries), pool_size), -1.0, dtype=np.float32)
        if len(placement.owners) == 0:
            return scores
        similarities = self.vectors.scores_at(queries, placement.rows)
        scores[:, placement.owners] = np.maximum.reduceat(similarities, placement.starts, axis=1)
        return scores
