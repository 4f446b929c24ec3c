"""Gap analysis on a tiny hand-made catalog (the small KCM of tests/fixtures, two roles, a dozen courses)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from models import Course, Learner, NotFoundError, Role
from models.kcm_document import read_competency_model
from recommender.gaps import GapPriority, ProfileError, analyse_gaps
from recommender.inputs import CatalogInputs

FIXTURES = Path(__file__).with_name("fixtures")


def course(identifier: str, name: str, tags: dict[str, int | None], **extra: object) -> Course:
    data = {"identifier": identifier, "name": name, "duration_seconds": 3600, "rating": 4.0, "rating_count": 10}
    data |= extra
    data["competencies"] = [{"competency_id": c, "level": level} for c, level in tags.items()]
    return Course.model_validate(data)


def small_inputs(extra_courses: tuple[Course, ...] = (), **overrides: Any) -> CatalogInputs:
    model = read_competency_model(FIXTURES / "kcm_small.json")
    assert not model.problems
    roles = [
        Role(
            id="ROLE-SO",
            designation="Section Officer",
            department="DoPT",
            competencies=[
                {"competency_id": "FUN-02-01", "level": 3, "importance": 3},
                {"competency_id": "FUN-02-02", "level": 2, "importance": 2},
                {"competency_id": "BEH-01-02", "level": 2, "importance": 1},
            ],
        ),
        Role(
            id="ROLE-PO",
            designation="Procurement Officer",
            department="DoE",
            competencies=[
                {"competency_id": "FUN-03-01", "level": 4, "importance": 3},
                {"competency_id": "FUN-02-01", "level": 2, "importance": 2},
            ],
        ),
    ]
    courses = [
        course("c-noting-1", "Noting basics", {"FUN-02-01": 1}),
        course("c-noting-2", "Noting and drafting practice", {"FUN-02-01": 2}, languages=["en", "hi"]),
        course("c-noting-3", "Drafting letters unaided", {"FUN-02-01": 3}),
        course("c-eoffice-2", "Moving files in e-Office", {"FUN-02-02": 2}, languages=["hi"]),
        course("c-combo-2", "Notes and e-files: the section's daily work", {"FUN-02-01": 2, "FUN-02-02": 2}),
        course("c-grievance", "Handling public grievances", {"BEH-01-02": None}),
        course("c-procure-3", "Running bids on GeM", {"FUN-03-01": 3}, duration_seconds=7200),
        course(
            "c-untagged",
            "Writing government notes and drafts on files",
            {},
            description="How to write a note on a file, draft letters and office memoranda in the Secretariat.",
        ),
        course("c-cakes", "Baking sponge cakes at home", {}, description="Flour, eggs, sugar and an oven."),
        *extra_courses,
    ]
    inputs = CatalogInputs(
        competencies={c.id: c for c in model.competencies}, roles={r.id: r for r in roles}, courses=courses
    )
    return replace(inputs, **overrides)


def analyse(learner: Learner, inputs: CatalogInputs | None = None):
    inputs = inputs or small_inputs()
    return analyse_gaps(learner, inputs.roles, inputs.competencies, inputs.courses_by_id)


def test_gaps_are_required_minus_held_levels_with_their_source():
    learner = Learner(
        id="L1",
        roles=["ROLE-SO"],
        competencies=[
            {"competency_id": "FUN-02-01", "level": 1, "source": "assessed"},
            {"competency_id": "BEH-01-02", "level": 2},
        ],
    )
    analysis = analyse(learner)
    by_id = {gap.competency_id: gap for gap in analysis.gaps}
    assert set(by_id) == {"FUN-02-01", "FUN-02-02"}
    assert (by_id["FUN-02-01"].current_level, by_id["FUN-02-01"].required_level, by_id["FUN-02-01"].size) == (1, 3, 2)
    assert by_id["FUN-02-01"].level_source == "assessed"
    assert (by_id["FUN-02-02"].current_level, by_id["FUN-02-02"].level_source) == (0, "unknown")
    assert analysis.met == ("BEH-01-02",)
    assert analysis.levels_known


def test_completed_courses_imply_levels_and_an_unstated_level_implies_one():
    learner = Learner(id="L1", roles=["ROLE-SO"], completed=["c-noting-2", "c-grievance"])
    by_id = {gap.competency_id: gap for gap in analyse(learner).gaps}
    assert (by_id["FUN-02-01"].current_level, by_id["FUN-02-01"].level_source) == (2, "completed courses")
    assert (by_id["BEH-01-02"].current_level, by_id["BEH-01-02"].size) == (1, 1)


def test_several_roles_take_the_highest_level_and_importance():
    learner = Learner(id="L1", roles=["ROLE-SO", "ROLE-PO"])
    by_id = {gap.competency_id: gap for gap in analyse(learner).gaps}
    assert by_id["FUN-02-01"].required_level == 3
    assert by_id["FUN-02-01"].roles == ("ROLE-SO", "ROLE-PO")
    assert by_id["FUN-03-01"].required_level == 4


def test_priority_orders_bigger_and_more_important_gaps_first():
    analysis = analyse(Learner(id="L1", roles=["ROLE-SO", "ROLE-PO"]))
    order = [gap.competency_id for gap in analysis.gaps]
    # Procurement: size 4, critical. Noting: size 3, critical. e-Office: size 2. Grievances: useful, behavioural.
    assert order == ["FUN-03-01", "FUN-02-01", "FUN-02-02", "BEH-01-02"]
    priority = GapPriority()
    assert priority.score(2, 3, "FUN") > priority.score(2, 3, "BEH")
    assert priority.score(3, 2, "FUN") > priority.score(2, 2, "FUN")


def test_a_learner_without_levels_is_treated_as_level_zero_and_told_so():
    analysis = analyse(Learner(id="L1", roles=["ROLE-SO"]))
    assert all(gap.current_level == 0 for gap in analysis.gaps)
    assert not analysis.levels_known
    assert any("taken as 0" in note for note in analysis.notes)


def test_a_learner_who_meets_every_level_has_no_gaps():
    held = [
        {"competency_id": "FUN-02-01", "level": 3},
        {"competency_id": "FUN-02-02", "level": 5},
        {"competency_id": "BEH-01-02", "level": 2},
    ]
    analysis = analyse(Learner(id="L1", roles=["ROLE-SO"], competencies=held))
    assert analysis.gaps == ()
    assert "meets every level" in analysis.notes[-1]


def test_unknown_role_is_named():
    with pytest.raises(NotFoundError, match="unknown role 'ROLE-NOPE'"):
        analyse(Learner(id="L1", roles=["ROLE-SO", "ROLE-NOPE"]))


def test_unknown_competency_in_a_profile_names_the_field():
    learner = Learner(id="L1", roles=["ROLE-SO"], competencies=[{"competency_id": "FUN-99-99", "level": 2}])
    with pytest.raises(ProfileError, match=r"competencies\[0\]\.competency_id: unknown competency 'FUN-99-99'"):
        analyse(learner)


def test_unknown_completed_course_is_named():
    with pytest.raises(NotFoundError, match="unknown course 'do_nope'"):
        analyse(Learner(id="L1", roles=["ROLE-SO"], completed=["do_nope"]))
