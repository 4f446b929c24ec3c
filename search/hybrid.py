"""The hybrid search's arithmetic: smoothing scores over each course's nearest courses, and where a pool of
courses sits in each index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embeddings import VectorIndex
from search.sentences import SentencePlacement


@dataclass(frozen=True)
class PoolLayout:
    """Where the courses of one search pool sit in each index, looked up once: the hybrid scores every course of
    the pool, and identifier lookups per query would cost more than the arithmetic on a large catalog."""

    pool: list[str]
    passage_rows: np.ndarray  # each pool course's row in the passage index
    multilingual_rows: np.ndarray | None  # ... in the multilingual index, when there is one
    bm25_columns: np.ndarray  # ... column in BM25's scores
    sentences: SentencePlacement | None  # the pool's sentences, when there is a sentence index
    neighbours: np.ndarray  # (pool, stored neighbours): pool positions, -1 where outside the pool
    smoothing: bool  # whether `neighbours` was filled in


def neighbour_means(fused: np.ndarray, table: np.ndarray) -> np.ndarray:
    """For each pool course, the mean fused score of its nearest courses in the pool (`table` holds their pool
    positions, -1 for none); 0, the pool's mean, when none is in the pool."""
    present = table >= 0
    gathered = np.where(present, fused[:, np.where(present, table, 0)], 0.0)  # (queries, pool, neighbours)
    means: np.ndarray = gathered.sum(axis=2) / np.maximum(present.sum(axis=1), 1)
    return means


def nearest_courses(index: VectorIndex, count: int) -> dict[str, list[str]]:
    """Each item's `count` nearest other items by inner product (exact for an exact index), nearest first."""
    identifiers = index.identifiers
    nearest: dict[str, list[str]] = {}
    for start in range(0, len(identifiers), 4096):
        some = identifiers[start : start + 4096]
        found = index.search(np.stack([index.vector(i) for i in some]), count + 1)
        for identifier, ranking in zip(some, found, strict=True):
            nearest[identifier] = [other for other, _ in ranking if other != identifier][:count]
    return nearest


def neighbour_table(pool: Sequence[str], nearest: dict[str, list[str]], width: int) -> np.ndarray:
    """(pool, width): the pool positions of each course's nearest courses that are in the pool, -1 for the rest."""
    column = {identifier: n for n, identifier in enumerate(pool)}
    table = np.full((len(pool), width), -1, dtype=np.int64)
    for n, identifier in enumerate(pool):
        near = [column[i] for i in nearest.get(identifier, ()) if i in column][:width]
        table[n, : len(near)] = near
    return table
