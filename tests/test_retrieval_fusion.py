"""The small pure parts of retrieval: fusing rankings, passage text, filters and query language detection."""

from __future__ import annotations

import pytest

from models import Course, CourseCompetency
from search import CourseFacts, SearchFilters, detect_language
from search.fusion import reciprocal_rank_fusion, zscore_fusion
from search.lexical import tokenize
from search.passages import course_text


def test_rrf_rewards_agreement_between_lists_and_ignores_raw_scores():
    fused = reciprocal_rank_fusion([[("a", 100.0), ("b", 99.0)], [("b", 0.2), ("c", 0.1)]], k=60)
    assert [identifier for identifier, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_zscore_fusion_puts_retrievers_on_one_scale_and_counts_a_missing_item_as_the_lowest():
    dense = [("a", 0.90), ("b", 0.80), ("c", 0.10)]
    bm25 = [("b", 30.0), ("c", 28.0), ("d", 5.0)]  # BM25's scale is 30x the cosine's; it did not find "a"
    fused = dict(zscore_fusion({"dense": dense, "bm25": bm25}, {"dense": 1.0, "bm25": 1.0}))
    assert max(fused, key=fused.get) == "b"
    only_dense = dict(zscore_fusion({"dense": dense, "bm25": bm25}, {"dense": 1.0, "bm25": 0.0}))
    assert max(only_dense, key=only_dense.get) == "a"
    assert zscore_fusion({"dense": [], "bm25": []}, {}) == []


def test_passage_text_takes_the_chosen_fields_in_a_fixed_order():
    course = Course(
        identifier="do_1",
        name="Noting and Drafting",
        description="Writing notes on files",
        keywords=["noting", "e-office"],
        competencies=[CourseCompetency(competency_id="FUN-02-01", level=2)],
    )
    names = {"FUN-02-01": "Noting and Drafting (KCM)"}
    assert course_text(course, competency_names=names) == (
        "Noting and Drafting. Writing notes on files. Keywords: noting, e-office. "
        "Competencies: Noting and Drafting (KCM)."
    )
    assert course_text(course, ["description", "title"]) == "Noting and Drafting. Writing notes on files."
    with pytest.raises(ValueError, match=r"unknown passage field.*skills"):
        course_text(course, ["title", "skills"])


def test_filters_match_languages_providers_categories_and_duration():
    facts = CourseFacts(languages=["hi", "en"], organisations=["ISTM"], category="Course", duration_seconds=3600)
    assert SearchFilters().allows(facts) and SearchFilters().is_empty()
    assert SearchFilters(languages=frozenset({"hi"})).allows(facts)
    assert not SearchFilters(languages=frozenset({"ta"})).allows(facts)
    assert SearchFilters(providers=frozenset({"istm"})).allows(facts)
    assert not SearchFilters(categories=frozenset({"Program"})).allows(facts)
    assert SearchFilters(max_duration_seconds=3600).allows(facts)
    assert not SearchFilters(max_duration_seconds=3599).allows(facts)
    assert not SearchFilters(max_duration_seconds=3600).allows(CourseFacts(duration_seconds=None))


@pytest.mark.parametrize(
    ("query", "language"),
    [
        ("noting and drafting", "en"),
        ("Beschaffung", "en"),  # ASCII-only text is taken as English: a few words fool the detector
        ("नोटिंग और ड्राफ्टिंग कैसे करें", "hi"),
        ("தகவல் அறியும் உரிமைச் சட்டம்", "ta"),
        ("সরকারি দপ্তরে নোট লেখা", "bn"),
    ],
)
def test_query_language_detection_uses_the_bundled_model(query, language):
    assert detect_language(query) == language


def test_bm25_tokens_drop_english_stopwords_and_case_and_share_a_stem_across_word_forms():
    assert tokenize("The Basics of Noting and Drafting") == ["basic", "note", "draft"]
    assert tokenize("Programming") == tokenize("programs") == tokenize("PROGRAM")
