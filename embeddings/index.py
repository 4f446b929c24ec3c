"""A FAISS vector index keyed by string identifiers: exact inner product on unit vectors for catalogs up to
~100k items, an IVF index above that; add, update and remove single items; filtered search without recall loss."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

import faiss
import numpy as np

from embeddings.state import read_choice, read_identifiers, read_int
from models import InvalidInputError

IndexKind = Literal["auto", "flat", "ivf"]
INDEX_KINDS: tuple[IndexKind, ...] = ("auto", "flat", "ivf")
EXACT_UP_TO = 100_000
# Below this many allowed items a filtered search scores them all exactly: cheaper than any approximate path.
EXACT_FILTER_UP_TO = 20_000


class VectorIndex:
    """Unit vectors by identifier. Scores are inner products (= cosine similarity for unit vectors).

    Rows are never reused: removing an item drops it from FAISS and leaves a hole in `vectors_`, so that
    FAISS ids (= row numbers) stay stable across updates. A rebuild starts dense again."""

    def __init__(self, dimension: int, kind: IndexKind = "auto", nprobe: int = 32) -> None:
        if dimension <= 0:
            raise ValueError("dimension must be positive")
        self.dimension = dimension
        self.kind = kind
        self.nprobe = nprobe
        self.vectors_ = np.zeros((0, dimension), dtype=np.float32)
        self.identifiers_: list[str | None] = []
        self.rows_: dict[str, int] = {}
        self.faiss_: faiss.Index | None = None
        self.kind_: Literal["flat", "ivf"] = "flat"

    def __len__(self) -> int:
        return len(self.rows_)

    def __contains__(self, identifier: object) -> bool:
        return identifier in self.rows_

    @property
    def identifiers(self) -> list[str]:
        return [identifier for identifier in self.identifiers_ if identifier is not None]

    def build(self, identifiers: Sequence[str], vectors: np.ndarray) -> VectorIndex:
        """Replace the contents with these items; chooses the FAISS index type for their number."""
        vectors = self._checked(identifiers, vectors)
        if len(set(identifiers)) != len(identifiers):
            raise ValueError("identifiers must be unique")
        self.vectors_ = vectors.copy()
        self.identifiers_ = list(identifiers)
        self.rows_ = {identifier: row for row, identifier in enumerate(identifiers)}
        self.kind_ = self._resolve_kind(len(identifiers))
        self.faiss_ = self._new_faiss(vectors)
        self.faiss_.add_with_ids(vectors, np.arange(len(identifiers), dtype=np.int64))
        return self

    def upsert(self, identifiers: Sequence[str], vectors: np.ndarray) -> None:
        """Add new items and replace the vectors of existing ones."""
        vectors = self._checked(identifiers, vectors)
        if self.faiss_ is None:
            self.build(identifiers, vectors)
            return
        self.remove([identifier for identifier in identifiers if identifier in self.rows_])
        first = len(self.identifiers_)
        rows = np.arange(first, first + len(identifiers), dtype=np.int64)
        self._reserve(first + len(identifiers))
        self.vectors_[first : first + len(identifiers)] = vectors
        self.identifiers_.extend(identifiers)
        self.rows_.update({identifier: int(row) for identifier, row in zip(identifiers, rows, strict=True)})
        self.faiss_.add_with_ids(vectors, rows)

    def remove(self, identifiers: Collection[str]) -> int:
        """Drop these items; unknown identifiers are ignored. Returns how many were removed."""
        rows = [self.rows_.pop(identifier) for identifier in identifiers if identifier in self.rows_]
        if rows and self.faiss_ is not None:
            self.faiss_.remove_ids(faiss.IDSelectorBatch(np.asarray(rows, dtype=np.int64)))
            for row in rows:
                self.identifiers_[row] = None
                self.vectors_[row] = 0.0
        return len(rows)

    def _reserve(self, rows: int) -> None:
        """Room for `rows` vectors, grown by a quarter at a time: single updates do not copy the whole matrix."""
        if rows > len(self.vectors_):
            size = max(rows, len(self.vectors_) + max(1024, len(self.vectors_) // 4))
            grown = np.zeros((size, self.dimension), dtype=np.float32)
            grown[: len(self.identifiers_)] = self.vectors_[: len(self.identifiers_)]
            self.vectors_ = grown

    def copy(self) -> VectorIndex:
        """An independent copy, with room to append: updating it leaves this index as it is. One copy of the
        vectors (with the spare rows `_reserve` would add) and a clone of the FAISS index, instead of adding
        every vector to a new one."""
        copied = VectorIndex(self.dimension, kind=self.kind, nprobe=self.nprobe)
        used = len(self.identifiers_)
        copied.vectors_ = np.zeros((used + max(1024, used // 4), self.dimension), dtype=np.float32)
        copied.vectors_[:used] = self.vectors_[:used]
        copied.identifiers_ = list(self.identifiers_)
        copied.rows_ = dict(self.rows_)
        copied.kind_ = self.kind_
        copied.faiss_ = faiss.clone_index(self.faiss_) if self.faiss_ is not None else None
        return copied

    def vector(self, identifier: str) -> np.ndarray:
        return np.asarray(self.vectors_[self.rows_[identifier]])

    def search(
        self, queries: np.ndarray, k: int, allowed: Collection[str] | None = None
    ) -> list[list[tuple[str, float]]]:
        """The k best items for each query row, best first. `allowed` restricts the candidates; a restricted
        search is exact whenever the allowed set is small, and never returns an item outside it."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.dimension:
            raise ValueError(f"query dimension {queries.shape[1]} does not match the index ({self.dimension})")
        if self.faiss_ is None or not self.rows_ or k <= 0:
            return [[] for _ in queries]
        if allowed is not None:
            rows = np.fromiter((self.rows_[i] for i in allowed if i in self.rows_), dtype=np.int64)
            if len(rows) == 0:
                return [[] for _ in queries]
            if len(rows) <= EXACT_FILTER_UP_TO or self.kind_ == "flat":
                return self._exact_subset(queries, np.sort(rows), k)
            params = self._ivf_parameters(faiss.IDSelectorBatch(rows))
            scores, found = self.faiss_.search(queries, min(k, len(rows)), params=params)
        else:
            scores, found = self._search_all(queries, min(k, len(self.rows_)))
        return [self._pairs(s, f) for s, f in zip(scores, found, strict=True)]

    def scores(self, queries: np.ndarray, identifiers: Sequence[str]) -> np.ndarray:
        """Exact inner products of each query with each of these items, whatever the FAISS index type: an array
        (queries, items), 0 for an identifier not in the index. Hybrid search standardises these per query."""
        return self.scores_at(queries, self.rows_of(identifiers))

    def rows_of(self, identifiers: Sequence[str]) -> np.ndarray:
        """The items' rows (-1 for an unknown identifier), valid until the next `build`, `upsert` or `remove`:
        a caller that scores the same items often keeps these instead of looking identifiers up each time."""
        return np.fromiter((self.rows_.get(i, -1) for i in identifiers), dtype=np.int64, count=len(identifiers))

    def scores_at(self, queries: np.ndarray, rows: np.ndarray) -> np.ndarray:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        scores = np.zeros((len(queries), len(rows)), dtype=np.float32)
        known = rows >= 0
        live = self.vectors_[: len(self.identifiers_)]
        if not known.any():
            return scores
        if known.sum() * 4 < len(live):
            scores[:, known] = queries @ live[rows[known]].T
        else:  # most of the index: one product with the whole matrix is cheaper than copying the rows out
            scores[:, known] = (queries @ live.T)[:, rows[known]]
        return scores

    def _search_all(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        assert self.faiss_ is not None
        if self.kind_ == "ivf":
            return self.faiss_.search(queries, k, params=self._ivf_parameters())
        return self.faiss_.search(queries, k)

    def _exact_subset(self, queries: np.ndarray, rows: np.ndarray, k: int) -> list[list[tuple[str, float]]]:
        scores = queries @ self.vectors_[rows].T
        k = min(k, len(rows))
        results = []
        for row_scores in scores:
            top = np.argpartition(-row_scores, k - 1)[:k]
            top = top[np.argsort(-row_scores[top], kind="stable")]
            results.append([(self.identifiers_[rows[j]] or "", float(row_scores[j])) for j in top])
        return results

    def _pairs(self, scores: np.ndarray, found: np.ndarray) -> list[tuple[str, float]]:
        pairs = []
        for score, row in zip(scores, found, strict=True):
            identifier = self.identifiers_[row] if row >= 0 else None
            if identifier is not None:
                pairs.append((identifier, float(score)))
        return pairs

    def _ivf_parameters(self, selector: faiss.IDSelector | None = None) -> faiss.SearchParameters:
        assert isinstance(self.faiss_, faiss.IndexIVF)
        # Set attribute by attribute (FAISS's wrapper keeps the selector alive either way; its stubs lack kwargs).
        parameters = faiss.SearchParametersIVF()
        parameters.nprobe = min(self.nprobe, self.faiss_.nlist)
        if selector is not None:
            parameters.sel = selector
        return parameters

    def _resolve_kind(self, count: int) -> Literal["flat", "ivf"]:
        if self.kind == "auto":
            return "flat" if count <= EXACT_UP_TO else "ivf"
        if self.kind == "ivf" and count < 1000:
            raise InvalidInputError(f"an IVF index needs at least 1000 items to train on, got {count}: use kind 'flat'")
        return self.kind

    def _new_faiss(self, training: np.ndarray) -> faiss.Index:
        if self.kind_ == "flat":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))
        # About sqrt(n) lists, each trained on at least ~39 points: with nprobe 32 a query scans ~10% of a 100k
        # catalog, and training is 4x cheaper than with FAISS's upper suggestion of 4 * sqrt(n) lists.
        nlist = max(16, min(int(np.sqrt(len(training))), len(training) // 39))
        quantizer = faiss.IndexFlatIP(self.dimension)
        index = faiss.IndexIVFFlat(quantizer, self.dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = training
        if len(training) > nlist * 256:
            sample = training[np.random.default_rng(0).choice(len(training), nlist * 256, replace=False)]
        index.train(sample)
        return index

    def _checked(self, identifiers: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if vectors.shape != (len(identifiers), self.dimension):
            raise ValueError(
                f"expected {len(identifiers)} vectors of dimension {self.dimension}, got shape {vectors.shape}"
            )
        if len(set(identifiers)) != len(identifiers):
            raise ValueError("identifiers must be unique")
        return vectors

    # Persistence: plain arrays and JSON-able values, so that a store can write them without pickle.
    def state(self) -> dict[str, object]:
        state: dict[str, object] = {
            "vectors": self.vectors_[: len(self.identifiers_)],
            "identifiers": self.identifiers_,
            "dimension": self.dimension,
            "nprobe": self.nprobe,
            "kind": self.kind,
            "resolved_kind": self.kind_,
        }
        if self.kind_ == "ivf" and self.faiss_ is not None:
            state["faiss"] = faiss.serialize_index(self.faiss_)
        return state

    @classmethod
    def from_state(cls, state: dict[str, object]) -> VectorIndex:
        kind = read_choice(state, "kind", INDEX_KINDS)
        index = cls(read_int(state, "dimension"), kind=kind, nprobe=read_int(state, "nprobe"))
        index.vectors_ = np.ascontiguousarray(state["vectors"], dtype=np.float32)
        index.identifiers_ = read_identifiers(state, "identifiers")
        index.rows_ = {identifier: row for row, identifier in enumerate(index.identifiers_) if identifier is not None}
        index.kind_ = read_choice(state, "resolved_kind", ("flat", "ivf"))
        if index.kind_ == "ivf":
            index.faiss_ = faiss.deserialize_index(np.asarray(state["faiss"], dtype=np.uint8))
        else:
            # An exact index is just its vectors: rebuilding it is a copy, cheaper than storing it twice.
            index.faiss_ = faiss.IndexIDMap2(faiss.IndexFlatIP(index.dimension))
            live = np.fromiter(index.rows_.values(), dtype=np.int64)
            index.faiss_.add_with_ids(index.vectors_[live], live)
        return index
