"""Putting scores of different retrievers on one scale (kept apart from fusing them, as ranx does): the one
z-score normalisation every fusion and the hybrid use."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Ranking = Sequence[tuple[str, float]]


# Below this deviation a row counts as constant. Scores arrive as float32 (about 7 significant digits): a row
# of equal cosines computed along different paths differs by ~1e-8, and dividing by that spread would blow
# rounding noise up into a full-weight signal.
CONSTANT_BELOW = 1e-6


def standardised(scores: np.ndarray) -> np.ndarray:
    """Mean 0 and deviation 1 along the last axis (a constant row stays 0): makes signals of different scales
    addable."""
    scores = np.asarray(scores, dtype=np.float64)
    spread = scores.std(axis=-1, keepdims=True)
    centred = scores - scores.mean(axis=-1, keepdims=True)
    constant = spread <= CONSTANT_BELOW
    result: np.ndarray = np.where(constant, 0.0, centred / np.where(constant, 1.0, spread))
    return result


def standardised_known(scores: np.ndarray) -> np.ndarray:
    """`standardised` over the finite values of a 1-d array; NaN (no evidence) becomes 0, the neutral score."""
    known = np.isfinite(scores)
    result = np.zeros(len(scores), dtype=np.float64)
    if known.any():
        result[known] = standardised(scores[known])
    return result


def standardised_ranking(ranking: Ranking) -> dict[str, float]:
    """A ranked list's scores, standardised over the list itself, by identifier."""
    values = standardised(np.array([score for _, score in ranking], dtype=np.float64))
    return {identifier: float(value) for (identifier, _), value in zip(ranking, values, strict=True)}
