"""Batch runs: JSONL and Parquet output equal to the interactive ranker, resumable after a crash."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from models import Learner
from recommender.batch import BatchError, read_learners_jsonl, run_batch
from recommender.recommend import Recommender
from tests.test_gaps import small_inputs

ROLES = (["ROLE-SO"], ["ROLE-PO"], ["ROLE-SO", "ROLE-PO"], [])
LANGUAGES = (["en"], ["hi", "en"], ["ta"])


def learners(count: int) -> list[Learner]:
    courses = ["c-noting-1", "c-noting-2", "c-combo-2", "c-procure-3"]
    return [
        Learner(
            id=f"L{i:04d}",
            roles=ROLES[i % len(ROLES)],
            department="DoPT",
            preferred_languages=LANGUAGES[i % len(LANGUAGES)],
            completed=[courses[i % len(courses)]] if i % 3 else [],
            competencies=[{"competency_id": "FUN-02-01", "level": 1 + i % 3}] if i % 2 else [],
        )
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender(small_inputs(department_popularity={"DoPT": {"c-grievance": 4}}))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_batch_equals_the_interactive_ranker(recommender, tmp_path):
    people = learners(23)
    out = tmp_path / "recs.jsonl"
    report = run_batch(recommender, lambda skip: people[skip:], out, k=3, chunk_size=5)
    assert report.learners == 23
    rows = read_jsonl(out)
    assert [row["learner"] for row in rows] == [p.id for p in people]
    for person, row in zip(people, rows, strict=True):
        interactive = recommender.recommend(person, k=3).items
        assert row["courses"] == [item.course_id for item in interactive]
        assert row["scores"] == [item.score for item in interactive]


def test_a_crashed_run_resumes_without_losing_or_repeating_learners(recommender, tmp_path):
    people = learners(23)
    out = tmp_path / "recs.jsonl"

    def crashing(skip: int) -> Iterator[Learner]:
        for i, person in enumerate(people[skip:]):
            if i == 12:
                raise RuntimeError("power cut")
            yield person

    with pytest.raises(RuntimeError):
        run_batch(recommender, crashing, out, k=3, chunk_size=5)
    with out.open("a") as handle:  # half a line written after the last checkpoint
        handle.write('{"learner": "L00')
    with pytest.raises(BatchError, match="--resume"):
        run_batch(recommender, lambda skip: people[skip:], out, k=3, chunk_size=5)
    report = run_batch(recommender, lambda skip: people[skip:], out, k=3, chunk_size=5, resume=True)
    assert (report.skipped, report.learners) == (10, 13)
    clean = tmp_path / "clean.jsonl"
    run_batch(recommender, lambda skip: people[skip:], clean, k=3, chunk_size=7)
    assert out.read_text() == clean.read_text()


def test_parquet_batch_is_a_folder_of_parts_and_resumes(recommender, tmp_path):
    people = learners(17)
    out = tmp_path / "recs.parquet"

    def crashing(skip: int) -> Iterator[Learner]:
        yield from people[skip : skip + 8]
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        run_batch(recommender, crashing, out, k=3, chunk_size=4)
    run_batch(recommender, lambda skip: people[skip:], out, k=3, chunk_size=4, resume=True)
    table = pq.read_table(out)
    assert table.column("learner").to_pylist() == [p.id for p in people]
    expected = recommender.recommend_many(people, k=3)
    assert table.column("courses").to_pylist() == [[c for c, _ in items] for items in expected]


def test_resuming_with_another_k_is_refused(recommender, tmp_path):
    out = tmp_path / "recs.jsonl"
    people = learners(4)
    run_batch(recommender, lambda skip: people[skip:], out, k=3, chunk_size=2)
    with pytest.raises(BatchError, match="k=3"):
        run_batch(recommender, lambda skip: people[skip:], out, k=5, chunk_size=2, resume=True)


def test_a_bad_learner_line_names_file_line_and_field(tmp_path):
    source = tmp_path / "learners.jsonl"
    good = Learner(id="L1", roles=["ROLE-SO"]).model_dump_json()
    bad = json.dumps({"id": "L2", "competencies": [{"competency_id": "FUN-02-01", "level": 9}]})
    source.write_text(good + "\n" + bad + "\n")
    with pytest.raises(BatchError, match=r"learners.jsonl: learner 2: competencies\.0\.level"):
        list(read_learners_jsonl(source))
    assert next(read_learners_jsonl(source)).id == "L1"


def test_scores_do_not_depend_on_how_learners_are_chunked(sqlite_engine, tmp_path):
    """Batch and interactive results must agree to the last digit, so no learner's score may depend on who else is
    in the chunk (a batched BLAS product once made them differ in the sixth decimal)."""
    from models import ingest_file, session_scope
    from models.sample_data import COMPETENCIES_FILE, ROLES_FILE
    from models.synth import SynthPlan, synthesise
    from recommender.inputs import load_inputs

    files = synthesise(SynthPlan(courses=600, learners=600, out=tmp_path, seed=3), COMPETENCIES_FILE, ROLES_FILE)
    for kind in ("competencies", "roles", "courses"):
        ingest_file(sqlite_engine, kind, files[kind])
    with session_scope(sqlite_engine) as session:
        recommender = Recommender(load_inputs(session))
    people = list(read_learners_jsonl(files["learners"]))
    together = recommender.recommend_many(people, k=10)
    for size in (1, 7):
        chunks = [people[i : i + size] for i in range(0, len(people), size)]
        chunked = [items for chunk in chunks for items in recommender.recommend_many(chunk, k=10)]
        assert chunked == together, size
