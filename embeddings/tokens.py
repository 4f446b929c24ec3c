"""Late interaction over token vectors (ColBERT's MaxSim, zero-shot on a bi-encoder's own token outputs).

Each item keeps the contextual vectors of its content tokens (no stopwords, punctuation or special tokens),
int8-quantised per row. A query scores an item by the mean, over its own content tokens, of each token's best
cosine similarity among the item's tokens: a soft, contextual word match that a single pooled vector blurs.
On the external benchmark it adds about 0.015 nDCG@10 to the hybrid (docs/search.md)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from embeddings.state import read_int, read_strings

# Bytes per row in a packed matrix: one float32 scale, then `dimension` int8 codes.
_SCALE_BYTES = 4


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per row: `codes * scales[:, None]` restores the vectors within 1/254 of each row's largest
    component; measured, it leaves MaxSim's ranking where float32 puts it."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scales = np.abs(vectors).max(axis=1) / 127.0 if len(vectors) else np.zeros(0, dtype=np.float32)
    scales = np.where(scales > 0, scales, 1.0).astype(np.float32)
    codes = np.clip(np.rint(vectors / scales[:, None]), -127, 127).astype(np.int8)
    return codes, scales


def pack(vectors: np.ndarray) -> bytes:
    """One item's token vectors as bytes (row scales, then codes), e.g. for the embedding cache."""
    codes, scales = quantize(vectors)
    return scales.tobytes() + codes.tobytes()


def unpack(blob: bytes, dimension: int) -> tuple[np.ndarray, np.ndarray]:
    rows, remainder = divmod(len(blob), _SCALE_BYTES + dimension)
    if remainder:
        raise ValueError(f"a packed token matrix of {len(blob)} bytes does not hold rows of dimension {dimension}")
    scales = np.frombuffer(blob[: rows * _SCALE_BYTES], dtype=np.float32)
    codes = np.frombuffer(blob[rows * _SCALE_BYTES :], dtype=np.int8).reshape(rows, dimension)
    return codes, scales


class TokenIndex:
    """Content-token vectors by item identifier, for MaxSim scoring of a few candidates per query.

    Scoring reads only the candidates' rows, so its cost grows with the candidates, not the catalog."""

    def __init__(self, dimension: int) -> None:
        if dimension <= 0:
            raise ValueError("dimension must be positive")
        self.dimension = dimension
        self.codes_: dict[str, np.ndarray] = {}
        self.scales_: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.codes_)

    def __contains__(self, identifier: object) -> bool:
        return identifier in self.codes_

    def upsert(self, identifiers: Sequence[str], matrices: Sequence[np.ndarray]) -> None:
        if len(identifiers) != len(matrices):
            raise ValueError(f"{len(identifiers)} identifiers but {len(matrices)} token matrices")
        for identifier, matrix in zip(identifiers, matrices, strict=True):
            matrix = np.atleast_2d(np.asarray(matrix, dtype=np.float32))
            if matrix.shape[1] != self.dimension:
                raise ValueError(
                    f"token vectors of {identifier!r} have dimension {matrix.shape[1]}, not {self.dimension}"
                )
            self.codes_[identifier], self.scales_[identifier] = quantize(matrix)

    def upsert_packed(self, identifiers: Sequence[str], blobs: Sequence[bytes]) -> None:
        for identifier, blob in zip(identifiers, blobs, strict=True):
            self.codes_[identifier], self.scales_[identifier] = unpack(blob, self.dimension)

    def remove(self, identifiers: Collection[str]) -> int:
        removed = [identifier for identifier in identifiers if self.codes_.pop(identifier, None) is not None]
        for identifier in removed:
            self.scales_.pop(identifier, None)
        return len(removed)

    def maxsim(self, query: np.ndarray, identifiers: Sequence[str]) -> np.ndarray:
        """MaxSim of one query's unit token vectors against each item. NaN, "no evidence", for an item without
        tokens (or unknown: e.g. a course in a script the encoder does not read), and for every item when the query
        has no content token: a caller should treat those as neutral, not as the worst match."""
        scores = np.full(len(identifiers), np.nan, dtype=np.float32)
        query = np.atleast_2d(np.asarray(query, dtype=np.float32))
        present = [(n, identifier) for n, identifier in enumerate(identifiers) if len(self.codes_.get(identifier, ()))]
        if not present or len(query) == 0 or query.shape[1] != self.dimension:
            return scores
        codes = np.concatenate([self.codes_[identifier] for _, identifier in present])
        scales = np.concatenate([self.scales_[identifier] for _, identifier in present])
        similarities = _products(query, codes) * scales  # (query tokens, all candidates' tokens)
        starts = np.cumsum([0] + [len(self.codes_[identifier]) for _, identifier in present[:-1]])
        best = np.maximum.reduceat(similarities, starts, axis=1)  # each query token's best match per item
        scores[[n for n, _ in present]] = best.mean(axis=0)
        return scores

    # Persistence: three arrays and the identifiers, so that a store can write them without pickle.
    def state(self) -> dict[str, object]:
        identifiers = list(self.codes_)
        lengths = np.array([len(self.codes_[i]) for i in identifiers], dtype=np.int64)
        empty_codes = np.zeros((0, self.dimension), dtype=np.int8)
        return {
            "dimension": self.dimension,
            "identifiers": identifiers,
            "lengths": lengths,
            "codes": np.concatenate([self.codes_[i] for i in identifiers]) if identifiers else empty_codes,
            "scales": np.concatenate([self.scales_[i] for i in identifiers])
            if identifiers
            else np.zeros(0, dtype=np.float32),
        }

    @classmethod
    def from_state(cls, state: dict[str, object]) -> TokenIndex:
        index = cls(read_int(state, "dimension"))
        identifiers = read_strings(state, "identifiers")
        lengths = np.asarray(state["lengths"], dtype=np.int64)
        codes = np.asarray(state["codes"], dtype=np.int8)
        scales = np.asarray(state["scales"], dtype=np.float32)
        if len(lengths) != len(identifiers) or int(lengths.sum()) != len(codes) or len(codes) != len(scales):
            raise ValueError("token index arrays do not agree in length")
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        for n, identifier in enumerate(identifiers):
            index.codes_[identifier] = codes[bounds[n] : bounds[n + 1]]
            index.scales_[identifier] = scales[bounds[n] : bounds[n + 1]]
        return index


WIDEN_ROWS = 1024  # int8 token rows widened to float32 at a time: 1.5 MB, so that the product reads them from cache


def _products(query: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """`query @ codes.T` for int8 `codes`, widened a slice at a time: widening all of them first wrote (and the
    product then read back) four bytes per code through memory; for 100 candidates' 7,000 tokens on a 2-core
    machine that took 3.6 ms, and 2.4 ms this way. The result is the same to the last bit."""
    products = np.empty((len(query), len(codes)), dtype=np.float32)
    for start in range(0, len(codes), WIDEN_ROWS):
        stop = start + WIDEN_ROWS
        np.matmul(query, codes[start:stop].astype(np.float32).T, out=products[:, start:stop])
    return products
