"""The hybrid search's arithmetic on small hand-made numbers: one scale for all signals, smoothing over nearest
courses inside the search pool, and a course's best sentence."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings import VectorIndex
from search.hybrid import nearest_courses, neighbour_means, neighbour_table
from search.normalise import standardised, standardised_known, standardised_ranking
from search.sentences import SentenceIndex


def test_standardising_puts_each_row_on_mean_zero_and_unit_spread_and_leaves_a_constant_row_at_zero():
    rows = standardised(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    assert rows[0] == pytest.approx([-1.2247, 0.0, 1.2247], abs=1e-4)
    assert not rows[1].any()


def test_a_candidate_without_evidence_is_neutral_not_last():
    scores = standardised_known(np.array([0.2, np.nan, 0.6]))
    assert scores.tolist() == pytest.approx([-1.0, 0.0, 1.0])
    assert not standardised_known(np.array([np.nan, np.nan])).any()


def test_a_course_gains_the_mean_score_of_its_neighbours_that_are_in_the_pool():
    pool = ["a", "b", "c", "d"]
    nearest = {"a": ["b", "x"], "b": ["a", "c"], "c": ["x"], "d": ["c", "a"]}  # "x" is outside the pool
    table = neighbour_table(pool, nearest, 2)
    assert table.tolist() == [[1, -1], [0, 2], [-1, -1], [2, 0]]
    fused = np.array([[3.0, 1.0, -2.0, 0.0]])
    assert neighbour_means(fused, table).tolist() == [[1.0, 0.5, 0.0, 0.5]]


def test_nearest_courses_are_the_most_similar_others_first():
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.6, 0.8]], dtype=np.float32)
    index = VectorIndex(2).build(["a", "b", "c", "d"], vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    assert nearest_courses(index, 2) == {"a": ["b", "d"], "b": ["a", "d"], "c": ["d", "b"], "d": ["c", "b"]}


def test_a_course_scores_its_best_sentence_and_one_without_sentences_the_lowest_cosine():
    sentences = SentenceIndex(VectorIndex(2))
    vectors = {"A first.": [1, 0], "A second.": [0, 1], "B only.": [0.6, 0.8]}
    encode = lambda texts: np.array([vectors[text] for text in texts], dtype=np.float32)  # noqa: E731
    sentences.upsert(["a", "b"], ["A first. A second.", "B only."], encode)
    assert sentences.of("a") == ["a\t0", "a\t1"] and len(sentences) == 3
    pool = ["a", "b", "c"]
    scores = sentences.best_scores(np.array([[0.0, 1.0]], np.float32), sentences.placement(pool), len(pool))
    assert scores.tolist() == [[1.0, pytest.approx(0.8), -1.0]]
    sentences.remove(["a"])
    assert sentences.of("a") == [] and len(sentences) == 1


def test_a_ranked_list_is_standardised_like_an_array():
    ranking = [("a", 3.0), ("b", 1.0), ("c", 2.0)]
    assert standardised_ranking(ranking) == pytest.approx(
        dict(zip("abc", standardised(np.array([3.0, 1.0, 2.0])), strict=True))
    )


def test_a_row_equal_but_for_float_rounding_counts_as_constant():
    # The same cosine, computed along two paths, differs in its last float32 digit: no signal in that.
    noisy = np.array([[0.57850933, 0.5785093, 0.5785093, 0.5785093]], dtype=np.float32)
    assert not standardised(noisy).any()
