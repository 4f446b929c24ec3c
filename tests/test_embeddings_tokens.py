"""Late interaction's token store: int8 vectors that score like float ones, MaxSim over a few candidates,
updates, and storage beside the vector indexes in one atomic file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings import IndexCorruptError, IndexManifest, TokenIndex, VectorIndex, load_index, save_index
from embeddings.tokens import pack, unpack


def unit_rows(count: int, dimension: int = 16, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def float_maxsim(query: np.ndarray, tokens: np.ndarray) -> float:
    return float((query @ tokens.T).max(axis=1).mean())


@pytest.fixture
def items() -> dict[str, np.ndarray]:
    return {f"c{n}": unit_rows(3 + n, seed=n) for n in range(8)}


def test_maxsim_matches_the_float_computation_for_each_candidate(items):
    index = TokenIndex(16)
    index.upsert(list(items), list(items.values()))
    query = unit_rows(3, seed=99)
    candidates = ["c5", "c0", "c7"]
    scores = index.maxsim(query, candidates)
    expected = [float_maxsim(query, items[c]) for c in candidates]
    assert scores == pytest.approx(expected, abs=0.01)
    # A query made of one item's own tokens finds that item best among all.
    assert list(items)[int(np.argmax(index.maxsim(items["c3"][:2], list(items))))] == "c3"


def test_items_without_tokens_and_queries_without_tokens_have_no_score_rather_than_the_worst(items):
    index = TokenIndex(16)
    index.upsert([*items, "hindi-only"], [*items.values(), np.zeros((0, 16), dtype=np.float32)])
    scores = index.maxsim(unit_rows(2), ["c1", "nowhere", "hindi-only"])
    assert np.isfinite(scores[0]) and np.isnan(scores[1:]).all()
    assert np.isnan(index.maxsim(np.zeros((0, 16), dtype=np.float32), ["c1", "c2"])).all()
    assert index.remove(["c1", "nowhere"]) == 1 and "c1" not in index and len(index) == 8
    assert np.isnan(index.maxsim(unit_rows(2), ["c1"])[0])


def test_packed_tokens_round_trip_and_a_wrong_size_is_refused(items):
    codes, scales = unpack(pack(items["c2"]), 16)
    assert codes.shape == (5, 16) and np.abs(codes * scales[:, None] - items["c2"]).max() < 0.01
    with pytest.raises(ValueError, match="dimension 16"):
        unpack(pack(items["c2"])[:-1], 16)
    with pytest.raises(ValueError, match="dimension 8, not 16"):
        TokenIndex(16).upsert(["x"], [unit_rows(2, dimension=8)])


def test_token_vectors_are_saved_and_loaded_with_the_vector_indexes(items, tmp_path: Path):
    tokens = TokenIndex(16)
    tokens.upsert(list(items), list(items.values()))
    vectors = VectorIndex(16).build(list(items), unit_rows(len(items), seed=5))
    path = tmp_path / "index.npz"
    manifest = IndexManifest({"dense": "m"}, {"dense": 16, "tokens": 16}, len(items), "fp")
    save_index(path, {"dense": vectors, "tokens": tokens}, manifest, {})
    loaded = load_index(path)[0]
    assert isinstance(loaded["tokens"], TokenIndex) and isinstance(loaded["dense"], VectorIndex)
    query = unit_rows(2, seed=42)
    assert loaded["tokens"].maxsim(query, list(items)) == pytest.approx(tokens.maxsim(query, list(items)))
    # Arrays that disagree (a damaged file) are refused with the rebuild hint.
    broken = tokens.state() | {"lengths": np.array([1, 2], dtype=np.int64)}
    with pytest.raises(ValueError, match="do not agree"):
        TokenIndex.from_state(broken)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["tokens.scales"] = arrays["tokens.scales"][:-1]
    np.savez(path, **arrays)
    with pytest.raises(IndexCorruptError, match="karmayogi index build"):
        load_index(path)


def test_exact_scores_for_chosen_items_whatever_their_number():
    ids = [f"c{n}" for n in range(40)]
    vectors = unit_rows(40, seed=3)
    index = VectorIndex(16).build(ids, vectors)
    queries = unit_rows(2, seed=8)
    few = index.scores(queries, ["c3", "unknown", "c9"])  # gathers the rows
    assert few[:, 0] == pytest.approx(queries @ vectors[3]) and not few[:, 1].any()
    everything = index.scores(queries, ids[::-1])  # multiplies the whole matrix
    assert everything == pytest.approx((queries @ vectors.T)[:, ::-1], abs=1e-6)
