"""The hybrid search's arithmetic: putting signals on one scale, smoothing scores over each course's nearest
courses, a course's best sentence, and where a pool of courses sits in each index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embeddings import VectorIndex


@dataclass(frozen=True)
class PoolLayout:
    """Where the courses of one search pool sit in each index, looked up once: the hybrid scores every course of
    the pool, and identifier lookups per query would cost more than the arithmetic on a large catalog."""

    pool: list[str]
    rows: dict[str, np.ndarray]  # per vector index: each pool course's row
    bm25_columns: np.ndarray
    segment_rows: np.ndarray  # the pool's sentences, grouped by course, in pool order
    segment_starts: np.ndarray  # where each course's group starts in `segment_rows`
    with_segments: np.ndarray  # the pool positions of the courses that have sentences
    neighbours: np.ndarray  # (pool, stored neighbours): pool positions, -1 where outside the pool
    smoothing: bool  # whether `neighbours` was filled in


def standardised(scores: np.ndarray) -> np.ndarray:
    """Mean 0 and deviation 1 along the last axis (a constant row stays 0): makes signals of different scales
    addable."""
    scores = np.asarray(scores, dtype=np.float64)
    spread = scores.std(axis=-1, keepdims=True)
    return (scores - scores.mean(axis=-1, keepdims=True)) / np.where(spread > 1e-12, spread, 1.0)


def standardised_known(scores: np.ndarray) -> np.ndarray:
    """`standardised` over the finite values of a 1-d array; NaN (no evidence) becomes 0, the neutral score."""
    known = np.isfinite(scores)
    result = np.zeros(len(scores), dtype=np.float64)
    if known.any():
        result[known] = standardised(scores[known])
    return result


def neighbour_means(fused: np.ndarray, table: np.ndarray) -> np.ndarray:
    """For each pool course, the mean fused score of its nearest courses in the pool (`table` holds their pool
    positions, -1 for none); 0, the pool's mean, when none is in the pool."""
    present = table >= 0
    gathered = np.where(present, fused[:, np.where(present, table, 0)], 0.0)  # (queries, pool, neighbours)
    return gathered.sum(axis=2) / np.maximum(present.sum(axis=1), 1)


def best_sentence_scores(sentences: VectorIndex, vectors: np.ndarray, layout: PoolLayout) -> np.ndarray:
    """Each pool course's best sentence cosine; -1 (the lowest a cosine can be) for a course without sentences."""
    scores = np.full((len(vectors), len(layout.pool)), -1.0, dtype=np.float32)
    if len(layout.with_segments) == 0:
        return scores
    similarities = sentences.scores_at(vectors, layout.segment_rows)
    scores[:, layout.with_segments] = np.maximum.reduceat(similarities, layout.segment_starts, axis=1)
    return scores


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
