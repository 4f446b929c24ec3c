"""After courses are added, edited and removed, the recommender's coverage table that keeps the rows no change
can reach (CoverageTable.carry_over) equals the table built afresh, and searches only the other rows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sqlalchemy import Engine

from models import session_scope
from recommender.inputs import load_inputs
from recommender.recommend import Recommender
from search import CourseSearcher, RetrievalConfig, empty_parts
from search.updates import updated_searcher
from tests.test_search_updates import ENCODER

CONFIG = RetrievalConfig(encoder="word-hash", multilingual_encoder=None)


@pytest.mark.parametrize("only_edit", [False, True])
def test_carried_rows_and_searched_rows_give_the_table_built_afresh(sample_engine: Engine, only_edit: bool) -> None:
    with session_scope(sample_engine) as session:
        inputs = load_inputs(session)
    names = {identifier: competency.name for identifier, competency in inputs.competencies.items()}
    searcher = CourseSearcher(CONFIG, empty_parts(CONFIG, ENCODER))
    searcher.upsert_courses(inputs.courses, names)
    before = Recommender(inputs, searcher.match_texts)
    before.coverage_.ensure_all()

    courses = {course.identifier: course for course in inputs.courses}
    first, second, third = sorted(courses)[:3]
    added = courses[first].model_copy(update={"identifier": "do_new_course", "description": "Noting on files."})
    edited = courses[second].model_copy(update={"description": "Public procurement on the GeM portal."})
    upserts, removals = ([edited], []) if only_edit else ([added, edited], [third])
    for identifier in removals:
        courses.pop(identifier)
    courses |= {course.identifier: course for course in upserts}
    after_inputs = replace(inputs, courses=sorted(courses.values(), key=lambda course: course.identifier))
    after_searcher = updated_searcher(searcher, upserts, removals, names)

    queries: list[list[str]] = []

    def counting(texts: list[str], k: int) -> list[list[tuple[str, float]]]:
        queries.append(texts)
        return after_searcher.match_texts(texts, k)

    kept = Recommender(after_inputs, counting)
    touched = {course.identifier for course in upserts} | set(removals)
    carried = kept.coverage_.carry_over(before.coverage_, touched, after_searcher.match_scores)
    kept.coverage_.ensure_all()
    fresh = Recommender(after_inputs, after_searcher.match_texts)
    fresh.coverage_.ensure_all()

    rows = fresh.coverage_.padding_row_
    assert 0 < carried < rows and sum(len(texts) for texts in queries) == rows - carried
    np.testing.assert_allclose(kept.coverage_.matrix_, fresh.coverage_.matrix_, atol=1e-6)
    assert kept.coverage_.semantic_.keys() == fresh.coverage_.semantic_.keys()
    for row, found in fresh.coverage_.semantic_.items():
        assert kept.coverage_.semantic_[row].keys() == found.keys()
