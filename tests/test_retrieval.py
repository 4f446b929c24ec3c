"""Course search on real sample courses with the real encoders: English, Hindi and Tamil queries, filters,
single-course updates, and the matcher the recommender calls."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from embeddings import CachedEncoder, EmbeddingCache, IndexMismatchError
from models import Course, list_courses, load_competency_model, session_scope
from search import (
    CourseSearcher,
    RetrievalConfig,
    SearchFilters,
    build_searcher,
    detect_language,
    empty_parts,
    load_searcher,
    save_searcher,
)
from search.neighbours import NearestCourses
from search.passages import passage_segments

pytestmark = pytest.mark.slow

TARGETS = {
    "noting": "Noting and Drafting: Basics",
    "stress": "Stress Management for Government Employees",
    "rti": "Right to Information Act, 2005: Basics for All Employees",
    "gem": "Procurement Essentials on GeM",
    "cyber": "Cyber Crime Awareness and Reporting",
    "shg": "स्वयं सहायता समूह और ग्रामीण आजीविका",
}


@pytest.fixture(scope="module")
def catalog(sample_engine: Engine) -> tuple[list[Course], dict[str, str]]:
    """The target courses plus the first 30 others of the sample catalog: small enough to encode quickly."""
    with session_scope(sample_engine) as session:
        everything = list_courses(session)
        names = {c.id: c.name for c in load_competency_model(session).competencies}
    targets = [c for c in everything if c.name in TARGETS.values()]
    assert len(targets) == len(TARGETS), "the sample catalog lost a course these tests search for"
    others = [c for c in everything if c not in targets][:30]
    return targets + others, names


@pytest.fixture(scope="module")
def searcher(catalog, tmp_path_factory: pytest.TempPathFactory) -> CourseSearcher:
    courses, names = catalog
    cache = EmbeddingCache(tmp_path_factory.mktemp("cache") / "embeddings.sqlite")
    return build_searcher(courses, names, RetrievalConfig(), cache=cache)


def fresh_parts(searcher: CourseSearcher):
    """Empty indexes over the searcher's own (warm, cached) encoders."""
    parts = searcher.parts
    return empty_parts(searcher.config, parts.encoder, parts.multilingual_encoder)


def encoded_counts(searcher: CourseSearcher) -> dict[str, int]:
    parts = searcher.parts
    encoders = {"english": parts.encoder, "multilingual": parts.multilingual_encoder}
    return {name: encoder.encoded for name, encoder in encoders.items() if isinstance(encoder, CachedEncoder)}


def top_names(searcher: CourseSearcher, catalog, query: str, k: int = 3, **options) -> list[str]:
    by_id = {c.identifier: c.name for c in catalog[0]}
    return [by_id[identifier] for identifier, _ in searcher.search(query, k, **options)]


def test_english_queries_find_the_course_among_the_first_three(searcher, catalog):
    assert TARGETS["noting"] in top_names(searcher, catalog, "basics of noting and drafting on files")
    assert TARGETS["gem"] in top_names(searcher, catalog, "buying goods through the government e-marketplace")


@pytest.mark.parametrize(
    ("query", "language", "target"),
    [
        ("सूचना का अधिकार अधिनियम के बारे में जानकारी", "hi", "rti"),  # about the Right to Information Act
        ("कार्यस्थल पर तनाव का प्रबंधन", "hi", "stress"),  # managing stress at the workplace
        ("தகவல் அறியும் உரிமைச் சட்டம்", "ta", "rti"),  # the Right to Information Act
        ("இணைய குற்றங்களைப் புகாரளித்தல்", "ta", "cyber"),  # reporting cyber crimes
    ],
)
def test_hindi_and_tamil_queries_find_the_english_course(searcher, catalog, query, language, *, target):
    assert detect_language(query) == language
    # Among the English courses (about 25), chance would put the right one in the top 3 one time in eight.
    english = SearchFilters(languages=frozenset({"en"}))
    assert TARGETS[target] in top_names(searcher, catalog, query, 3, filters=english)


def test_an_english_query_finds_a_course_written_only_in_hindi(searcher, catalog):
    # For a reader of Hindi: English courses come first for anyone else (tests/test_readable.py).
    assert TARGETS["shg"] in top_names(searcher, catalog, "self-help groups and rural livelihoods", 3, reads=["hi"])


def test_filters_restrict_results_without_losing_the_best_match(searcher, catalog):
    courses = {c.identifier: c for c in catalog[0]}
    hindi = searcher.search("rural livelihoods", 5, SearchFilters(languages=frozenset({"hi"})))
    assert hindi and all("hi" in courses[i].languages for i, _ in hindi)
    assert courses[hindi[0][0]].name == TARGETS["shg"]
    short = searcher.search("stress", 10, SearchFilters(max_duration_seconds=3600))
    assert all((courses[i].duration_seconds or 0) <= 3600 and courses[i].duration_seconds is not None for i, _ in short)
    provider = courses[next(c.identifier for c in catalog[0] if c.name == TARGETS["noting"])].organisations[0]
    by_provider = searcher.search("drafting", 10, SearchFilters(providers=frozenset({provider.upper()})))
    assert by_provider and all(provider in courses[i].organisations for i, _ in by_provider)
    assert searcher.search("drafting", 10, SearchFilters(categories=frozenset({"no such category"}))) == []


def test_updating_one_course_re_embeds_one_text_per_encoder_and_search_follows(searcher, catalog, tmp_path: Path):
    courses, names = catalog
    own = CourseSearcher(searcher.config, fresh_parts(searcher))  # warm encoders and cache
    own.upsert_courses(courses, names)
    before = encoded_counts(own)
    course = next(c for c in courses if c.name == TARGETS["stress"])
    edited = course.model_copy(update={"description": "Beekeeping and honey production for farmer groups."})
    own.upsert_courses([edited], names)
    after = encoded_counts(own)
    # English: the passage with its tokens (one forward pass) and its one changed sentence (the title's is cached);
    # multilingual: one.
    assert {name: after[name] - before[name] for name in after} == {"english": 2, "multilingual": 1}
    assert own.search("beekeeping and honey", 1)[0][0] == course.identifier
    assert own.remove_courses([course.identifier]) == 1
    assert course.identifier not in [i for i, _ in own.search("beekeeping and honey", 36)]


def test_the_recommender_can_match_competency_descriptions_by_cosine_similarity(searcher, catalog):
    rows = searcher.match_texts(["Right to Information: handling RTI applications and appeals", "Noting"], 5)
    assert len(rows) == 2 and all(len(row) == 5 for row in rows)
    assert all(-1.0 <= score <= 1.0 for row in rows for _, score in row)
    by_id = {c.identifier: c.name for c in catalog[0]}
    assert by_id[rows[0][0][0]] == TARGETS["rti"]


def test_the_embedding_cache_is_keyed_by_model(searcher, tmp_path: Path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    for encoder in searcher.parts.encoders():
        assert isinstance(encoder, CachedEncoder)
        CachedEncoder(encoder.encoder, cache).encode_passages(["Office procedure"])
    assert cache.count() == 2


def test_a_saved_index_searches_exactly_as_built_and_an_index_without_token_vectors_is_refused(
    searcher, tmp_path: Path
):
    path = tmp_path / "courses.npz"
    save_searcher(searcher, path, "fingerprint")
    loaded = load_searcher(path, searcher.config, "fingerprint")
    assert loaded.parts.tokens is not None and loaded.neighbours() == searcher.neighbours()
    queries = ["basics of noting and drafting on files", "managing stress", "सूचना का अधिकार"]
    assert loaded.search_many(queries, 5) == searcher.search_many(queries, 5)
    without = CourseSearcher(
        replace(searcher.config, token_weight=0), replace(searcher.parts, tokens=None), searcher.texts, searcher.facts
    )
    save_searcher(without, path, "fingerprint")
    with pytest.raises(IndexMismatchError, match=r"without tokens vectors.*karmayogi index build"):
        load_searcher(path, searcher.config, "fingerprint")
    assert load_searcher(path, replace(searcher.config, token_weight=0), "fingerprint").parts.tokens is None


def test_each_course_keeps_its_nearest_courses_and_its_sentences_follow_updates(searcher, catalog):
    courses, names = catalog
    neighbours = searcher.neighbours()
    assert set(neighbours) == {c.identifier for c in courses}
    assert all(len(near) == 10 and identifier not in near for identifier, near in neighbours.items())
    first = courses[0].identifier
    passages = searcher.parts.passages
    cosines = [float(passages.vector(first) @ passages.vector(i)) for i in neighbours[first]]
    assert cosines == sorted(cosines, reverse=True)
    own = CourseSearcher(searcher.config, fresh_parts(searcher))
    own.upsert_courses(courses, names)
    own.neighbours()
    sentences, tokens = own.parts.sentences, own.parts.tokens
    assert sentences is not None and tokens is not None
    course = courses[1]
    before = len(sentences)
    own.upsert_courses([course.model_copy(update={"description": "One. Two sentences here. And three!"})], names)
    assert len(sentences.of(course.identifier)) == len(passage_segments(own.texts[course.identifier]))
    # Kept current by searching again only the lists the edit can reach: the same lists as computed afresh.
    assert own.neighbours() == NearestCourses.compute(own.parts.passages, 10).lists
    assert own.remove_courses([course.identifier]) == 1
    assert len(sentences) == before - len(passage_segments(searcher.texts[course.identifier]))
    assert course.identifier not in tokens and course.identifier not in own.neighbours()


def test_a_filter_that_allows_every_course_changes_nothing(searcher, catalog):
    languages = {language for course in catalog[0] for language in course.languages}
    everyone = SearchFilters(languages=frozenset(languages))
    assert len(searcher.allowed(everyone)) == len(catalog[0])
    for query in ("stress at the workplace", "buying on the government e-marketplace"):
        # A reader of every language: nothing goes first (without `reads`, English courses would).
        assert searcher.search(query, 8, everyone) == searcher.search(query, 8, reads=languages)
