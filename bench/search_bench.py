"""Search benchmark: index build time, search latency (p50/p95, with and without query encoding) and the recall@10
of the approximate index against exact search. Ratios compare against a baseline measured in the same process.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/search_bench.py [--items 100000] [--hybrid-items 20000]
        [--sample-courses 415] [--with-e5]

The 100k-item part uses synthetic clustered unit vectors (encoding 100k texts on two CPU cores would take most of
an hour; the encoder's throughput is measured on real course texts and the full encoding time extrapolated)."""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from embeddings import EmbeddingCache, TokenIndex, VectorIndex, load_encoder
from models import ingest_file, list_courses, load_competency_model, make_engine, session_scope, upgrade
from models.sample_data import SAMPLE_FILES
from search import CourseSearcher, RetrievalConfig, SearchParts, build_searcher
from search.sentences import SentenceIndex

QUERIES = [
    "noting and drafting in Hindi",
    "public procurement on GeM",
    "right to information for CPIOs",
    "stress management for frontline staff",
    "cyber security awareness",
    "leadership for new supervisors",
    "data analytics for district officers",
    "e-office file management",
]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def latencies(action: Callable[[int], object], runs: int) -> tuple[float, float]:
    times = []
    for n in range(runs):
        started = time.perf_counter()
        action(n)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def clustered_vectors(count: int, dimension: int, seed: int) -> np.ndarray:
    """Unit vectors around 2,000 topics: closer to real course embeddings than uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((2000, dimension)).astype(np.float32)
    vectors = centres[rng.integers(0, 2000, count)] + 0.6 * rng.standard_normal((count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def sample_catalog(limit: int) -> tuple[list, dict[str, str]]:
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'bench.db'}")
        upgrade(engine)
        for kind, path in SAMPLE_FILES:
            ingest_file(engine, kind, path)
        with session_scope(engine) as session:
            courses = list_courses(session)[:limit]
            names = {c.id: c.name for c in load_competency_model(session).competencies}
        engine.dispose()
    return courses, names


def bench_sample(limit: int, with_e5: bool) -> None:
    courses, names = sample_catalog(limit)
    print(f"\n## Sample catalog: {len(courses)} courses")
    load_encoder("minilm").encode_queries(["warm-up"])
    default = RetrievalConfig(multilingual_encoder=None)
    # The hybrid before sentences, tokens and smoothing: the baseline of the build and latency ratios below.
    passages_only = replace(default, segment_weight=0, token_weight=0, neighbour_weight=0)
    searcher = build_searcher(courses[:2], names, default)  # loads the model
    started = time.perf_counter()
    baseline = build_searcher(courses, names, passages_only)
    base_seconds = time.perf_counter() - started
    started = time.perf_counter()
    searcher = build_searcher(courses, names, default)
    seconds = time.perf_counter() - started
    rate = len(courses) / base_seconds
    print(f"index build, MiniLM passages only (no cache): {base_seconds:.1f} s ({rate:.1f} courses/s)")
    print(
        f"index build, MiniLM passages + sentences + tokens (no cache): {seconds:.1f} s "
        f"({len(courses) / seconds:.1f} courses/s, {seconds / base_seconds:.2f}x the passages-only build)"
    )
    multilingual = None
    if with_e5:
        with tempfile.TemporaryDirectory() as scratch:
            cache = EmbeddingCache(Path(scratch) / "cache.sqlite")
            build_searcher(courses, names, RetrievalConfig(multilingual_encoder=None), cache=cache)
            started = time.perf_counter()
            multilingual = build_searcher(
                courses, names, RetrievalConfig(), cache=cache
            )  # MiniLM vectors from the cache
            e5 = time.perf_counter() - started
        print(f"index build, E5 4-bit part (MiniLM from the cache): {e5:.1f} s ({len(courses) / e5:.2f} courses/s)")
    searcher.search("warm-up", 10, method="hybrid")
    rows = []
    for method in ("dense", "bm25", "hybrid"):
        p50, p95 = latencies(lambda n, m=method: searcher.search(QUERIES[n % len(QUERIES)], 10, method=m), 40)
        rows.append((method, p50, p95))
    baseline.search("warm-up", 10)
    p50, p95 = latencies(lambda n: baseline.search(QUERIES[n % len(QUERIES)], 10), 40)
    rows.append(("hybrid of passages only (MiniLM + BM25)", p50, p95))
    vectors = searcher.embed(QUERIES)
    p50, p95 = latencies(lambda n: searcher.parts.passages.search(vectors[n % len(QUERIES)], 10), 200)
    baseline = rows[0][1]
    print("| single query | p50 ms | p95 ms | p50 vs dense |")
    print("|---|---|---|---|")
    print(f"| vector search only (query already encoded) | {p50:.2f} | {p95:.2f} | {p50 / baseline:.2f}x |")
    for method, p50, p95 in rows:
        print(f"| {method}, with query encoding | {p50:.1f} | {p95:.1f} | {p50 / baseline:.2f}x |")
    if multilingual is not None:
        hindi = latencies(lambda n: multilingual.search("सूचना का अधिकार", 10), 20)
        print(
            f"| Hindi query (E5 route), with encoding | {hindi[0]:.1f} | {hindi[1]:.1f} | {hindi[0] / baseline:.2f}x |"
        )
    texts = [f"{c.name}. {c.description}" for c in courses]
    throughput = len(texts) / timed(lambda: load_encoder("minilm").encode_passages(texts))
    print(f"MiniLM passage throughput: {throughput:.1f} texts/s → 100k courses ≈ {100_000 / throughput / 60:.0f} min")


def bench_hybrid_scale(items: int, dimension: int = 384) -> None:
    """The default hybrid's own cost over a large catalog: random vectors, sentences and int8 tokens at the sample
    catalog's shape (9 sentences, 110 tokens per course) and a stand-in encoder, so that only the scoring counts."""
    print(f"\n## Hybrid scoring over {items} synthetic courses (encoding excluded)")
    rng = np.random.default_rng(0)
    ids = [f"do_{n}" for n in range(items)]
    words = [f"w{n}" for n in range(5000)]
    texts = {identifier: " ".join(rng.choice(words, 60)) for identifier in ids}
    sentences = [f"{identifier}\t{n}" for identifier in ids for n in range(9)]
    tokens = TokenIndex(dimension)
    for identifier in ids:
        tokens.codes_[identifier] = rng.integers(-127, 128, (110, dimension), dtype=np.int8)
        tokens.scales_[identifier] = np.full(110, 1 / 127 / np.sqrt(dimension) * 3, dtype=np.float32)
    passage_index = VectorIndex(dimension).build(ids, clustered_vectors(items, dimension, seed=1))
    sentence_index = VectorIndex(dimension).build(sentences, clustered_vectors(len(sentences), dimension, seed=2))
    encoder = _StandInEncoder(dimension)
    config = RetrievalConfig(multilingual_encoder=None)
    parts = SearchParts(encoder=encoder, passages=passage_index, sentences=SentenceIndex(sentence_index), tokens=tokens)
    searcher = CourseSearcher(config, parts, texts)
    neighbours = timed(searcher.neighbours)
    print(f"nearest courses of every course (once per build): {neighbours:.1f} s")
    searcher.search("w1 w2", 10)  # lays the pool out once
    queries = [f"w{n} w{n + 7} w{n + 11}" for n in range(50)]
    p50, p95 = latencies(lambda n: searcher.search(queries[n], 10), 50)
    passages = replace(config, segment_weight=0, token_weight=0, neighbour_weight=0)
    plain = CourseSearcher(passages, SearchParts(encoder=encoder, passages=passage_index), texts)
    plain.search("w1 w2", 10)
    base50, base95 = latencies(lambda n: plain.search(queries[n], 10), 50)
    print("| hybrid, single query | p50 ms | p95 ms | p50 vs passages only |")
    print("|---|---|---|---|")
    print(f"| passages only (MiniLM + BM25) | {base50:.1f} | {base95:.1f} | 1.00x |")
    print(f"| default (+ sentences, smoothing, MaxSim rerank) | {p50:.1f} | {p95:.1f} | {p50 / base50:.2f}x |")


class _StandInEncoder:
    """Random unit vectors of the right shape: the encoder's own time is measured with the real model above."""

    model_id = "stand-in"

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.rng = np.random.default_rng(3)

    def _unit(self, rows: int) -> np.ndarray:
        vectors = self.rng.standard_normal((rows, self.dimension)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._unit(len(texts))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._unit(len(texts))

    def encode_query_tokens(self, texts: Sequence[str]) -> list[np.ndarray]:
        return [self._unit(3) for _ in texts]

    def encode_passage_tokens(self, texts: Sequence[str]) -> list[np.ndarray]:
        return [self._unit(5) for _ in texts]

    def encode_queries_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.encode_queries(texts), self.encode_query_tokens(texts)


def bench_large(items: int, dimension: int = 384) -> None:
    print(f"\n## Synthetic catalog: {items} items, dimension {dimension}")
    # Queries come from the same topics as the catalog, as real queries do.
    everything = clustered_vectors(items + 200, dimension, seed=0)
    vectors, queries = everything[:items], everything[items:]
    ids = [f"do_{n}" for n in range(items)]
    exact = VectorIndex(dimension, kind="flat")
    flat_seconds = timed(lambda: exact.build(ids, vectors))
    approximate = VectorIndex(dimension, kind="ivf")
    ivf_seconds = timed(lambda: approximate.build(ids, vectors))
    print("| index | build s | p50 ms | p95 ms | p50 vs exact | recall@10 vs exact |")
    print("|---|---|---|---|---|---|")
    truth = [{i for i, _ in hits} for hits in exact.search(queries, 10)]
    exact_p50, exact_p95 = latencies(lambda n: exact.search(queries[n % 200], 10), 200)
    print(f"| exact (flat inner product) | {flat_seconds:.2f} | {exact_p50:.2f} | {exact_p95:.2f} | 1.00x | 1.000 |")
    for nprobe in (8, 32, 128):
        approximate.nprobe = nprobe
        found = approximate.search(queries, 10)
        recall = np.mean([len({i for i, _ in f} & t) / 10 for f, t in zip(found, truth, strict=True)])
        p50, p95 = latencies(lambda n: approximate.search(queries[n % 200], 10), 200)
        print(
            f"| IVF-Flat, nlist {approximate.faiss_.nlist}, nprobe {nprobe} | {ivf_seconds:.2f} | {p50:.2f} | "
            f"{p95:.2f} | {p50 / exact_p50:.2f}x | {recall:.3f} |"
        )
    allowed = set(ids[::50])  # a filter keeping 2% of the catalog: scored exactly
    p50, p95 = latencies(lambda n: approximate.search(queries[n % 200], 10, allowed), 100)
    print(
        f"| IVF with a 2% filter (exact over the subset) | – | {p50:.2f} | {p95:.2f} | {p50 / exact_p50:.2f}x | 1.000 |"
    )
    single = timed(lambda: approximate.upsert(["do_7"], vectors[7:8]))
    print(f"update of one item in the {items}-item IVF index: {single * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--sample-courses", type=int, default=415)
    parser.add_argument("--with-e5", action="store_true", help="Also time the multilingual encoder (slow on CPU).")
    parser.add_argument("--hybrid-items", type=int, default=20_000, help="Synthetic courses for the hybrid's cost.")
    parser.add_argument("--skip-sample", action="store_true", help="Only the synthetic large-catalog parts.")
    args = parser.parse_args()
    if not args.skip_sample:
        bench_sample(args.sample_courses, args.with_e5)
    bench_hybrid_scale(args.hybrid_items)
    bench_large(args.items)


if __name__ == "__main__":
    main()
