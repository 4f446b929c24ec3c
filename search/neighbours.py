"""Each course's nearest other courses by passage cosine, kept current by changes instead of recomputed.

Recomputing every course's neighbours costs a search of the whole catalog for every course (0.35 s at 2,400
courses on a busy 2-core machine), and one edit changes few lists: a course's list can only change when one of
its neighbours changed or left, or when a changed course now scores at least as high as its last neighbour (its
`floor`). Only those lists are searched again; every other list is exactly what a full computation gives."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import numpy as np

from embeddings import VectorIndex

# A changed course this close below a list's floor still counts as entering it: FAISS and numpy round the same
# inner product differently in the last bits, and a tie must not be missed.
_TIE = 1e-5
_CHUNK = 4096  # courses searched together


class NearestCourses:
    """`lists[i]`: the `count` nearest other courses of course i, most similar first; `floors[i]`: the score of
    its last one, or -inf while it has fewer than `count` (a catalog that small)."""

    def __init__(self, count: int, lists: dict[str, list[str]], floors: dict[str, float]) -> None:
        self.count = count
        self.lists = lists
        self.floors = floors

    @classmethod
    def compute(cls, index: VectorIndex, count: int) -> NearestCourses:
        nearest = cls(count, {}, {})
        nearest._search(index, index.identifiers)
        return nearest

    @classmethod
    def from_lists(cls, index: VectorIndex, lists: Mapping[str, Sequence[str]], count: int) -> NearestCourses:
        """Stored lists (an index saved with its neighbours), their floors scored again from the vectors."""
        copied = {identifier: list(near) for identifier, near in lists.items()}
        if set(copied) != set(index.identifiers) or any(other not in index for n in copied.values() for other in n):
            return cls.compute(index, count)  # not the lists of these vectors
        full = [identifier for identifier, near in copied.items() if len(near) >= count]
        floors = dict.fromkeys(copied, -np.inf)
        if full:
            own = index.vectors_[index.rows_of(full)]
            last = index.vectors_[index.rows_of([copied[identifier][count - 1] for identifier in full])]
            floors.update(zip(full, (own * last).sum(axis=1).tolist(), strict=True))
        return cls(count, copied, floors)

    def copy(self) -> NearestCourses:
        return NearestCourses(self.count, {i: list(near) for i, near in self.lists.items()}, dict(self.floors))

    def update(self, index: VectorIndex, touched: Collection[str]) -> None:
        """Bring the lists up to date after the courses in `touched` were added, edited or removed in `index`."""
        if not touched:
            return
        changed = [identifier for identifier in touched if identifier in index]
        for identifier in touched:
            self.lists.pop(identifier, None)
            self.floors.pop(identifier, None)
        affected = set(changed)
        affected.update(i for i, near in self.lists.items() if any(other in touched for other in near))
        affected.update(self._entered(index, changed))
        self._search(index, sorted(affected))

    def _entered(self, index: VectorIndex, changed: Sequence[str]) -> Iterable[str]:
        """The courses whose lists a changed course may now enter: it scores at least their floor."""
        others = list(self.lists)
        if not changed or not others:
            return []
        floors = np.fromiter((self.floors[i] for i in others), dtype=np.float64, count=len(others))
        vectors = index.vectors_[index.rows_of(changed)]
        scores = index.scores(vectors, others)  # (changed, others)
        entering = (scores >= floors[None, :] - _TIE).any(axis=0)
        return [others[n] for n in np.flatnonzero(entering)]

    def _search(self, index: VectorIndex, identifiers: Sequence[str]) -> None:
        for start in range(0, len(identifiers), _CHUNK):
            some = identifiers[start : start + _CHUNK]
            found = index.search(index.vectors_[index.rows_of(some)], self.count + 1)
            for identifier, ranking in zip(some, found, strict=True):
                others = [(other, score) for other, score in ranking if other != identifier][: self.count]
                self.lists[identifier] = [other for other, _ in others]
                self.floors[identifier] = others[-1][1] if len(others) >= self.count else -np.inf


def neighbour_table(pool: Sequence[str], nearest: Mapping[str, Sequence[str]], width: int) -> np.ndarray:
    """(pool, width): the pool positions of each course's nearest courses that are in the pool, nearest first,
    -1 for the rest: `search.hybrid.neighbour_table`'s result with one pass over the lists (it took 50 ms of each
    change's 2,400-course layout), the positions outside the pool moved to the end of each row."""
    column = {identifier: n for n, identifier in enumerate(pool)}
    stored = max((len(near) for near in nearest.values()), default=0)
    table = np.full((len(pool), max(stored, width)), -1, dtype=np.int64)
    for n, identifier in enumerate(pool):
        near = [column.get(other, -1) for other in nearest.get(identifier, ())]
        table[n, : len(near)] = near
    order = np.argsort(table < 0, axis=1, kind="stable")  # those in the pool first, in their order
    return np.take_along_axis(table, order, axis=1)[:, :width]
