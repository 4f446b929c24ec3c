"""Incremental index upkeep: any sequence of course additions, edits and removals applied to a loaded searcher
gives exactly the search results of a fresh build of the same catalog, and the searcher being served is never
modified by an update (a new one is swapped in)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Course
from search import CourseSearcher, RetrievalConfig, empty_parts
from search.updates import updated_searcher

WORDS = ["noting", "drafting", "rti", "procurement", "gem", "stress", "cyber", "budget", "audit", "ethics", "files"]
QUERIES = ["noting and drafting", "public procurement on gem", "stress at work", "cyber audit", "ethics"]
DIMENSION = 16


class WordHashEncoder:
    """A deterministic stand-in for MiniLM: each word a fixed random unit vector, a text the normalised sum;
    token vectors are the words' vectors. Same text, same vectors, whatever the batch."""

    model_id = "word-hash"
    dimension = DIMENSION

    def _word(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def _tokens(self, text: str) -> np.ndarray:
        words = [word for word in text.lower().replace(".", " ").replace(",", " ").split() if word.isalpha()]
        return np.stack([self._word(word) for word in words]) if words else np.zeros((0, DIMENSION), np.float32)

    def _text(self, text: str) -> np.ndarray:
        tokens = self._tokens(text)
        summed = tokens.sum(axis=0) if len(tokens) else self._word("\0")
        return (summed / max(float(np.linalg.norm(summed)), 1e-6)).astype(np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._text(text) for text in texts]) if texts else np.zeros((0, DIMENSION), np.float32)

    encode_passages = encode_queries

    def encode_query_tokens(self, texts: Sequence[str]) -> list[np.ndarray]:
        return [self._tokens(text) for text in texts]

    encode_passage_tokens = encode_query_tokens

    def encode_queries_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.encode_queries(texts), self.encode_query_tokens(texts)

    def encode_passages_and_tokens(
        self, texts: Sequence[str], with_tokens: int, precision: str = "fp32"
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self.encode_passages(texts), self.encode_passage_tokens(texts[:with_tokens])


ENCODER = WordHashEncoder()
# The default hybrid, every part on (the multilingual part with the same stand-in), neighbours included.
CONFIG = RetrievalConfig(encoder="word-hash", multilingual_encoder="word-hash", candidates=6)


def course(identifier: str, words: Sequence[str], language: str) -> Course:
    return Course(
        identifier=identifier,
        name=" ".join(words[:2]) or "course",
        description=". ".join(words) + ".",
        languages=[language],
    )


def fresh(courses: dict[str, Course]) -> CourseSearcher:
    """A build as `karmayogi index build` makes it: with a progress callback, so that passages, sentences and
    tokens are encoded in passes of their own (an update of a few courses encodes them in one)."""
    searcher = CourseSearcher(CONFIG, empty_parts(CONFIG, ENCODER, ENCODER))
    searcher.upsert_courses(list(courses.values()), {}, progress=lambda done: None)
    return searcher


def results(searcher: CourseSearcher) -> list[list[tuple[str, float]]]:
    return searcher.search_many(QUERIES, 5)


def assert_same(got: list[list[tuple[str, float]]], expected: list[list[tuple[str, float]]]) -> None:
    """Equal scores rank by rank (to float rounding), and equal courses wherever a score is not tied: courses
    of equal score (identical texts are common here) may be ordered either way by rounding."""
    for ranking, wanted in zip(got, expected, strict=True):
        assert [score for _, score in ranking] == pytest.approx([score for _, score in wanted], abs=1e-4)
        for position, (course_id, score) in enumerate(wanted):
            tied = [i for i, s in wanted if abs(s - score) <= 1e-4]
            if len(tied) == 1:
                assert ranking[position][0] == course_id


def assert_same_neighbours(live: CourseSearcher, expected: CourseSearcher) -> None:
    """Each course's nearest courses, kept current change by change, score as those computed afresh (courses of
    equal score may be listed in either order)."""

    def cosines(searcher: CourseSearcher) -> dict[str, list[float]]:
        vector = searcher.parts.passages.vector
        return {i: [float(vector(i) @ vector(o)) for o in near] for i, near in searcher.neighbours().items()}

    got, wanted = cosines(live), cosines(expected)
    assert got.keys() == wanted.keys()
    for identifier, scores in wanted.items():
        assert got[identifier] == pytest.approx(scores, abs=1e-5)


identifiers = st.sampled_from([f"do_{n}" for n in range(8)])
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("upsert"),
            identifiers,
            st.lists(st.sampled_from(WORDS), min_size=1, max_size=6),
            st.sampled_from(["en", "hi"]),
        ),
        st.tuples(st.just("remove"), identifiers, st.just([]), st.just("en")),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.lists(st.tuples(identifiers, st.lists(st.sampled_from(WORDS), min_size=1, max_size=6)), min_size=2),
    changes=steps,
)
def test_any_sequence_of_changes_gives_the_results_of_a_fresh_build(start, changes):
    catalog = {identifier: course(identifier, words, "en") for identifier, words in start}
    live = fresh(catalog)
    for action, identifier, words, language in changes:
        served = results(live) if len(live) else None
        if action == "upsert":
            catalog[identifier] = course(identifier, words, language)
            updated = updated_searcher(live, [catalog[identifier]], [], {})
        else:
            catalog.pop(identifier, None)
            updated = updated_searcher(live, [], [identifier], {})
        if served is not None:
            assert results(live) == served, "the served searcher changed under an update"
        live = updated
        if catalog:
            expected = fresh(catalog)
            assert_same(results(live), results(expected))
            assert_same_neighbours(live, expected)
        else:
            assert len(live) == 0


def test_an_unchanged_course_is_not_encoded_again_and_the_searcher_is_kept():
    catalog = {f"do_{n}": course(f"do_{n}", WORDS[n : n + 3], "en") for n in range(5)}
    live = fresh(catalog)
    assert updated_searcher(live, list(catalog.values()), ["do_unknown"], {}) is live


@pytest.mark.parametrize("language", ["hi", "en"])
def test_filters_follow_an_edit_of_a_course_s_languages(language):
    catalog = {f"do_{n}": course(f"do_{n}", WORDS[n : n + 3], "en") for n in range(5)}
    live = fresh(catalog)
    edited = course("do_1", WORDS[1:4], language)
    live = updated_searcher(live, [edited], [], {})
    from search import SearchFilters

    hindi = live.search("drafting rti", 5, SearchFilters(languages=frozenset({"hi"})))
    assert [i for i, _ in hindi] == (["do_1"] if language == "hi" else [])
