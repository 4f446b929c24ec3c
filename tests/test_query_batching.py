"""Concurrent query encodings share one call (embeddings/batching.py): each caller gets its own rows, the
same as alone, failures reach every caller of the call, and a lone caller is not kept waiting."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from embeddings import SentenceTransformerEncoder, load_encoder
from embeddings.batching import CallBatcher


class _SlowUpper:
    """A `work` that takes a while per call (not per text), like a weight-bound forward pass, and records calls."""

    def __init__(self, seconds: float = 0.05, fail_on: str | None = None) -> None:
        self.seconds = seconds
        self.fail_on = fail_on
        self.calls: list[list[str]] = []
        self.lock = threading.Lock()

    def __call__(self, texts: list[str]) -> list[str]:
        with self.lock:
            self.calls.append(list(texts))
        time.sleep(self.seconds)
        if self.fail_on is not None and self.fail_on in texts:
            raise ValueError(f"cannot encode {self.fail_on!r}")
        return [text.upper() for text in texts]


def test_callers_at_the_same_moment_share_calls_and_each_gets_its_own_results_in_order():
    work = _SlowUpper(seconds=0.2)
    batcher = CallBatcher(work, max_batch=64)
    asks = [[f"q{n}a", f"q{n}b"] if n % 3 == 0 else [f"q{n}"] for n in range(24)]
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(batcher, asks))
    assert answers == [[text.upper() for text in ask] for ask in asks]
    # 24 callers, sleeping 200 ms per call: without sharing that is 24 calls; with it, a first call and then
    # one or a few for everybody who arrived meanwhile.
    assert len(work.calls) <= 6
    assert sorted(text for call in work.calls for text in call) == sorted(text for ask in asks for text in ask)
    # A caller's texts stay together in one call.
    assert all(any(ask == call[i : i + len(ask)] for call in work.calls for i in range(len(call))) for ask in asks)


def test_a_call_never_exceeds_max_batch_texts():
    work = _SlowUpper(seconds=0.02)
    batcher = CallBatcher(work, max_batch=4)
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda n: batcher([f"t{n}"]), range(16)))
    assert answers == [[f"T{n}"] for n in range(16)]
    assert max(len(call) for call in work.calls) <= 4


def test_a_lone_caller_runs_at_once_and_a_failing_text_fails_its_own_caller_only():
    work = _SlowUpper(seconds=0.0)
    batcher = CallBatcher(work)
    assert batcher(["alone"]) == ["ALONE"] and work.calls == [["alone"]]
    assert batcher([]) == [] and len(work.calls) == 1

    failing = _SlowUpper(seconds=0.3, fail_on="bad")
    batcher = CallBatcher(failing)
    started = threading.Event()

    def first() -> list[str]:
        started.set()
        return batcher(["good"])

    with ThreadPoolExecutor(3) as pool:
        alone = pool.submit(first)
        started.wait()
        time.sleep(0.05)  # the first call is running: the next two wait and share the second call
        bad, fine = pool.submit(batcher, ["bad"]), pool.submit(batcher, ["fine"])
        assert alone.result() == ["GOOD"]
        with pytest.raises(ValueError, match="cannot encode 'bad'"):
            bad.result()
        # The shared call failed; each caller's texts were then encoded alone, so "fine" is not hurt by "bad".
        assert fine.result() == ["FINE"]
    assert failing.calls[0] == ["good"] and sorted(failing.calls[1]) == ["bad", "fine"]
    assert sorted(map(tuple, failing.calls[2:])) == [("bad",), ("fine",)]
    assert batcher(["after"]) == ["AFTER"]  # usable after a failure


def test_a_work_that_loses_results_is_an_error_not_short_answers():
    batcher = CallBatcher(lambda texts: [text.upper() for text in texts][:1])
    assert batcher(["one"]) == ["ONE"]
    with pytest.raises(ValueError, match="returned 1 results for 2 texts"):
        batcher(["one", "two"])


@pytest.mark.slow
def test_minilm_queries_from_many_threads_equal_each_query_encoded_alone():
    minilm = load_encoder("minilm")
    assert isinstance(minilm, SentenceTransformerEncoder)
    queries = ["public procurement on GeM", "stress", "noting and drafting on e-Office files", "RTI", "cyber"] * 4
    alone = [minilm.encode_queries_with_tokens([query]) for query in queries]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda query: minilm.encode_queries_with_tokens([query]), queries))
        plain = np.vstack(list(pool.map(lambda query: minilm.encode_queries([query]), queries)))
    for (vectors, tokens), (alone_vectors, alone_tokens) in zip(together, alone, strict=True):
        np.testing.assert_allclose(vectors, alone_vectors, atol=1e-5)
        assert [t.shape for t in tokens] == [t.shape for t in alone_tokens]
        assert all(np.allclose(a, b, atol=1e-4) for a, b in zip(tokens, alone_tokens, strict=True))
    np.testing.assert_allclose(plain, np.vstack([vectors for vectors, _ in alone]), atol=1e-5)
