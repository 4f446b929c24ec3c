"""The scoring function, vectorised over a chunk of learners and the whole catalog.

A course's score for a learner is

    gain = language × quality × Σ_gaps priority × coverage(course, gap) × ((1 − λ) + λ × need(gap))

where coverage comes from the `CoverageTable` (tag × level fit, or semantic match), `need` starts at 1 and shrinks
by (1 − coverage) each time a chosen course addresses the gap (xQuAD-style diversity across gaps, weight λ).
Top-k is picked greedily from a pool of the best-scoring courses. Completed and enrolled courses, courses over the
duration limit and courses that address no gap score 0 and are never returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse

from models import Course


@dataclass(frozen=True)
class RankingConfig:
    diversity: float = 0.5  # λ: 0 ranks by summed coverage alone, 1 only by coverage of still-open gaps
    pool: int = 100  # best courses per learner that the greedy top-k step considers
    first_language: float = 1.0  # available in the learner's first preferred language
    other_preferred_language: float = 0.9  # in another of their preferred languages
    unavailable_language: float = 0.25  # in none of them: still shown when nothing else addresses a gap
    quality_weight: float = 0.2  # share of the score that rating can move
    rating_prior: float = 3.5  # ratings are shrunk towards this mean ...
    rating_prior_count: int = 20  # ... as if this many ratings of it had been given
    max_duration_minutes: int | None = None  # longer courses are left out; unknown durations are kept
    min_relevance: float = 0.02  # a course must address the gaps at least this much to be a candidate


class CourseFeatures:
    """Per-course vectors the score needs besides coverage: quality, the duration limit and languages."""

    def __init__(
        self,
        courses: Sequence[Course],
        approved_translations: Mapping[str, frozenset[str]],
        config: RankingConfig,
    ) -> None:
        self.config = config
        self.native_languages_ = [frozenset(course.languages) for course in courses]
        self.translated_languages_ = [
            frozenset(approved_translations.get(course.identifier, ())) - native
            for course, native in zip(courses, self.native_languages_, strict=True)
        ]
        self.rating_ = np.array([shrunk_rating(course, config) for course in courses], dtype=np.float32)
        self.quality_ = (1 - config.quality_weight) + config.quality_weight * (self.rating_ - 1) / 4
        limit = config.max_duration_minutes
        self.within_duration_ = np.array(
            [limit is None or (c.duration_seconds or 0) <= limit * 60 for c in courses], dtype=bool
        )
        self.static_ = (self.quality_ * self.within_duration_).astype(np.float32)
        self._by_preference: dict[tuple[str, ...], np.ndarray] = {}
        self._by_language: dict[str, np.ndarray] | None = None

    def language_factor(self, preferred: Sequence[str]) -> np.ndarray:
        """One factor per course for a learner's preferred languages (in order); cached per preference list."""
        key = tuple(preferred)
        if key not in self._by_preference:
            factor = np.full(len(self.native_languages_), self.config.unavailable_language, dtype=np.float32)
            if key:
                factor[np.logical_or.reduce([self._available(language) for language in key])] = (
                    self.config.other_preferred_language
                )
                factor[self._available(key[0])] = self.config.first_language
            self._by_preference[key] = factor
        return self._by_preference[key]

    def _available(self, language: str) -> np.ndarray:
        """Which courses are offered in `language` or have an approved translation into it."""
        if self._by_language is None:
            columns: dict[str, list[int]] = {}
            for column, (native, translated) in enumerate(
                zip(self.native_languages_, self.translated_languages_, strict=True)
            ):
                for code in native | translated:
                    columns.setdefault(code, []).append(column)
            self._by_language = {}
            for code, found in columns.items():
                available = np.zeros(len(self.native_languages_), dtype=bool)
                available[found] = True
                self._by_language[code] = available
        none = np.zeros(len(self.native_languages_), dtype=bool)
        return self._by_language.get(language, none)

    def factors(self, preferred: Sequence[str]) -> np.ndarray:
        """Everything in the score that does not depend on gaps: language × quality × duration limit."""
        factors: np.ndarray = self.language_factor(preferred) * self.static_
        return factors

    def factor_table(self, preferences: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """One row of factors per distinct preference list, and each learner's row: learners share a handful of
        preference lists, so a chunk never holds a learners × courses copy of them."""
        rows: dict[tuple[str, ...], int] = {}
        preference = np.array([rows.setdefault(tuple(p), len(rows)) for p in preferences], dtype=np.int64)
        return np.stack([self.factors(p) for p in rows]), preference

    def available_in(self, column: int, language: str) -> Literal["native", "translated"] | None:
        """ "native", "translated" (approved translation of its metadata) or None."""
        if language in self.native_languages_[column]:
            return "native"
        return "translated" if language in self.translated_languages_[column] else None


def shrunk_rating(course: Course, config: RankingConfig) -> float:
    """A Bayesian average: few ratings say little, many say a lot."""
    if course.rating is None or course.rating_count == 0:
        return config.rating_prior
    weight = config.rating_prior_count
    return (course.rating * course.rating_count + config.rating_prior * weight) / (course.rating_count + weight)


# Below this many learners × courses a chunk's pools are cut from a dense array (measured faster at 2,400 courses
# and chunks of 2,048); above it, from the sparse product (at 24,000 courses the dense arrays reach 200 MB each).
DENSE_CELLS = 8_000_000


@dataclass(frozen=True)
class RankedChunk:
    columns: np.ndarray  # [learners, k] course columns, -1 where fewer than k courses address the gaps
    scores: np.ndarray  # [learners, k] the gain each course had when it was chosen


def rank_chunk(
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

    Each learner's pool is cut from a learners × courses array by argpartition while that array is small
    (`DENSE_CELLS`); for bigger catalogs, from the courses the learner's gaps touch (the sparse product), which
    gives the same pool: courses scoring 0 are never candidates, and where courses tie at the pool's edge the
    learner's whole row is argpartitioned as before, so that the tie breaks the same way.
    """
    learners = rows.shape[0]
    courses = coverage.shape[1]
    chosen = np.full((learners, k), -1, dtype=np.int64)
    gains = np.zeros((learners, k), dtype=np.float32)
    if courses == 0 or learners == 0:
        return RankedChunk(columns=chosen, scores=gains)
    cut = _dense_pools if learners * courses <= DENSE_CELLS else _sparse_pools
    pool, pool_relevance, valid = cut(
        coverage_sparse,
        rows,
        priorities,
        factor_table=factor_table,
        preference=preference,
        excluded=excluded,
        pool_size=min(config.pool, courses),
    )
    pool_factors = factor_table[preference[:, None], pool]
    candidate = valid & (pool_relevance >= config.min_relevance) & (pool_factors > 0)
    pool_coverage = coverage[rows[:, None, :], pool[:, :, None]]  # [learners, pool, gaps]
    need = np.ones(rows.shape, dtype=np.float32)
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


def _dense_pools(
    coverage_sparse: sparse.csr_matrix,
    rows: np.ndarray,
    priorities: np.ndarray,
    *,
    factor_table: np.ndarray,
    preference: np.ndarray,
    excluded: Sequence[Sequence[int]],
    pool_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pools by an argpartition of every learner's row of a learners × courses array (faster than
    `_sparse_pools` while that array is small)."""
    learners = rows.shape[0]
    courses = coverage_sparse.shape[1]
    relevance = _weights(rows, priorities, coverage_sparse.shape[0]) @ coverage_sparse
    relevance = relevance.toarray()
    flat = [(learner, c) for learner, columns in enumerate(excluded) for c in columns]
    if flat:
        relevance[tuple(np.asarray(flat, dtype=np.int64).T)] = 0.0
    scored = relevance * factor_table[preference]
    if pool_size < courses:
        pool = np.sort(np.argpartition(-scored, pool_size - 1, axis=1)[:, :pool_size], axis=1)
    else:
        pool = np.broadcast_to(np.arange(courses), (learners, courses))
    pool_relevance = np.take_along_axis(relevance, pool, axis=1)
    return pool, pool_relevance, np.ones(pool.shape, dtype=bool)


def _exclude(relevance: np.ndarray, column: np.ndarray, excluded: Sequence[Sequence[int]]) -> None:
    """Zero each learner's completed and enrolled courses (a few each: one comparison per excluded course)."""
    most = max((len(columns) for columns in excluded), default=0)
    if most == 0:
        return
    table = np.full((len(excluded), most), -1, dtype=np.int64)
    for learner, columns in enumerate(excluded):
        table[learner, : len(columns)] = columns
    hit = np.zeros(column.shape, dtype=bool)
    for e in range(most):
        hit |= column == table[:, e : e + 1]
    relevance[hit] = 0.0


def _weights(rows: np.ndarray, priorities: np.ndarray, pairs: int) -> sparse.csr_matrix:
    """[learners, pairs + 1]: each learner's gap priorities at their coverage rows."""
    learners, width = rows.shape
    return sparse.csr_matrix(
        (priorities.ravel(), rows.ravel(), np.arange(0, learners * width + 1, width)), shape=(learners, pairs)
    )


def _sparse_pools(
    coverage_sparse: sparse.csr_matrix,
    rows: np.ndarray,
    priorities: np.ndarray,
    *,
    factor_table: np.ndarray,
    preference: np.ndarray,
    excluded: Sequence[Sequence[int]],
    pool_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each learner's pool: its best-scoring `pool_size` courses, in column order ([learners, width] columns,
    their relevance, and which slots hold one; a learner with fewer courses scoring above 0 has fewer)."""
    learners = rows.shape[0]
    courses = coverage_sparse.shape[1]
    # Σ_gaps priority × coverage as one sparse product: a learner's gaps touch a few hundred courses each.
    weights = _weights(rows, priorities, coverage_sparse.shape[0])
    product = sparse.csr_matrix(weights @ coverage_sparse)  # each row's columns in no particular order
    counts = np.diff(product.indptr)
    # Each learner's touched courses side by side, [learners, most touched]: row-major order is CSR order.
    filled = np.arange(max(1, int(counts.max(initial=0))))[None, :] < counts[:, None]
    relevance = np.zeros(filled.shape, dtype=np.float32)
    relevance[filled] = product.data
    column = np.zeros(filled.shape, dtype=np.int64)
    column[filled] = product.indices
    _exclude(relevance, column, excluded)
    scored = relevance * factor_table.ravel()[preference[:, None] * courses + column]
    positive = scored > 0
    keep = positive
    ties = np.zeros(learners, dtype=bool)
    over = positive.sum(axis=1) > pool_size
    if over.any():
        best_first = np.where(positive[over], -scored[over], np.inf)
        edges = -np.partition(best_first, (pool_size - 1, pool_size), axis=1)[:, [pool_size - 1, pool_size]]
        ties[over] = edges[:, 0] == edges[:, 1]
        floor = np.zeros(learners, dtype=np.float32)
        floor[over] = edges[:, 0]
        keep = positive & (scored >= floor[:, None]) & ~ties[:, None]
    owner, place = np.nonzero(keep)
    kept = np.bincount(owner, minlength=learners)
    size = max(1, int(kept.max(initial=0)), pool_size if ties.any() else 0)
    slot = np.arange(len(owner)) - (np.cumsum(kept) - kept)[owner]
    pool = np.full((learners, size), courses, dtype=np.int64)  # `courses`: an empty slot, sorted last
    pool[owner, slot] = column[owner, place]
    by_column = np.argsort(pool, axis=1)  # the pool's order: by column
    pool = np.take_along_axis(pool, by_column, axis=1)
    pool_relevance = np.zeros((learners, size), dtype=np.float32)
    pool_relevance[owner, slot] = relevance[owner, place]
    pool_relevance = np.take_along_axis(pool_relevance, by_column, axis=1)
    valid = pool < courses
    pool[~valid] = 0
    if ties.any():
        tied = np.flatnonzero(ties)
        dense = product[tied].toarray()  # the learners' relevance over every course, as it always was
        for row, learner in enumerate(tied.tolist()):
            dense[row, list(excluded[learner])] = 0.0
        cut = np.argpartition(-(dense * factor_table[preference[tied]]), pool_size - 1, axis=1)[:, :pool_size]
        cut = np.sort(cut, axis=1)
        pool[tied, :pool_size] = cut
        pool_relevance[tied, :pool_size] = np.take_along_axis(dense, cut, axis=1)
        valid[tied, :pool_size] = True
    return pool, pool_relevance, valid
