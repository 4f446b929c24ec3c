"""`karmayogi eval recommend` reproduces: it runs on a scratch copy of the sample catalog, so the live database
(empty, or changed by ingests and approvals) never moves its figures, and the README's table is its output."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from models import ingest_file, make_engine, session_scope, upgrade
from models.sample_data import COURSES_FILE, DATA_DIR, SAMPLE_FILES
from models.tables import TranslationUnitRow
from tests.conftest import Run, write_jsonl

README = Path(__file__).parents[1] / "README.md"
JUDGED = DATA_DIR / "eval" / "recommend_judged.jsonl"


def readme_table(header: str) -> str:
    """The Markdown table of the README that starts with `header`, as the command prints it."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(header)}.*\n(?:\|.*\n)+", text, flags=re.MULTILINE)
    assert match, f"README.md has no table starting {header!r}"
    return match.group(0)


def change_the_live_catalog(home: Path, tmp_path: Path) -> None:
    """What an operator's database goes through: the sample loaded, a judged course stripped of its tags and
    moved to Tamil, and approved Tamil translations of other judged courses."""
    db: Engine = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
    try:
        upgrade(db)
        for kind, path in SAMPLE_FILES:
            ingest_file(db, kind, path)
        judged = [json.loads(line) for line in JUDGED.read_text(encoding="utf-8").splitlines() if line.strip()]
        courses = [j["course"] for j in judged[0]["judgements"]]
        records = {r["identifier"]: r for r in map(json.loads, COURSES_FILE.read_text(encoding="utf-8").splitlines())}
        changed = {k: v for k, v in records[courses[0]].items() if not k.startswith(("competenc", "language"))}
        report = ingest_file(db, "courses", write_jsonl(tmp_path / "changed.jsonl", [changed | {"language": ["ta"]}]))
        assert report.updated == 1
        with session_scope(db) as session:
            for course in courses[1:6]:
                for field in ("name", "description"):
                    session.add(
                        TranslationUnitRow(
                            course_id=course,
                            field=field,
                            language="ta",
                            source_text="x",
                            source_hash="h",
                            status="approved",
                        )
                    )
    finally:
        db.dispose()


def test_eval_recommend_prints_the_same_figures_on_an_empty_home_and_after_the_live_catalog_changes(
    karmayogi: Run, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    first = karmayogi("eval", "recommend", "--no-semantic", "--json")
    assert first.exit_code == 0, first.output
    again = karmayogi("eval", "recommend", "--no-semantic", "--json")
    assert again.stdout == first.stdout
    change_the_live_catalog(home, tmp_path)
    after = karmayogi("eval", "recommend", "--no-semantic", "--json")
    assert after.exit_code == 0, after.output
    assert after.stdout == first.stdout
    scores = {row["system"]: row for row in json.loads(first.stdout)}
    assert scores["ours"]["ndcg_10"] > scores["tag-only"]["ndcg_10"]


# The README's tables against the commands that print them: minutes of encoding each, so `make figures` runs them
# (and fails when the README drifts) rather than every `make test`.
CHECK_FIGURES = os.environ.get("KARMAYOGI_CHECK_FIGURES") == "1"


@pytest.mark.slow
@pytest.mark.skipif(not CHECK_FIGURES, reason="minutes of encoding: `make figures` runs it")
def test_the_readme_table_is_what_eval_recommend_prints(karmayogi: Run, tmp_path: Path) -> None:
    """With the real encoders (the sample catalog indexed from nothing: a few minutes on two cores), after the
    live catalog changed. Regenerate the README's table with `karmayogi eval recommend --markdown`."""
    change_the_live_catalog(tmp_path / "home", tmp_path)
    result = karmayogi("eval", "recommend", "--markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout == readme_table("| system | nDCG@10 |")


BENCHMARK = Path(__file__).parents[2] / "shared" / "benchmarks" / "coursera" / "courses.jsonl"


@pytest.mark.slow
@pytest.mark.skipif(
    not CHECK_FIGURES or not BENCHMARK.exists(),
    reason="about 8 CPU-minutes and the external benchmark (../shared/benchmarks/coursera): `make figures` runs it",
)
def test_the_readme_retrieval_table_is_what_eval_retrieval_prints(karmayogi: Run) -> None:
    result = karmayogi("eval", "retrieval", "--courses", str(BENCHMARK), "--markdown", "--no-cache")
    assert result.exit_code == 0, result.output
    assert result.stdout == readme_table("| method | nDCG@10 |")
