"""The ranking's inner loop as it was before the batch engine (a dense learners × courses array and argpartition
over every course): the reference that `tests/test_batch_engine.py` holds `ranking.rank_chunk` to, exactly, and
that `bench/recommend_batch.py` runs today's batch path with."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from recommender.ranking import RankedChunk, RankingConfig


def dense_rank_chunk(
    coverage: np.ndarray,
    coverage_sparse: sparse.csr_matrix,
    rows: np.ndarray,
    priorities: np.ndarray,
    *,
    factor_table: np.ndarray,
    preference: np.ndarray,
    excluded: Sequence[Sequence[int]],
    k: int,
    config: RankingConfig,
) -> RankedChunk:
    """Top-k courses for each learner of a chunk; every learner's result depends on their own row only.

    coverage: [pairs + 1, courses] from `CoverageTable.matrix_` (and the same as CSR); rows / priorities:
    [learners, gaps], padding pointing at the all-zero last row with priority 0; factor_table: [preference lists,
    courses] from `CourseFeatures.factors`, preference: each learner's row in it; excluded: course columns.
    """
    learners, width = rows.shape
    courses = coverage.shape[1]
    # Σ_gaps priority × coverage as one sparse product: a learner's gaps touch a few dozen courses each.
    weights = sparse.csr_matrix(
        (priorities.ravel(), rows.ravel(), np.arange(0, learners * width + 1, width)),
        shape=(learners, coverage.shape[0]),
    )
    relevance = (weights @ coverage_sparse).toarray()
    for learner, columns in enumerate(excluded):
        relevance[learner, list(columns)] = 0.0
    scored = relevance.copy()
    for row in np.unique(preference):
        members = preference == row
        scored[members] *= factor_table[row]
    pool_size = min(config.pool, courses)
    if pool_size < courses:
        pool = np.sort(np.argpartition(-scored, pool_size - 1, axis=1)[:, :pool_size], axis=1)
    else:
        pool = np.broadcast_to(np.arange(courses), (learners, courses))
    take = np.arange(learners)[:, None]
    pool_factors = factor_table[preference[:, None], pool]
    candidate = (relevance[take, pool] >= config.min_relevance) & (pool_factors > 0)
    pool_coverage = coverage[rows[:, None, :], pool[:, :, None]]  # [learners, pool, gaps]
    need = np.ones(rows.shape, dtype=np.float32)
    chosen = np.full((learners, k), -1, dtype=np.int64)
    gains = np.zeros((learners, k), dtype=np.float32)
    everyone = np.arange(learners)
    for step in range(k):
        weight = priorities * ((1 - config.diversity) + config.diversity * need)
        # einsum sums each learner's gaps in the same order whatever the chunk; a batched matmul did not.
        gain = pool_factors * np.einsum("bmg,bg->bm", pool_coverage, weight)
        gain = np.where(candidate, gain, -1.0)
        best = np.argmax(gain, axis=1)
        best_gain = gain[everyone, best]
        found = best_gain > 0
        if not found.any():
            break
        chosen[found, step] = pool[everyone[found], best[found]]
        gains[found, step] = best_gain[found]
        need[found] *= 1 - pool_coverage[everyone[found], best[found]]
        candidate[everyone, best] = False
    return RankedChunk(columns=chosen, scores=gains)
