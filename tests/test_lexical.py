"""BM25 kept current course by course (search/lexical.py) scores exactly as bm25s does over the same passages,
after any sequence of additions, edits and removals, and a copy never changes the index it was copied from."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.lexical import LexicalIndex, tokenize

WORDS = ["noting", "drafting", "files", "rti", "procurement", "gem", "programming", "programs", "the", "budget"]
QUERIES = ["noting and drafting", "programming the budget", "rti files files", "gem"]


def bm25s_scores(texts: dict[str, str], query: str) -> dict[str, float]:
    """What the project ran before: bm25s over the sorted passages, an empty passage as one unknown token."""
    identifiers = sorted(texts)
    index = bm25s.BM25()
    index.index([tokenize(texts[i]) or ["\0"] for i in identifiers], show_progress=False)
    tokens = [token for token in tokenize(query) if token in index.vocab_dict]
    if not tokens:
        return dict.fromkeys(identifiers, 0.0)
    return dict(zip(identifiers, index.get_scores(tokens).tolist(), strict=True))


def our_scores(index: LexicalIndex, query: str) -> dict[str, float]:
    columns = np.array(list(index.columns.values()), dtype=np.int64)
    scores = index.scores([query], columns)[0]
    return dict(zip(index.columns, scores.tolist(), strict=True))


passages = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)
changes = st.lists(st.tuples(st.sampled_from([f"c{n}" for n in range(6)]), st.none() | passages), max_size=10)


@settings(max_examples=60, deadline=None)
@given(start=st.dictionaries(st.sampled_from([f"c{n}" for n in range(6)]), passages, min_size=1), steps=changes)
def test_scores_equal_bm25s_after_any_changes(start: dict[str, str], steps: list[tuple[str, str | None]]) -> None:
    texts = dict(start)
    index = LexicalIndex(texts)
    for identifier, text in steps:
        before = {query: our_scores(index, query) for query in QUERIES}
        served = index
        index = index.copy()
        if text is None:
            texts.pop(identifier, None)
            index.remove([identifier])
        else:
            texts[identifier] = text
            index.upsert([identifier], [text])
        assert {query: our_scores(served, query) for query in QUERIES} == before, "a copy changed its original"
        assert set(index.columns) == set(texts)
        if texts:
            for query in QUERIES:
                assert our_scores(index, query) == pytest.approx(bm25s_scores(texts, query), rel=1e-5, abs=1e-6)


def test_search_ranks_by_score_then_identifier_and_honours_the_allowed_courses() -> None:
    index = LexicalIndex({"b": "noting drafting", "a": "noting drafting", "c": "budget", "d": "noting"})
    ranked = index.search("noting drafting", 10)
    assert [identifier for identifier, _ in ranked] == ["a", "b", "d"]
    assert ranked[0][1] == pytest.approx(ranked[1][1]) and ranked[0][1] > ranked[2][1] > 0
    assert [identifier for identifier, _ in index.search("noting", 10, allowed={"b", "c"})] == ["b"]
    index.remove(["a"])
    assert [identifier for identifier, _ in index.search("noting drafting", 10)] == ["b", "d"]
    assert index.search("unknown words", 10) == []
