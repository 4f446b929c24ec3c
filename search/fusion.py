"""Fusing ranked lists from several retrievers: reciprocal rank fusion and weighted z-score fusion (the
normalisation itself lives in `search.normalise`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from search.normalise import Ranking, standardised_ranking


def reciprocal_rank_fusion(rankings: Sequence[Ranking], k: int = 60) -> list[tuple[str, float]]:
    """Cormack et al.'s RRF: each list adds 1 / (k + rank) to an item's score; scores themselves are ignored."""
    fused: dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, (identifier, _) in enumerate(ranking, start=1):
            fused[identifier] += 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def zscore_fusion(rankings: Mapping[str, Ranking], weights: Mapping[str, float]) -> list[tuple[str, float]]:
    """Standardise each retriever's scores over its candidates (mean 0, deviation 1), then add them, weighted.

    An item missing from one list gets that list's lowest standardised score, not zero: missing means
    "ranked below everything the retriever returned"."""
    fused: dict[str, float] = defaultdict(float)
    standardised = {name: standardised_ranking(ranking) for name, ranking in rankings.items() if ranking}
    everything = {identifier for scores in standardised.values() for identifier in scores}
    for name, scores in standardised.items():
        weight = weights.get(name, 1.0)
        floor = min(scores.values())
        for identifier in everything:
            fused[identifier] += weight * scores.get(identifier, floor)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
