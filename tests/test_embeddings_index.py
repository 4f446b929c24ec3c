"""The FAISS vector index and its storage: exact and approximate search, single-item updates, filters that keep
recall, atomic saving, and clear refusals of a broken, foreign or stale index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings import (
    IndexCorruptError,
    IndexManifest,
    IndexMismatchError,
    IndexNotFoundError,
    VectorIndex,
    load_index,
    save_index,
)
from embeddings import index as index_module
from embeddings import store as store_module


def unit_vectors(count: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def brute_force(vectors: np.ndarray, ids: list[str], query: np.ndarray, k: int, *, allowed=None) -> list[str]:
    scores = vectors @ query
    order = [i for i in np.argsort(-scores) if allowed is None or ids[i] in allowed]
    return [ids[i] for i in order[:k]]


@pytest.fixture
def items() -> tuple[list[str], np.ndarray]:
    vectors = unit_vectors(300)
    return [f"do_{n:04d}" for n in range(300)], vectors


def test_exact_search_matches_brute_force_and_scores_are_cosines(items):
    ids, vectors = items
    index = VectorIndex(32).build(ids, vectors)
    query = unit_vectors(1, seed=7)[0]
    hits = index.search(query, 10)[0]
    assert [i for i, _ in hits] == brute_force(vectors, ids, query, 10)
    assert hits[0][1] == pytest.approx(float(vectors[ids.index(hits[0][0])] @ query), abs=1e-5)
    assert index.kind_ == "flat"


def test_update_replaces_one_vector_and_remove_drops_it(items):
    ids, vectors = items
    index = VectorIndex(32).build(ids, vectors)
    query = unit_vectors(1, seed=11)[0]
    index.upsert(["do_0005"], query[None, :])
    assert index.search(query, 1)[0][0] == ("do_0005", pytest.approx(1.0, abs=1e-5))
    assert len(index) == 300
    assert index.remove(["do_0005", "not-there"]) == 1
    assert "do_0005" not in [i for i, _ in index.search(query, 300)[0]]
    assert len(index) == 299
    index.upsert(["do_new"], query[None, :])
    assert index.search(query, 1)[0][0][0] == "do_new"


def test_filtered_search_is_exact_within_the_allowed_set(items):
    ids, vectors = items
    index = VectorIndex(32).build(ids, vectors)
    allowed = set(ids[::37])  # 9 items: a very selective filter
    query = unit_vectors(1, seed=3)[0]
    hits = index.search(query, 5, allowed)[0]
    assert [i for i, _ in hits] == brute_force(vectors, ids, query, 5, allowed=allowed)
    assert index.search(query, 5, set())[0] == []


def recall_at_10(found, queries, vectors, ids, *, allowed=None) -> float:
    expected = [set(brute_force(vectors, ids, q, 10, allowed=allowed)) for q in queries]
    return float(np.mean([len({i for i, _ in f} & e) / 10 for f, e in zip(found, expected, strict=True)]))


def test_large_catalogs_get_an_approximate_index_with_high_recall_even_when_filtered(monkeypatch):
    count = 3000
    ids = [f"c{n}" for n in range(count)]
    vectors = unit_vectors(count, dimension=16, seed=1)
    index = VectorIndex(16, kind="ivf").build(ids, vectors)
    assert index.kind_ == "ivf"
    queries = unit_vectors(20, dimension=16, seed=2)
    found = index.search(queries, 10)
    assert recall_at_10(found, queries, vectors, ids) >= 0.9
    # A filter that keeps a third of the catalog, searched through FAISS's selector rather than exactly:
    # every hit is allowed and recall holds.
    monkeypatch.setattr(index_module, "EXACT_FILTER_UP_TO", 0)
    allowed = set(ids[::3])
    filtered = index.search(queries, 10, allowed)
    assert all(i in allowed for hits in filtered for i, _ in hits)
    assert recall_at_10(filtered, queries, vectors, ids, allowed=allowed) >= 0.9


def test_an_ivf_index_survives_saving_and_updates(tmp_path: Path):
    ids = [f"c{n}" for n in range(2000)]
    vectors = unit_vectors(2000, dimension=16, seed=4)
    index = VectorIndex(16, kind="ivf").build(ids, vectors)
    path = tmp_path / "index.npz"
    save_index(path, {"dense": index}, manifest(count=2000), {})
    loaded = load_index(path)[0]["dense"]
    loaded.upsert(["c7"], -vectors[7][None, :])
    assert loaded.search(-vectors[7], 1)[0][0][0] == "c7"


def manifest(**changes) -> IndexManifest:
    values = {
        "encoders": {"dense": "model-a"},
        "dimensions": {"dense": 32},
        "count": 300,
        "catalog_fingerprint": "fp-1",
    }
    return IndexManifest(**(values | changes))


def test_save_and_load_round_trip_with_manifest_and_payload(tmp_path: Path, items):
    ids, vectors = items
    index = VectorIndex(32).build(ids, vectors)
    index.remove(["do_0001"])
    path = tmp_path / "index" / "courses.npz"
    save_index(path, {"dense": index}, manifest(), {"texts": {"do_0000": "हिंदी text"}})
    indexes, loaded_manifest, payload = load_index(path)
    assert loaded_manifest == manifest()
    assert payload == {"texts": {"do_0000": "हिंदी text"}}
    query = unit_vectors(1, seed=9)[0]
    assert indexes["dense"].search(query, 10) == index.search(query, 10)
    assert "do_0001" not in indexes["dense"]


def test_a_crash_while_saving_leaves_the_previous_index_usable(tmp_path: Path, items, monkeypatch):
    ids, vectors = items
    path = tmp_path / "courses.npz"
    save_index(path, {"dense": VectorIndex(32).build(ids, vectors)}, manifest(), {})

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the build is interrupted half-way through writing

    monkeypatch.setattr(store_module.np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        save_index(path, {"dense": VectorIndex(32).build(ids[:5], vectors[:5])}, manifest(count=5), {})
    indexes, loaded_manifest, _ = load_index(path)
    assert loaded_manifest.count == 300 and len(indexes["dense"]) == 300
    assert [p.name for p in tmp_path.iterdir()] == ["courses.npz"]  # no temporary file left behind


def test_missing_corrupt_foreign_and_stale_indexes_are_refused_with_a_rebuild_hint(tmp_path: Path, items):
    path = tmp_path / "courses.npz"
    with pytest.raises(IndexNotFoundError, match="karmayogi index build"):
        load_index(path)
    path.write_bytes(b"not an index at all")
    with pytest.raises(IndexCorruptError, match="karmayogi index build"):
        load_index(path)
    ids, vectors = items
    save_index(path, {"dense": VectorIndex(32).build(ids, vectors)}, manifest(), {})
    stored = load_index(path)[1]
    with pytest.raises(
        IndexMismatchError, match=r"built with dense encoder 'model-a'.*'model-b'.*karmayogi index build"
    ):
        stored.check({"dense": "model-b"}, "fp-1", path)
    with pytest.raises(IndexMismatchError, match=r"stale.*karmayogi index build"):
        stored.check({"dense": "model-a"}, "fp-2", path)
    stored.check({"dense": "model-a"}, "fp-1", path)


def test_vectors_of_the_wrong_shape_are_rejected(items):
    ids, vectors = items
    with pytest.raises(ValueError, match="dimension 32"):
        VectorIndex(32).build(ids[:3], vectors[:3, :16])
    with pytest.raises(ValueError, match="unique"):
        VectorIndex(32).build(["a", "a"], vectors[:2])
