"""The Ray engine gives exactly what the local engine gives: one small local Ray instance (2 CPUs) for this file."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from api.cli import app
from api.cli.context import console as cli_console
from models import Learner, ingest_file, iter_learners, make_engine, session_scope, upgrade
from models.ingest import KINDS
from models.sample_data import COMPETENCIES_FILE, ROLES_FILE, SAMPLE_FILES
from models.synth import SynthPlan, synthesise
from models.tables import CourseRow, TranslationJobRow, TranslationUnitRow
from recommender.batch import run_batch
from recommender.batch_ray import run_batch_on_ray
from recommender.inputs import load_inputs
from recommender.recommend import Recommender
from tests.search_helpers import dense_matcher
from translation import FIELDS, JobReport, load_engine, load_glossary, run_translation_job, seed_memory
from translation.ct2 import convert_to_ctranslate2
from translation.languages import TranslationLanguage, translation_language
from translation.ray_mt import RayTranslator
from translation.rounds import AnsweringEngine, MTCall
from translation.store import SEED_FILES, read_parallel_file
from translation.tiny_model import train_tiny_marian


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
    for kind in KINDS:
        ingest_file(db, kind, files[kind])
    with session_scope(db) as session:
        people = list(iter_learners(session))
    return db, people


def test_ray_and_local_engines_write_identical_recommendations_with_the_real_encoder(synthetic, tmp_path: Path):
    db, people = synthetic
    with session_scope(db) as session:
        inputs = load_inputs(session)
    recommender = Recommender(inputs, dense_matcher(inputs.courses))
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


def test_a_ray_run_killed_while_reading_its_next_round_resumes_after_the_rounds_it_wrote(synthetic, tmp_path: Path):
    db, people = synthetic
    with session_scope(db) as session:
        recommender = Recommender(load_inputs(session))
    out, clean = tmp_path / "resumed.jsonl", tmp_path / "clean.jsonl"

    def crashing(skip: int) -> Iterator[Learner]:
        for i, person in enumerate(people[skip:]):
            if i == 130:  # inside the second round of 2 chunks of 50
                raise RuntimeError("power cut")
            yield person

    with pytest.raises(RuntimeError, match="power cut"):
        run_batch_on_ray(recommender, crashing, out, k=5, chunk_size=50, round_chunks=2)
    report = run_batch_on_ray(recommender, lambda skip: people[skip:], out, k=5, chunk_size=50, resume=True)

    assert (report.skipped, report.learners) == (100, 100)
    run_batch(recommender, lambda skip: people[skip:], clean, k=5, chunk_size=50)
    assert out.read_bytes() == clean.read_bytes()


class ReadOnce:
    """A learner source that fails if anything iterates it a second time; it counts what it yields."""

    def __init__(self, people: Sequence[Learner]) -> None:
        self.people, self.iterated, self.yielded = people, 0, 0

    def __iter__(self) -> Iterator[Learner]:
        self.iterated += 1
        if self.iterated > 1:
            raise AssertionError("the learner source was read twice")
        for person in self.people:
            self.yielded += 1
            yield person


def test_a_ray_run_of_several_rounds_reads_its_source_once_and_writes_what_the_local_engine_writes(
    synthetic, tmp_path: Path, monkeypatch
):
    import recommender.batch_ray as batch_ray

    db, people = synthetic
    with session_scope(db) as session:
        recommender = Recommender(load_inputs(session))  # tags only: this test is about rounds
    rounds: list[tuple[Any, int]] = []  # (the recommender's object reference, chunks) per round
    rank = batch_ray.rank_chunks_on_ray

    def recording(shared: Any, chunks: Sequence[Sequence[Learner]], *args: Any, **kwargs: Any) -> Any:
        rounds.append((shared, len(chunks)))
        return rank(shared, chunks, *args, **kwargs)

    monkeypatch.setattr(batch_ray, "rank_chunks_on_ray", recording)
    sources: list[ReadOnce] = []

    def source(skip: int) -> ReadOnce:
        sources.append(ReadOnce(people[skip:]))
        return sources[-1]

    local, distributed = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run_batch(recommender, lambda skip: people[skip:], local, k=5, chunk_size=30)
    report = run_batch_on_ray(recommender, source, distributed, k=5, chunk_size=30, round_chunks=3)

    assert report.learners == 200
    assert distributed.read_bytes() == local.read_bytes()
    assert [chunks for _, chunks in rounds] == [3, 3, 1]  # 7 chunks of 30 (the last one of 20)
    assert len({shared.hex() for shared, _ in rounds}) == 1  # the recommender was put into the object store once
    assert len(sources) == 1 and (sources[0].iterated, sources[0].yielded) == (1, 200)


def test_ray_results_out_of_step_with_the_learners_are_never_written(synthetic, tmp_path: Path, monkeypatch):
    import recommender.batch_ray as batch_ray

    db, people = synthetic
    with session_scope(db) as session:
        recommender = Recommender(load_inputs(session))

    def swapped(shared: Any, chunks: Sequence[Sequence[Learner]], k: int, **_: Any) -> Iterator[Any]:
        """Ranks locally, but hands the second and third chunk back in the wrong order."""
        ranked = [([p.id for p in chunk], recommender.recommend_many(chunk, k)) for chunk in chunks]
        ranked[1], ranked[2] = ranked[2], ranked[1]
        yield from ranked

    monkeypatch.setattr(batch_ray, "rank_chunks_on_ray", swapped)
    out = tmp_path / "recs.jsonl"
    with pytest.raises(RuntimeError, match="out of step"):
        run_batch_on_ray(recommender, lambda skip: people[skip:], out, k=5, chunk_size=30, round_chunks=4)

    assert [json.loads(line)["learner"] for line in out.read_text().splitlines()] == [p.id for p in people[:30]]


def test_cli_recommend_batch_engine_ray_writes_the_same_parquet_as_local(synthetic, tmp_path: Path, monkeypatch):
    db, _ = synthetic
    monkeypatch.setenv("DATABASE_URL", str(db.url))
    monkeypatch.setattr(cli_console, "width", 200)  # rich wraps at the width it found when the module loaded
    runner = CliRunner()
    outputs = {}
    for name in ("local", "ray"):
        outputs[name] = tmp_path / f"{name}.parquet"
        options = ["--no-semantic", "--engine", name, "--chunk-size", "40", "--round-chunks", "2"]
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
    # The Ray pool encodes in float32; a local build would use bf16 where the CPU has it. Like with like.
    monkeypatch.setenv("KARMAYOGI_SEARCH_INDEX_PRECISION", "fp32")
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


# Bulk translation: the tiny Marian model of the translation tests, converted to CTranslate2 (the fast path).


@pytest.fixture(scope="module")
def marian(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Marian model trained here (small and short: identical outputs, not good ones, are the point)."""
    _, _, reviewed = read_parallel_file(SEED_FILES["hi"])
    folder = tmp_path_factory.mktemp("marian")
    return train_tiny_marian(reviewed[:80], folder, steps=300, d_model=64, keep=load_glossary().do_not_translate())


@pytest.fixture(scope="module")
def marian_ct2(marian: Path) -> Path:
    return convert_to_ctranslate2(marian, marian.parent / "ct2")


def sample_catalog(path: Path, memory: bool = True) -> Engine:
    """The sample catalog in a new SQLite database, its Hindi memory seeded from the shipped reviewed pairs."""
    db = make_engine(f"sqlite:///{path}")
    upgrade(db)
    for kind, file in SAMPLE_FILES:
        ingest_file(db, kind, file)
    if memory:
        with session_scope(db) as session:
            seed_memory(session, SEED_FILES["hi"])
    return db


@pytest.fixture(scope="module")
def local_translations(marian_ct2: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, JobReport]:
    """The reference: the job on the local engine, names and descriptions of 48 courses into Hindi and Marathi."""
    db = sample_catalog(tmp_path_factory.mktemp("local") / "karmayogi.db")
    mt = load_engine(marian_ct2, "ctranslate2", beams=2, batch_size=8)
    report = run_translation_job(db, ["hi", "mr"], FIELDS, courses(db), mt=mt, glossary=load_glossary(), batch_size=8)
    return db, report


def courses(db: Engine, count: int = 48) -> list[str]:
    with session_scope(db) as session:
        return list(session.scalars(select(CourseRow.identifier).order_by(CourseRow.identifier).limit(count)))


def stored_units(db: Engine) -> list[tuple[Any, ...]]:
    """Everything a reviewer sees of each unit (and its history's actions), in key order."""
    with session_scope(db) as session:
        rows = session.scalars(
            select(TranslationUnitRow).order_by(
                TranslationUnitRow.course_id, TranslationUnitRow.field, TranslationUnitRow.language
            )
        )
        return [
            (
                *(row.course_id, row.field, row.language, row.status, row.draft, row.engine, row.memory_score),
                *(row.flags, row.source_hash, [(h.action, h.status, h.text, h.actor) for h in row.history]),
            )
            for row in rows
        ]


def comparable(report: JobReport) -> dict[str, Any]:
    return {key: value for key, value in asdict(report).items() if key not in ("job_id", "seconds")}


def test_bulk_translation_on_ray_stores_the_units_the_local_engine_stores(
    local_translations, marian_ct2: Path, tmp_path: Path, caplog
):
    local_db, local_report = local_translations
    db = sample_catalog(tmp_path / "karmayogi.db")
    ray_mt = RayTranslator(marian_ct2, "ctranslate2", beams=2, batch_size=8, actors=2)  # one round, both languages
    report = run_translation_job(
        db, ["hi", "mr"], FIELDS, courses(db), glossary=load_glossary(), batch_size=8, ahead=ray_mt
    )

    assert comparable(report) == comparable(local_report)
    assert report.engine == f"ctranslate2:{marian_ct2.name}"
    assert report.machine_translated > 100 and report.from_memory > 0 and report.mt_segments > 150
    assert stored_units(db) == stored_units(local_db)
    assert "not planned" not in caplog.text  # every MT call was found ahead of writing


class LocalRounds:
    """A `RoundTranslator` without Ray: translates each round's planned calls with a local engine first."""

    def __init__(self, engine: Any, round_units: int) -> None:
        self.engine, self.name, self.round_units = engine, engine.name, round_units
        self.rounds = 0

    def translate_calls(self, calls: Sequence[MTCall]) -> AnsweringEngine:
        self.rounds += 1
        answers = [(call, self.engine.translate(call.segments, *languages(call))) for call in calls]
        return AnsweringEngine(self.name, answers)


def languages(call: MTCall) -> tuple[TranslationLanguage, TranslationLanguage]:
    return translation_language(call.source), translation_language(call.target)


def test_rounds_of_planned_calls_write_what_calling_the_engine_per_batch_writes(
    local_translations, marian_ct2: Path, tmp_path: Path, caplog
):
    """The planning behind the Ray engine, over many rounds (cheaply, without Ray)."""
    local_db, local_report = local_translations
    db = sample_catalog(tmp_path / "karmayogi.db")
    ahead = LocalRounds(load_engine(marian_ct2, "ctranslate2", beams=2, batch_size=8), round_units=20)
    report = run_translation_job(
        db, ["hi", "mr"], FIELDS, courses(db), glossary=load_glossary(), batch_size=8, ahead=ahead
    )

    assert ahead.rounds > 5
    assert comparable(report) == comparable(local_report)
    assert stored_units(db) == stored_units(local_db)
    assert "not planned" not in caplog.text


# Short English titles of the sample catalog, the first one among the model's training pairs.
TITLED = ("do_113923482673486483", "do_113902562696697352", "do_113979290922419951")


class PowerCut:
    """An MT engine that fails after `calls` calls, as a killed process would stop."""

    def __init__(self, engine: Any, calls: int) -> None:
        self.engine, self.name, self.wants_protected_text, self.left = engine, engine.name, True, calls

    def translate(self, *args: Any) -> list[str | None]:
        if self.left == 0:
            raise RuntimeError("power cut")
        self.left -= 1
        return self.engine.translate(*args)


def test_a_translation_job_killed_midway_locally_finishes_on_ray_without_duplicates(
    local_translations, marian_ct2: Path, tmp_path: Path
):
    local_db, local_report = local_translations
    db = sample_catalog(tmp_path / "karmayogi.db")
    ids, glossary = courses(db), load_glossary()
    crashing = PowerCut(load_engine(marian_ct2, "ctranslate2", beams=2, batch_size=8), calls=5)
    with pytest.raises(RuntimeError, match="power cut"):
        run_translation_job(db, ["hi", "mr"], FIELDS, ids, mt=crashing, glossary=glossary, batch_size=8)

    ray_mt = RayTranslator(marian_ct2, beams=2, batch_size=8)  # auto: model.bin makes it CTranslate2
    report = run_translation_job(db, ["hi", "mr"], FIELDS, ids, glossary=glossary, batch_size=8, ahead=ray_mt)

    assert report.resumed and 0 < report.already_done < report.units
    assert report.created + report.already_done + report.not_english == report.units == local_report.units
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(TranslationJobRow)) == 1
    assert stored_units(db) == stored_units(local_db)


def test_cli_translate_engine_ray_writes_what_local_writes_and_old_engine_names_point_to_backend(
    marian: Path, tmp_path: Path, monkeypatch
):
    runner = CliRunner()
    # Three English titles (one the model was trained on); the transformers backend with beam search.
    options = ["--langs", "hi", "--model", str(marian), "--backend", "transformers", "--no-seed", "--json"]
    options += ["--courses", ",".join(TITLED)]
    monkeypatch.setenv("KARMAYOGI_MT_BEAMS", "2")
    units = {}
    for name in ("local", "ray"):
        db = sample_catalog(tmp_path / f"{name}.db", memory=False)
        monkeypatch.setenv("DATABASE_URL", str(db.url))
        result = runner.invoke(app, ["translate", *options, "--engine", name])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert (report["machine_translated"], report["engine"]) == (3, f"transformers:{marian.name}")
        units[name] = stored_units(db)
    assert units["ray"] == units["local"]

    old = runner.invoke(app, ["translate", "--langs", "hi", "--engine", "transformers"])
    assert old.exit_code == 2
    assert "--backend transformers" in " ".join(old.output.split())
    monkeypatch.delenv("KARMAYOGI_MT_MODEL", raising=False)
    no_model = runner.invoke(app, ["translate", "--langs", "hi", "--engine", "ray"])
    assert no_model.exit_code == 2
    assert "KARMAYOGI_MT_MODEL" in " ".join(no_model.output.split())
