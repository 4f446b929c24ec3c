"""The synthetic catalog generator: seeded, in the ingest formats, ingestible as it is."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from models import catalog_stats, ingest_file, session_scope
from models.synth import SynthPlan, synthesise
from tests.conftest import FIXTURES


def generate(out: Path, seed: int = 7) -> dict[str, Path]:
    plan = SynthPlan(courses=40, learners=120, out=out, seed=seed)
    return synthesise(plan, FIXTURES / "kcm_small.json", FIXTURES / "roles_small.jsonl")


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path):
    first, again, other = generate(tmp_path / "a"), generate(tmp_path / "b"), generate(tmp_path / "c", seed=8)
    assert first["learners"].read_bytes() == again["learners"].read_bytes()
    assert first["courses"].read_bytes() == again["courses"].read_bytes()
    assert first["learners"].read_bytes() != other["learners"].read_bytes()


def test_synthetic_catalog_ingests_cleanly(sqlite_engine: Engine, tmp_path: Path):
    files = generate(tmp_path)
    for kind in ("competencies", "roles", "courses", "learners"):
        ingest_file(sqlite_engine, kind, files[kind])  # raises on any invalid record
    with session_scope(sqlite_engine) as session:
        stats = catalog_stats(session)
    assert (stats.courses, stats.learners, stats.roles) == (40, 120, 2)
    first = json.loads(files["courses"].read_text().splitlines()[0])
    assert isinstance(first["duration"], str) and first["competencies_v6"][0]["competencySubThemeId"]
