"""Each text through the encoder once: the passage vectors of a batch of texts and the content-token vectors of
some of them from the same forward pass, with repeated texts (a sentence that is its whole passage, a sentence
two courses share) encoded once, and through the embedding cache when the encoder has one.

sentence-transformers sorts one call's texts by length before it cuts them into batches, so one call over a
slice of courses' passages and sentences together is also the "batch by length" that keeps padding small."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from embeddings.cache import TOKENS_SUFFIX, CachedEncoder, passage_token_blobs, text_key
from embeddings.encoders import Encoder, Precision
from embeddings.tokens import pack


@runtime_checkable
class OnePassEncoder(Protocol):
    """An encoder that gives passage vectors of every text and token vectors of the first `with_tokens` texts
    from one forward pass (`SentenceTransformerEncoder`)."""

    def encode_passages_and_tokens(
        self, texts: Sequence[str], with_tokens: int, precision: Precision = "fp32"
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


@dataclass(frozen=True)
class Encoded:
    vectors: np.ndarray  # one unit row per text asked for, in order
    tokens: list[bytes]  # the packed token matrices (`embeddings.tokens.pack`) of the first `with_tokens` texts


def encode_once(encoder: Encoder, texts: Sequence[str], with_tokens: int = 0, precision: Precision = "fp32") -> Encoded:
    """Passage vectors of `texts` and the packed token matrices of the first `with_tokens`, each distinct text
    encoded at most once (and not at all when the cache has it). `precision` is the one-pass encoder's arithmetic;
    bf16 vectors are cached apart from float32 ones, so that a cached run gives what an uncached one would."""
    cached = encoder if isinstance(encoder, CachedEncoder) else None
    inner = cached.encoder if cached is not None else encoder
    if not isinstance(inner, OnePassEncoder):
        return _in_separate_passes(encoder, texts, with_tokens)
    keys = [text_key(text) for text in texts]
    token_keys = keys[:with_tokens]
    vectors: dict[str, np.ndarray] = {}
    blobs: dict[str, bytes] = {}
    model_id = encoder.model_id + ("" if precision == "fp32" else f"|{precision}")
    if cached is not None:
        vectors = cached.cache.get(model_id, keys)
        blobs = cached.cache.get_blobs(model_id + TOKENS_SUFFIX, token_keys)
    text_of = dict(zip(keys, texts, strict=True))
    # Texts that need tokens first (a prefix of the call), then those that need only a vector.
    need_tokens = [key for key in dict.fromkeys(token_keys) if key not in blobs]
    with_both = set(need_tokens)
    need_vectors = [key for key in dict.fromkeys(keys) if key not in vectors and key not in with_both]
    todo = need_tokens + need_vectors
    if todo:
        fresh, matrices = inner.encode_passages_and_tokens([text_of[key] for key in todo], len(need_tokens), precision)
        fresh_vectors = dict(zip(todo, fresh, strict=True))
        fresh_blobs = {key: pack(matrix) for key, matrix in zip(need_tokens, matrices, strict=True)}
        vectors.update(fresh_vectors)
        blobs.update(fresh_blobs)
        if cached is not None:
            cached.cache.put(model_id, fresh_vectors)
            cached.cache.put_blobs(model_id + TOKENS_SUFFIX, fresh_blobs)
            cached.encoded += len(todo)
    rows = np.vstack([vectors[key] for key in keys]) if keys else np.zeros((0, encoder.dimension))
    return Encoded(np.asarray(rows, dtype=np.float32), [blobs[key] for key in token_keys])


def _in_separate_passes(encoder: Encoder, texts: Sequence[str], with_tokens: int) -> Encoded:
    """An encoder without a one-pass call (E5's C engine, a Ray pool): vectors, then tokens if asked for, in its
    own arithmetic."""
    if isinstance(encoder, CachedEncoder):
        vectors = encoder.encode_passages(texts)  # the cache encodes each distinct text once itself
    else:
        distinct = list(dict.fromkeys(texts))
        rows = dict(zip(distinct, encoder.encode_passages(distinct), strict=True))
        vectors = np.vstack([rows[text] for text in texts]) if texts else np.zeros((0, encoder.dimension))
    tokens = passage_token_blobs(encoder, texts[:with_tokens]) if with_tokens else []
    return Encoded(np.asarray(vectors, dtype=np.float32), tokens)
