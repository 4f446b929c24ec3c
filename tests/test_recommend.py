"""Ranking, reasons and learning paths on the tiny hand-made catalog of test_gaps (real MiniLM where semantic)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from embeddings import Encoder
from models import Learner
from recommender.paths import learning_path
from recommender.ranking import RankingConfig
from recommender.recommend import Recommender
from tests.search_helpers import dense_matcher, minilm_encoder
from tests.test_gaps import course, small_inputs


@pytest.fixture(scope="module")
def minilm() -> Encoder:
    return minilm_encoder()


def top(recommender: Recommender, learner: Learner, k: int = 10) -> list[str]:
    return [item.course_id for item in recommender.recommend(learner, k).items]


def test_a_course_that_closes_two_gaps_beats_one_that_closes_one():
    learner = Learner(id="L1", roles=["ROLE-SO"], competencies=[{"competency_id": "FUN-02-01", "level": 1}])
    ranked = top(Recommender(small_inputs()), learner)
    assert ranked[0] == "c-combo-2"
    first = Recommender(small_inputs()).recommend(learner).items[0]
    assert {e.competency_id for e in first.explanation.gaps} == {"FUN-02-01", "FUN-02-02"}


def test_level_fit_prefers_the_learners_next_level():
    learner = Learner(id="L1", roles=["ROLE-SO"], competencies=[{"competency_id": "FUN-02-01", "level": 2}])
    ranked = top(Recommender(small_inputs()), learner)
    assert ranked.index("c-noting-3") < ranked.index("c-noting-2")
    # A level-1 course is two levels below the next level (3): no use at all.
    assert "c-noting-1" not in ranked


def test_completed_and_enrolled_courses_are_never_recommended():
    learner = Learner(id="L1", roles=["ROLE-SO"], completed=["c-combo-2"], enrolled=["c-noting-2"])
    ranked = top(Recommender(small_inputs()), learner)
    assert ranked
    assert "c-combo-2" not in ranked
    assert "c-noting-2" not in ranked


def test_preferred_language_first_and_an_approved_translation_counts_as_available():
    twin = course("c-noting-2-twin", "Noting and drafting practice, again", {"FUN-02-01": 2})
    inputs = small_inputs((twin,), approved_translations={"c-noting-2-twin": frozenset({"ta"})})
    recommendations = Recommender(inputs).recommend(Learner(id="L1", roles=["ROLE-SO"], preferred_languages=["ta"]))
    ranked = [item.course_id for item in recommendations.items]
    assert ranked.index("c-noting-2-twin") < ranked.index("c-noting-2")
    twin_item = next(item for item in recommendations.items if item.course_id == "c-noting-2-twin")
    assert (twin_item.explanation.language, twin_item.explanation.language_source) == ("ta", "translated")
    hindi = Recommender(inputs).recommend(Learner(id="L2", roles=["ROLE-SO"], preferred_languages=["hi"]))
    ranked = [item.course_id for item in hindi.items]
    assert ranked.index("c-noting-2") < ranked.index("c-noting-2-twin")


def test_diversity_spreads_the_top_k_over_gaps():
    extra = (course("c-noting-2b", "More noting practice", {"FUN-02-01": 2}),)
    learner = Learner(id="L1", roles=["ROLE-SO"], competencies=[{"competency_id": "FUN-02-01", "level": 1}])
    inputs = small_inputs(extra)
    inputs = dataclasses.replace(inputs, courses=[c for c in inputs.courses if c.identifier != "c-combo-2"])
    relevance_only = top(Recommender(inputs, ranking=RankingConfig(diversity=0.0)), learner, k=3)
    diverse = top(Recommender(inputs, ranking=RankingConfig(diversity=1.0)), learner, k=3)
    # Noting (critical, size 2) dominates on relevance alone; with diversity another gap gets the second place.
    assert relevance_only[:2] == ["c-noting-2", "c-noting-2b"]
    assert diverse[0] == "c-noting-2"
    assert not diverse[1].startswith("c-noting")


def test_no_padding_when_no_course_addresses_the_gaps():
    inputs = small_inputs()
    inputs = dataclasses.replace(inputs, courses=[c for c in inputs.courses if not c.identifier.startswith("c-procu")])
    learner = Learner(id="L1", roles=["ROLE-PO"], competencies=[{"competency_id": "FUN-02-01", "level": 2}])
    recommendations = Recommender(inputs).recommend(learner)
    assert recommendations.items == ()
    assert recommendations.reason == "no course in the catalog addresses these gaps: Public Procurement"


def test_short_list_rather_than_unrelated_courses():
    learner = Learner(id="L1", roles=["ROLE-PO"], competencies=[{"competency_id": "FUN-02-01", "level": 2}])
    recommendations = Recommender(small_inputs()).recommend(learner)
    assert [item.course_id for item in recommendations.items] == ["c-procure-3"]
    assert "only 1 course(s)" in (recommendations.reason or "")


def test_duration_limit_leaves_long_courses_out():
    learner = Learner(id="L1", roles=["ROLE-PO"])
    limited = Recommender(small_inputs(), ranking=RankingConfig(max_duration_minutes=90))
    assert "c-procure-3" not in top(limited, learner)
    assert "c-procure-3" in top(Recommender(small_inputs()), learner)


def test_reasons_say_which_gap_from_which_level_to_which_and_the_evidence():
    learner = Learner(id="L1", roles=["ROLE-SO"], competencies=[{"competency_id": "FUN-02-01", "level": 2}])
    items = Recommender(small_inputs()).recommend(learner).items
    item = next(item for item in items if item.course_id == "c-noting-3")
    evidence = item.explanation.gaps[0]
    assert (evidence.competency_id, evidence.from_level, evidence.to_level) == ("FUN-02-01", 2, 3)
    assert (evidence.evidence, evidence.course_level) == ("tagged", 3)
    assert "Noting and Drafting 2→3 (tagged at level 3)" in item.explanation.summary()


@pytest.mark.slow
def test_semantic_matches_find_an_untagged_course(minilm):
    inputs = small_inputs()
    learner = Learner(id="L1", roles=["ROLE-SO"], competencies=[{"competency_id": "FUN-02-01", "level": 1}])
    without = top(Recommender(inputs), learner)
    recommender = Recommender(inputs, dense_matcher(inputs.courses, minilm))
    recommendations = recommender.recommend(learner)
    ranked = [item.course_id for item in recommendations.items]
    assert "c-untagged" not in without
    assert "c-untagged" in ranked
    assert "c-cakes" not in ranked
    untagged = next(item for item in recommendations.items if item.course_id == "c-untagged")
    evidence = untagged.explanation.gaps[0]
    assert (evidence.competency_id, evidence.evidence) == ("FUN-02-01", "semantic")
    assert evidence.similarity is not None and evidence.similarity > 0.45
    # Tagged, exactly-levelled courses still come first.
    assert ranked.index("c-combo-2") < ranked.index("c-untagged")


@pytest.mark.slow
def test_role_free_learners_get_department_popular_and_interest_matches(minilm):
    inputs = small_inputs(department_popularity={"DoPT": {"c-grievance": 12, "c-noting-1": 3}})
    recommender = Recommender(inputs, dense_matcher(inputs.courses, minilm))
    learner = Learner(id="L9", department="DoPT", interests=["public procurement through GeM bids"])
    recommendations = recommender.recommend(learner, k=3)
    assert recommendations.mode == "role-free"
    kinds = {item.course_id: {s.kind for s in item.explanation.signals} for item in recommendations.items}
    assert "popular_in_department" in kinds["c-grievance"]
    assert "interest" in kinds["c-procure-3"]
    assert "c-cakes" not in kinds
    assert any("role-free" in note for note in recommendations.notes)


def test_batch_ranking_equals_one_learner_at_a_time():
    recommender = Recommender(small_inputs())
    learners = [
        Learner(id="A", roles=["ROLE-SO"]),
        Learner(id="B", roles=["ROLE-SO", "ROLE-PO"], preferred_languages=["hi", "en"], completed=["c-noting-1"]),
        Learner(id="C", roles=["ROLE-PO"], competencies=[{"competency_id": "FUN-03-01", "level": 3}]),
        Learner(id="D", roles=["ROLE-SO"], competencies=[{"competency_id": "FUN-02-01", "level": 3}]),
        Learner(id="E", department="DoPT"),
    ]
    together = recommender.recommend_many(learners, k=4)
    alone = [[(i.course_id, i.score) for i in recommender.recommend(learner, k=4).items] for learner in learners]
    assert together == alone
    assert all(len(items) > 0 for items in together[:4])


def test_learning_path_closes_gaps_level_by_level_with_total_duration():
    learner = Learner(id="L1", roles=["ROLE-SO"])
    path = learning_path(Recommender(small_inputs()), learner)
    reached = [(c, level) for step in path.steps for c, _, level in step.closes]
    noting = [level for c, level in reached if c == "FUN-02-01"]
    assert noting == [1, 2, 3]
    assert [step.stage for step in path.steps] == sorted(step.stage for step in path.steps)
    assert path.total_duration_seconds == 3600 * len(path.steps)
    # c-combo-2 is tagged exactly at the noting and e-Office level 2 steps, so it closes both at once.
    combo = next(step for step in path.steps if step.course_id == "c-combo-2")
    assert {("FUN-02-01", 2), ("FUN-02-02", 2)} <= {(c, level) for c, _, level in combo.closes}
    # The only grievance course was used for level 1; level 2 is left open and said so.
    assert path.uncovered == (("BEH-01-02", 2),)


def test_approved_translations_and_department_popularity_come_from_the_database(engine, tmp_path):
    from models import ingest_file, session_scope
    from models.tables import TranslationUnitRow
    from recommender.inputs import load_inputs
    from tests.conftest import FIXTURES

    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    courses = tmp_path / "courses.jsonl"
    courses.write_text(
        "\n".join(
            json.dumps({"identifier": identifier, "name": name, "competencies": [{"competency_id": "FUN-02-01"}]})
            for identifier, name in (("c-1", "Noting"), ("c-2", "Drafting"), ("c-3", "Files"))
        )
        + "\n"
    )
    ingest_file(engine, "courses", courses)
    learners = tmp_path / "learners.jsonl"
    learners.write_text(
        json.dumps({"id": "L1", "department": "DoPT", "completed": ["c-1"], "enrolled": ["c-2"]})
        + "\n"
        + json.dumps({"id": "L2", "department": "DoPT", "completed": ["c-1"]})
        + "\n"
    )
    ingest_file(engine, "learners", learners)

    def unit(course_id: str, field: str, language: str, status: str) -> TranslationUnitRow:
        return TranslationUnitRow(
            course_id=course_id, field=field, language=language, source_text="x", source_hash="h", status=status
        )

    with session_scope(engine) as session:
        session.add_all(
            [
                unit("c-1", "name", "hi", "approved"),
                unit("c-1", "description", "hi", "approved"),
                unit("c-2", "name", "hi", "approved"),
                unit("c-2", "description", "hi", "in_review"),  # not every field approved yet
                unit("c-3", "name", "ta", "machine_translated"),
            ]
        )
    with session_scope(engine) as session:
        inputs = load_inputs(session)
    assert inputs.approved_translations == {"c-1": frozenset({"hi"})}
    assert inputs.department_popularity == {"DoPT": {"c-1": 2, "c-2": 1}}
