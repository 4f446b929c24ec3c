"""The batch engine (forked workers, msgspec reader, gaps as arrays, sparse pools) against today's paths: the same
courses and scores as `Recommender.recommend` for random learners, the same bytes as `run_batch_reference`, the
same verdict as pydantic on every line, the same errors."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from models import Learner, NotFoundError
from recommender import ranking
from recommender.batch import BatchError, read_learners_jsonl, run_batch, run_batch_reference
from recommender.batch_rank import ChunkRanker, top_k
from recommender.batch_read import PROFILE_FIELDS, LineError, decode_lines, from_learner
from recommender.ranking_reference import dense_rank_chunk
from recommender.recommend import Recommender


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Recommender, Path]:
    """A 600-course synthetic catalog and 600 of its learners (file), as `karmayogi synth` makes them."""
    from models import ingest_file, make_engine, session_scope, upgrade
    from models.sample_data import COMPETENCIES_FILE, ROLES_FILE
    from models.synth import SynthPlan, synthesise
    from recommender.inputs import load_inputs

    folder = tmp_path_factory.mktemp("synth")
    files = synthesise(SynthPlan(courses=600, learners=600, out=folder, seed=5), COMPETENCIES_FILE, ROLES_FILE)
    engine = make_engine(f"sqlite:///{folder / 'k.db'}")
    upgrade(engine)
    for kind in ("competencies", "roles", "courses"):
        ingest_file(engine, kind, files[kind])
    with session_scope(engine) as session:
        inputs = load_inputs(session)
    engine.dispose()
    popular = {"Department of Personnel and Training": {c.identifier: 3 for c in inputs.courses[:30]}}
    return Recommender(replace(inputs, department_popularity=popular)), files["learners"]


def random_learners(recommender: Recommender, count: int, seed: int) -> list[Learner]:
    """Learners of every shape: one or two roles or none, attested levels, completed and enrolled courses,
    languages in any order, departments and interests for the role-free."""
    rng = random.Random(seed)
    roles = sorted(recommender.inputs.roles)
    competencies = sorted(recommender.inputs.competencies)
    courses = [c.identifier for c in recommender.inputs.courses]
    languages = (["en"], ["hi", "en"], ["hi"], ["ta", "en"], ["bn"], [], ["mr", "hi", "en"])
    people = []
    for i in range(count):
        taken = rng.sample(courses, rng.randint(0, 6))
        people.append(
            Learner(
                id=f"R{i:05d}",
                roles=rng.sample(roles, rng.choice((0, 1, 1, 1, 2))),
                department=rng.choice((None, "Department of Personnel and Training", "Elsewhere")),
                preferred_languages=rng.choice(languages),
                completed=taken[1:],
                enrolled=taken[:1],
                competencies=[
                    {"competency_id": c, "level": rng.randint(1, 5), "source": rng.choice(("self", "assessed"))}
                    for c in rng.sample(competencies, rng.randint(0, 8))
                ],
                interests=rng.sample(["noting", "procurement", "ethics"], rng.randint(0, 1)),
            )
        )
    return people


def write_jsonl(path: Path, people: list[Learner]) -> Path:
    path.write_text("".join(p.model_dump_json() + "\n" for p in people), encoding="utf-8")
    return path


def test_the_engine_gives_every_random_learner_what_recommend_gives(synthetic, tmp_path):
    recommender, _ = synthetic
    people = random_learners(recommender, 700, seed=11)
    source = partial(read_learners_jsonl, write_jsonl(tmp_path / "people.jsonl", people))
    out = tmp_path / "engine.jsonl"
    run_batch(recommender, source, out, k=7, chunk_size=128, workers=2)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["learner"] for row in rows] == [p.id for p in people]
    assert sum(1 for p in people if not p.roles) > 50  # the role-free path is exercised too
    for person, row in zip(people, rows, strict=True):
        alone = recommender.recommend(person, k=7).items
        assert row["courses"] == [item.course_id for item in alone], person.id
        assert np.allclose(row["scores"], [item.score for item in alone], rtol=0, atol=1e-6), person.id


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_the_engine_writes_what_the_reference_path_writes(synthetic, tmp_path, fmt):
    import pyarrow.parquet as pq

    recommender, learners_file = synthetic
    source = partial(read_learners_jsonl, learners_file)
    outputs = []
    for name, run in (("reference", run_batch_reference), ("one", partial(run_batch, workers=1)),
                      ("two", partial(run_batch, workers=2))):  # fmt: skip
        out = tmp_path / f"{name}.{fmt}"
        report = run(recommender, source, out, k=10, chunk_size=100)
        assert report.learners == 600
        outputs.append(out.read_bytes() if fmt == "jsonl" else pq.read_table(out).to_pylist())
    assert outputs[0] == outputs[1] == outputs[2]


def test_learner_objects_from_the_database_take_the_engine_too(synthetic, tmp_path):
    recommender, _ = synthetic
    people = random_learners(recommender, 300, seed=3)
    engine, reference = tmp_path / "engine.jsonl", tmp_path / "reference.jsonl"
    run_batch(recommender, lambda skip: people[skip:], engine, k=5, chunk_size=64, workers=2)
    run_batch_reference(recommender, lambda skip: people[skip:], reference, k=5, chunk_size=64)
    assert engine.read_bytes() == reference.read_bytes()


def test_interests_are_matched_in_the_parent_never_in_a_forked_worker(synthetic, tmp_path):
    """The search model's threads do not survive a fork: a worker leaves role-free learners with interests to the
    parent, which ranks them with the matcher and writes them in their place."""
    import os

    base, _ = synthetic
    parent = os.getpid()
    courses = [c.identifier for c in base.inputs.courses]

    def matcher(texts: list[str], k: int) -> list[list[tuple[str, float]]]:
        if os.getpid() != parent:
            raise RuntimeError("the matcher was called in a forked worker")
        return [[(courses[(len(text) + i) % len(courses)], 0.62 - 0.01 * i) for i in range(min(k, 8))]
                for text in texts]  # fmt: skip

    recommender = Recommender(base.inputs, matcher)
    people = random_learners(recommender, 300, seed=19)
    assert any(not p.roles and p.interests for p in people)
    source = partial(read_learners_jsonl, write_jsonl(tmp_path / "people.jsonl", people))
    engine, reference = tmp_path / "engine.jsonl", tmp_path / "reference.jsonl"
    run_batch(recommender, source, engine, k=5, chunk_size=50, workers=2)
    run_batch_reference(recommender, source, reference, k=5, chunk_size=50)
    assert engine.read_bytes() == reference.read_bytes()


def test_top_k_equals_recommend_many_chunk_by_chunk(synthetic):
    recommender, _ = synthetic
    people = random_learners(recommender, 400, seed=7)
    ranker = ChunkRanker(recommender)
    for start in range(0, 400, 150):
        chunk = people[start : start + 150]
        assert top_k(ranker, [from_learner(p) for p in chunk], 10) == recommender.recommend_many(chunk, 10)


@pytest.mark.parametrize("pool", [100, 12, 3])
def test_sparse_pools_rank_exactly_as_the_dense_argpartition(synthetic, monkeypatch, pool):
    """Small pools make most learners' pools overflow and tie at their edge (synthetic courses share scores)."""
    recommender, _ = synthetic
    config = replace(recommender.ranking, pool=pool)
    ranker = ChunkRanker(recommender)
    people = [from_learner(p) for p in random_learners(recommender, 500, seed=pool) if p.roles]
    held = ranker.gaps.held(people)
    gaps = ranker.gaps.gap_rows(people, held)
    table, preference = recommender.features_.factor_table([p.preferred_languages for p in people])
    index = recommender.coverage_.course_index_
    excluded = [[index[c] for c in (*p.completed, *p.enrolled) if c in index] for p in people]
    arguments = (recommender.coverage_.matrix_, recommender.coverage_.sparse(), gaps.rows, gaps.priorities)
    options = {"factor_table": table, "preference": preference, "excluded": excluded, "k": 10, "config": config}
    expected = dense_rank_chunk(*arguments, **options)
    for cells in (0, 10**12):  # every chunk sparse, every chunk dense
        monkeypatch.setattr(ranking, "DENSE_CELLS", cells)
        got = ranking.rank_chunk(*arguments, **options)
        assert np.array_equal(got.columns, expected.columns)
        assert np.array_equal(got.scores, expected.scores)


def test_language_factors_are_what_the_per_course_loop_gave(synthetic):
    recommender, _ = synthetic
    features, config = recommender.features_, recommender.ranking
    for preferred in (("en",), ("hi", "en"), ("ta",), (), ("mr", "hi", "en"), ("xx",)):
        expected = []
        for native, translated in zip(features.native_languages_, features.translated_languages_, strict=True):
            available = native | translated
            if preferred and preferred[0] in available:
                expected.append(config.first_language)
            elif available.intersection(preferred):
                expected.append(config.other_preferred_language)
            else:
                expected.append(config.unavailable_language)
        assert features.language_factor(preferred).tolist() == np.array(expected, dtype=np.float32).tolist()


TRICKY = [
    '{"id": "a", "roles": ["ROLE-SO"], "preferred_languages": ["Hindi", " en "]}',
    '{"id": " padded ", "department": " DoPT ", "interests": [" noting "]}',
    '{"id": "a", "competencies": [{"competency_id": "X", "level": "3"}]}',
    '{"id": "a", "competencies": [{"competency_id": "X", "level": 3.0}]}',
    '{"id": "a", "competencies": [{"competency_id": "X", "level": true}]}',
    '{"id": "a", "competencies": [{"competency_id": "X", "level": 6}]}',
    '{"id": "a", "competencies": [{"competency_id": "X", "level": 2, "source": "boss"}]}',
    '{"id": "a", "competencies": [{"competency_id": "X", "level": 2}, {"competency_id": "X", "level": 3}]}',
    '{"id": "a", "preferred_languages": ["klingon"]}',
    '{"id": "a", "preferred_languages": ["en", "hi", "English"]}',
    '{"id": "a", "enrolled": ["c1"], "completed": ["c1"]}',
    '{"id": "a", "roles": null}',
    '{"id": "has space"}',
    '{"id": "' + "x" * 129 + '"}',
    '{"id": "' + "x" * 128 + '", "unknown field": 1}',
    '{"id": "कर्मयोगी", "name": "नाम"}',
    '{"id": "a", "name": "\\ud800"}',
    '{"id": "a", "id": "b"}',
    '{"id": "a", "department": "' + "d" * 257 + '"}',
    '{"id": "a", "department": ""}',
    '{"id": ""}',
    '{"roles": ["ROLE-SO"]}',
    '["not", "an", "object"]',
    '{"id": "a",',
    '\ufeff{"id": "a"}',
    '{"id": "a", "completed": ["c1", 7]}',
]


@pytest.mark.parametrize("line", TRICKY)
def test_the_reader_agrees_with_pydantic_on_every_line(line):
    try:
        expected = from_learner(Learner.model_validate_json(line))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "record"
        with pytest.raises(LineError) as raised:
            decode_lines([line.encode()], 4)
        assert str(raised.value) == f"learner 4: {where}: {first['msg']}"
    else:
        assert decode_lines([line.encode()], 4) == [expected]
        assert decode_lines([b'{"id": "ok"}', line.encode()], 1)[1] == expected


def test_the_reader_mirrors_every_field_of_learner():
    assert set(PROFILE_FIELDS) == set(Learner.model_fields)


def test_bad_lines_and_unknown_references_fail_as_they_did(synthetic, tmp_path):
    recommender, learners_file = synthetic
    good = learners_file.read_text().splitlines()[:300]
    cases = {
        "level": (json.dumps({"id": "B1", "competencies": [{"competency_id": "FUN-02-01", "level": 9}]}), BatchError),
        "course": (json.dumps({"id": "B2", "roles": [], "completed": ["no-such-course"]}), NotFoundError),
        "role": (json.dumps({"id": "B3", "roles": ["ROLE-NONE"]}), NotFoundError),
        "json": ('{"id": "B4", ', BatchError),
    }
    for name, (bad, kind) in cases.items():
        source = tmp_path / f"{name}.jsonl"
        source.write_text("\n".join([*good[:250], bad, *good[250:]]) + "\n", encoding="utf-8")
        messages: list[str] = []
        for run in (run_batch_reference, partial(run_batch, workers=2)):
            out = tmp_path / f"{name}-{len(messages)}.jsonl"
            with pytest.raises(kind) as raised:
                run(recommender, partial(read_learners_jsonl, source), out, k=5, chunk_size=100)
            messages.append(str(raised.value))
            assert len(out.read_text().splitlines()) == 200  # the chunks before the bad one are written
        assert messages[0] == messages[1], name
        if name == "level":
            assert messages[0].startswith(f"{source}: learner 251: competencies.0.level")


def test_blank_lines_and_crlf_are_read_as_before(synthetic, tmp_path):
    recommender, learners_file = synthetic
    lines = learners_file.read_text().splitlines()[:120]
    source = tmp_path / "messy.jsonl"
    body = "\r\n".join(lines[:40]) + "\n\n  \t\n" + "\n".join(lines[40:80]) + "\n\u00a0\n" + "\r".join(lines[80:])
    source.write_bytes(body.encode("utf-8"))
    outputs = []
    for run in (run_batch_reference, partial(run_batch, workers=2)):
        out = tmp_path / f"messy-{len(outputs)}.jsonl"
        assert run(recommender, partial(read_learners_jsonl, source), out, k=5, chunk_size=32).learners == 120
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    resumed = tmp_path / "resumed.jsonl"  # skipping on resume counts learners, not physical lines
    run_batch_reference(recommender, partial(read_learners_jsonl, source), resumed, k=5, chunk_size=32)
    state = resumed.with_name(resumed.name + ".checkpoint.json")
    kept = b"".join(outputs[0].splitlines(keepends=True)[:64])
    resumed.write_bytes(kept)
    state.write_text(json.dumps({"format": "jsonl", "k": 5, "learners_done": 64, "bytes": len(kept)}))
    report = run_batch(recommender, partial(read_learners_jsonl, source), resumed, k=5, chunk_size=32, resume=True)
    assert (report.skipped, report.learners) == (64, 56)
    assert resumed.read_bytes() == outputs[0]


def test_no_fork_while_a_ray_runtime_runs_in_this_process(monkeypatch):
    import sys
    import types

    from recommender.batch_pool import default_workers

    fake = types.ModuleType("ray")
    fake.is_initialized = lambda: True  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ray", fake)
    assert default_workers() == 1
    fake.is_initialized = lambda: False  # type: ignore[attr-defined]
    assert default_workers() >= 1
