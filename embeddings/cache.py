"""An on-disk embedding cache keyed by (model id, text hash), so that re-indexing re-embeds only changed texts."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from embeddings.encoders import Encoder, TokenEncoder
from embeddings.tokens import pack

# Token matrices of a model are cached under its id with this suffix, beside its passage vectors.
TOKENS_SUFFIX = "|tokens"

Progress = Callable[[int], None]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Passage vectors in one SQLite file. Safe to share between processes, and between threads (a build encodes
    E5 on one while MiniLM runs on another: one connection, one statement at a time); a lost file only costs time."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model_id TEXT NOT NULL, text_hash TEXT NOT NULL, "
            "vector BLOB NOT NULL, PRIMARY KEY (model_id, text_hash))"
        )
        self._db.commit()

    def get(self, model_id: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        return {key: np.frombuffer(blob, dtype=np.float32) for key, blob in self.get_blobs(model_id, keys).items()}

    def put(self, model_id: str, vectors: dict[str, np.ndarray]) -> None:
        self.put_blobs(model_id, {key: np.asarray(v, dtype=np.float32).tobytes() for key, v in vectors.items()})

    def get_blobs(self, model_id: str, keys: Sequence[str]) -> dict[str, bytes]:
        """Raw stored values, for entries that are not one float32 vector (e.g. packed token matrices)."""
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    f"SELECT text_hash, vector FROM vectors WHERE model_id = ? AND text_hash IN ({marks})",
                    [model_id, *chunk],
                ).fetchall()
            for key, blob in rows:
                found[key] = bytes(blob)
        return found

    def put_blobs(self, model_id: str, blobs: dict[str, bytes]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (model_id, text_hash, vector) VALUES (?, ?, ?)",
                [(model_id, key, blob) for key, blob in blobs.items()],
            )

    def count(self, model_id: str | None = None) -> int:
        with self._lock:
            if model_id is None:
                return int(self._db.execute("SELECT count(*) FROM vectors").fetchone()[0])
            return int(self._db.execute("SELECT count(*) FROM vectors WHERE model_id = ?", [model_id]).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedEncoder:
    """Wraps an encoder: passages come from the cache when seen before, and new ones are encoded in batches.

    `encoded` counts the passages actually sent to the model (what a re-index costs)."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache, batch_size: int = 64) -> None:
        self.encoder = encoder
        self.cache = cache
        self.batch_size = batch_size
        self.encoded = 0

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    @property
    def dimension(self) -> int:
        return self.encoder.dimension

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        keys = [text_key(text) for text in texts]
        known = self.cache.get(self.model_id, keys)
        if progress is not None and known:
            progress(sum(1 for key in keys if key in known))
        missing = list(dict.fromkeys((key, text) for key, text in zip(keys, texts, strict=True) if key not in known))
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            vectors = self.encoder.encode_passages([text for _, text in batch])
            fresh = {key: vector for (key, _), vector in zip(batch, vectors, strict=True)}
            self.cache.put(self.model_id, fresh)
            known.update(fresh)
            self.encoded += len(batch)
            if progress is not None:
                progress(sum(1 for key in keys if key in fresh))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([known[key] for key in keys]).astype(np.float32)

    @property
    def has_tokens(self) -> bool:
        return isinstance(self.encoder, TokenEncoder)

    def encode_passage_tokens(self, texts: Sequence[str]) -> list[bytes]:
        """Each passage's content-token vectors, packed (`embeddings.tokens.pack`) as the cache keeps them."""
        encoder = _token_encoder(self)
        model_id = self.model_id + TOKENS_SUFFIX
        keys = [text_key(text) for text in texts]
        known = self.cache.get_blobs(model_id, keys)
        missing = list(dict.fromkeys((key, text) for key, text in zip(keys, texts, strict=True) if key not in known))
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            matrices = encoder.encode_passage_tokens([text for _, text in batch])
            fresh = {key: pack(matrix) for (key, _), matrix in zip(batch, matrices, strict=True)}
            self.cache.put_blobs(model_id, fresh)
            known.update(fresh)
            self.encoded += len(batch)
        return [known[key] for key in keys]


def gives_tokens(encoder: Encoder) -> bool:
    """Whether late interaction can use this encoder (a sentence-transformers model, cached or not)."""
    return isinstance(_unwrapped(encoder), TokenEncoder)


def queries_with_tokens(encoder: Encoder, queries: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Query vectors and content-token vectors, from one forward pass (queries never go through the cache)."""
    return _token_encoder(encoder).encode_queries_with_tokens(queries)


def passage_token_blobs(encoder: Encoder, texts: Sequence[str]) -> list[bytes]:
    """Each passage's content-token vectors, packed (`embeddings.tokens.pack`); through the cache when cached."""
    if isinstance(encoder, CachedEncoder):
        return encoder.encode_passage_tokens(texts)
    return [pack(matrix) for matrix in _token_encoder(encoder).encode_passage_tokens(texts)]


def _unwrapped(encoder: Encoder) -> Encoder:
    return encoder.encoder if isinstance(encoder, CachedEncoder) else encoder


def _token_encoder(encoder: Encoder) -> TokenEncoder:
    inner = _unwrapped(encoder)
    if not isinstance(inner, TokenEncoder):
        raise TypeError(f"encoder {encoder.model_id} gives no token vectors")
    return inner
