"""MiniLM's passage vectors, sentence vectors and token vectors from one forward pass equal those of the three
separate passes; each distinct text is encoded once, through the cache; bf16 indexes stay within cosine 0.9999."""

from __future__ import annotations

import numpy as np

from embeddings import CachedEncoder, EmbeddingCache, load_encoder
from embeddings.encoders import SentenceTransformerEncoder
from embeddings.passes import encode_once

TEXTS = [
    "Noting and drafting. Writing a note on a file and a fair draft.",
    "Public procurement on GeM.",
    "Managing stress at the workplace.",
    "Stress.",
]


def test_one_pass_equals_the_separate_passes() -> None:
    minilm = load_encoder("minilm")
    assert isinstance(minilm, SentenceTransformerEncoder)
    vectors, tokens = minilm.encode_passages_and_tokens(TEXTS, 2)
    np.testing.assert_allclose(vectors, minilm.encode_passages(TEXTS), atol=1e-5)
    separate = minilm.encode_passage_tokens(TEXTS[:2])
    assert len(tokens) == 2
    for got, wanted in zip(tokens, separate, strict=True):
        np.testing.assert_allclose(got, wanted, atol=1e-5)


def test_each_distinct_text_is_encoded_once_and_a_cached_run_gives_what_an_uncached_one_does(tmp_path) -> None:
    minilm = load_encoder("minilm")
    cached = CachedEncoder(minilm, EmbeddingCache(tmp_path / "cache.db"))
    # Passages first (with tokens), then sentences: "Stress." is a whole passage and a sentence of none other,
    # "Public procurement on GeM." a passage and a sentence of another course.
    texts = [*TEXTS, "Public procurement on GeM.", "Stress.", "A fair draft."]
    first = encode_once(cached, texts, with_tokens=4)
    assert cached.encoded == 5  # the four passages and the one sentence that is no passage
    again = encode_once(cached, texts, with_tokens=4)
    assert cached.encoded == 5
    plain = encode_once(minilm, texts, with_tokens=4)
    for run in (again, plain):
        np.testing.assert_allclose(run.vectors, first.vectors, atol=1e-5)
        assert len(run.tokens) == 4
    np.testing.assert_allclose(first.vectors[4], first.vectors[1], atol=0)  # one encoding, two rows


def test_bf16_passages_are_float32_ones_to_cosine_0_9999_and_are_cached_apart(tmp_path) -> None:
    minilm = load_encoder("minilm")
    cached = CachedEncoder(minilm, EmbeddingCache(tmp_path / "cache.db"))
    texts = [f"{text} Course {n}." for n in range(12) for text in TEXTS]  # a batch, as a build encodes
    fp32 = encode_once(cached, texts, with_tokens=len(texts))
    bf16 = encode_once(cached, texts, with_tokens=len(texts), precision="bf16")
    assert cached.encoded == 2 * len(texts)  # the bf16 run did not take the float32 vectors from the cache
    cosines = (fp32.vectors * bf16.vectors).sum(axis=1)
    assert cosines.min() >= 0.9999
    assert not np.array_equal(fp32.vectors, bf16.vectors)  # it is another arithmetic
    np.testing.assert_allclose(encode_once(cached, texts, precision="bf16").vectors, bf16.vectors, atol=0)


def test_the_index_precision_setting_resolves_auto_by_the_cpu() -> None:
    from embeddings import native_bf16
    from search import SearchSettings, retrieval_config

    assert retrieval_config(SearchSettings(index_precision="fp32")).index_precision == "fp32"
    assert retrieval_config(SearchSettings(index_precision="bf16")).index_precision == "bf16"
    auto = retrieval_config(SearchSettings()).index_precision
    assert auto == ("bf16" if native_bf16() else "fp32")
