"""The sample catalog in data/ is big and varied enough to run the product on, and loads cleanly."""

from __future__ import annotations

from sqlalchemy import Engine

from models import catalog_stats, list_courses, load_competency_model, session_scope


def test_sample_catalog_meets_the_sizes_we_promise(sample_engine: Engine):
    with session_scope(sample_engine) as session:
        stats = catalog_stats(session)
        model = load_competency_model(session)
    assert stats.areas == 3 and {a.name for a in model.areas} == {"Behavioural", "Functional", "Domain"}
    assert stats.themes >= 25 and stats.competencies >= 90
    assert all(len(c.levels) == 5 and c.description for c in model.competencies)
    assert stats.roles >= 30 and stats.ministries >= 6
    assert stats.courses >= 300 and stats.providers >= 20
    assert stats.non_english_share >= 0.15
    assert stats.courses_by_format.get("igot_v5", 0) > 0 and stats.courses_by_format.get("igot_v6", 0) > 0
    assert stats.learners >= 60


def test_every_competency_is_built_by_some_course(sample_engine: Engine):
    with session_scope(sample_engine) as session:
        taught = {c.competency_id for course in list_courses(session) for c in course.competencies}
        competencies = {c.id for c in load_competency_model(session).competencies}
    assert competencies <= taught
