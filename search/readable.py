"""Results the reader can read.

A search ranks the courses in a language its reader can read (the query's own language, the languages the
reader reads and those the caller asked for, and English) above the others, which come after them as a fill
when too few readable courses are allowed. Within each group, relevance alone decides.

For a query in another language than English the multilingual encoder (E5) answers alone, and its cosines carry
a language offset: a Hindi query is nearer to any Hindi text than to English texts on the same topic, so an
unrelated Hindi course outranked the English course that answers the query. The multilingual route therefore
centres each course's cosine on the mean cosine of the courses written in its language (shrunk towards the
catalog's mean for a language with few courses), computed over the whole index so that a filter never changes
the order of the courses it allows. Measured on `data/eval/readable_queries.jsonl`: docs/search.md."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np

from embeddings import VectorIndex
from search.config import CourseFacts

ENGLISH = "en"
# A language with this many courses in the index has its own mean weighed half against the catalog's mean.
PRIOR_COURSES = 5.0
# A fill course's score sits at least this far below the last readable course's.
_BELOW = 1e-3
_RECENT = 4  # pools whose facts are kept (see _pool_facts)
_recent: list[_PoolFacts] = []

Ranking = list[tuple[str, float]]
Route = Callable[[Sequence[str], int, Collection[str] | None], list[Ranking]]
_DEFAULT_FACTS = CourseFacts()
_NONE = np.empty(0, dtype=np.int64)


def reader_languages(query_language: str, reads: Collection[str] = (), asked: Collection[str] = ()) -> frozenset[str]:
    """The languages a reader can read: the query's, the ones they read, the ones they asked for, and English."""
    return frozenset({query_language, ENGLISH, *reads, *asked})


def is_readable(facts: CourseFacts, languages: Collection[str]) -> bool:
    return any(language in languages for language in facts.languages)


def readable_first(
    run: Route,
    queries: Sequence[str],
    k: int,
    allowed: Collection[str] | None,
    *,
    readers: Sequence[frozenset[str]],
    facts: Mapping[str, CourseFacts],
) -> list[Ranking]:
    """`run`'s rankings with each query's readable courses first. A ranking that holds a course its reader
    cannot read is asked again among the readable allowed courses only, and the unreadable courses of the
    first answer fill it up to k, after every readable one. Queries with no such course cost one run."""
    rankings = run(queries, k, allowed)
    again: dict[frozenset[str], list[int]] = {}
    for i, ranking in enumerate(rankings):
        if any(not is_readable(facts.get(course, _DEFAULT_FACTS), readers[i]) for course, _ in ranking):
            again.setdefault(readers[i], []).append(i)
    for languages, chosen in again.items():
        candidates = facts.keys() if allowed is None else allowed
        pool = {c for c in candidates if is_readable(facts.get(c, _DEFAULT_FACTS), languages)}
        readable = run([queries[i] for i in chosen], k, pool) if pool else [[] for _ in chosen]
        for i, first in zip(chosen, readable, strict=True):
            others = [(c, s) for c, s in rankings[i] if not is_readable(facts.get(c, _DEFAULT_FACTS), languages)]
            rankings[i] = (first + _below(others, first))[:k]
    return rankings


def _below(others: Ranking, readable: Ranking) -> Ranking:
    """The fill's scores moved down by one constant, so that scores still fall down the whole list."""
    if not others or not readable:
        return others
    shift = min(0.0, readable[-1][1] - others[0][1] - _BELOW)
    return [(course, score + shift) for course, score in others]


class _PoolFacts:
    """What the multilingual route reads about every course of one pool, computed once per pool."""

    def __init__(self, pool: list[str], facts: Mapping[str, CourseFacts]) -> None:
        self.pool, self.facts = pool, facts
        self.languages = [facts.get(course, _DEFAULT_FACTS).languages for course in pool]
        # A course's texts are written in the first language it is offered in.
        first = np.array([(languages or [ENGLISH])[0] for languages in self.languages], dtype=object)
        self.groups = np.unique(first, return_inverse=True)[1].astype(np.int64).reshape(-1)
        self._readable: dict[frozenset[str], np.ndarray] = {}

    def readable(self, languages: frozenset[str]) -> np.ndarray:
        if languages not in self._readable:
            self._readable[languages] = np.fromiter(
                (any(code in languages for code in codes) for codes in self.languages), dtype=bool, count=len(self.pool)
            )
        return self._readable[languages]


def _pool_facts(pool: list[str], facts: Mapping[str, CourseFacts]) -> _PoolFacts:
    """The facts of one of the last pools seen, kept while the searcher keeps that pool and those facts (it
    makes a new pool list on any change of its courses; the kept references stop their identities being reused,
    and a filtered search's pool does not push out the whole catalog's)."""
    for known in _recent:
        if known.pool is pool and known.facts is facts:
            return known
    known = _PoolFacts(pool, facts)
    _recent.insert(0, known)
    del _recent[_RECENT:]
    return known


def _top(scores: np.ndarray, positions: np.ndarray, k: int) -> np.ndarray:
    """The positions of the k best scores, best first, ties by position."""
    if len(positions) > k:
        keep = np.argpartition(-scores[positions], k - 1)[:k]
        positions = positions[keep]
    return positions[np.lexsort((positions, -scores[positions]))]


def readable_masks(
    pool: list[str], facts: Mapping[str, CourseFacts], readers: Sequence[frozenset[str]]
) -> list[np.ndarray]:
    """For each query, which courses of `pool` its reader can read."""
    known = _pool_facts(pool, facts)
    return [known.readable(languages) for languages in readers]


def readable_candidates(scores: np.ndarray, readable: np.ndarray, depth: int, k: int) -> np.ndarray:
    """The hybrid's rerank candidates for one query: its `depth` best readable courses, and when fewer than k
    are readable, the best unreadable ones up to k."""
    first = _top(scores, np.flatnonzero(readable), depth)
    if len(first) >= k:
        return first
    return np.concatenate([first, _top(scores, np.flatnonzero(~readable), k - len(first))])


def readable_ranking(
    pool: list[str], candidates: np.ndarray, final: np.ndarray, readable: np.ndarray, *, k: int
) -> Ranking:
    """The k best candidates by `final`, readable ones first; the others' scores moved below theirs."""
    order = np.lexsort((candidates, -final, ~readable[candidates]))[:k]
    first = [(pool[candidates[j]], float(final[j])) for j in order if readable[candidates[j]]]
    others = [(pool[candidates[j]], float(final[j])) for j in order if not readable[candidates[j]]]
    return first + _below(others, first)


def centred_by_language(scores: np.ndarray, groups: np.ndarray, prior: float = PRIOR_COURSES) -> np.ndarray:
    """Scores (queries × courses) less the mean score of each course's language group, that mean shrunk
    towards the mean over all courses as if `prior` courses at the overall mean had joined the group."""
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    if scores.shape[1] == 0:
        return scores
    count = np.bincount(groups).astype(np.float64)
    overall = scores.mean(axis=1, keepdims=True)
    sums = np.stack([np.bincount(groups, weights=row, minlength=len(count)) for row in scores])
    means: np.ndarray = (sums + prior * overall) / (count + prior)
    centred: np.ndarray = scores - means[:, groups]
    return centred


def multilingual_ranking(
    index: VectorIndex,
    pool: list[str],
    rows: np.ndarray,
    facts: Mapping[str, CourseFacts],
    *,
    vectors: np.ndarray,
    k: int,
    allowed: Collection[str] | None,
    readers: Sequence[frozenset[str]] | None,
    centre: bool,
) -> list[Ranking]:
    """The multilingual route over every course of the index (`pool`, at `rows` of `index`): cosines, centred
    per language when `centre`, restricted to the allowed courses, readable ones first when `readers` is given
    (unreadable ones after, their scores moved below the last readable one)."""
    if k <= 0 or not pool:
        return [[] for _ in range(len(vectors))]
    known = _pool_facts(pool, facts)
    scores = index.scores_at(vectors, rows).astype(np.float64)
    if centre:
        scores = centred_by_language(scores, known.groups)
    usable = rows >= 0
    if allowed is not None:
        wanted = allowed if isinstance(allowed, set | frozenset) else set(allowed)
        usable &= np.fromiter((course in wanted for course in pool), dtype=bool, count=len(pool))
    results = []
    for row, query_scores in enumerate(scores):
        if readers is None:
            results.append([(pool[j], float(query_scores[j])) for j in _top(query_scores, np.flatnonzero(usable), k)])
            continue
        readable = known.readable(readers[row])
        first = [(pool[j], float(query_scores[j])) for j in _top(query_scores, np.flatnonzero(usable & readable), k)]
        rest = _top(query_scores, np.flatnonzero(usable & ~readable), k - len(first)) if len(first) < k else _NONE
        results.append(first + _below([(pool[j], float(query_scores[j])) for j in rest], first))
    return results
