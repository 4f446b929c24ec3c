"""The recommendation commands on the sample catalog: what a portal team would run, and the errors they get."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from api.cli import app
from models import get_learner, session_scope

Run = Callable[..., Result]


@pytest.fixture
def karmayogi(sample_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("DATABASE_URL", sample_engine.url.render_as_string(hide_password=False))

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return run


def test_recommend_prints_ranked_courses_with_reasons(karmayogi: Run):
    result = karmayogi("recommend", "--learner", "L000001", "--k", "5", "--no-semantic")
    assert result.exit_code == 0, result.output
    assert " 1. " in result.output and " 5. " in result.output
    assert "पर टैग किया गया" in result.output  # "tagged at level …": L000001 reads Hindi first
    assert "gaps:" in result.output


def test_recommend_json_never_repeats_taken_courses_and_explains_every_item(karmayogi: Run, sample_engine: Engine):
    result = karmayogi("recommend", "--learner", "L000001", "--no-semantic", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    with session_scope(sample_engine) as session:
        learner = get_learner(session, "L000001")
    ids = [item["course_id"] for item in payload["items"]]
    assert len(ids) == 10
    assert not set(ids) & {*learner.completed, *learner.enrolled}
    gap_ids = {gap["competency_id"] for gap in payload["analysis"]["gaps"]}
    for item in payload["items"]:
        assert item["explanation"]["gaps"], item
        assert {e["competency_id"] for e in item["explanation"]["gaps"]} <= gap_ids
    assert [item["score"] for item in payload["items"]] == sorted((i["score"] for i in payload["items"]), reverse=True)


def test_unknown_learner_and_unknown_role_are_named(karmayogi: Run):
    missing = karmayogi("recommend", "--learner", "L999999", "--no-semantic")
    assert missing.exit_code == 3
    assert "unknown learner 'L999999'" in missing.output
    role = karmayogi("gaps", "--role", "ROLE-NOPE")
    assert role.exit_code == 3
    assert "unknown role 'ROLE-NOPE'" in role.output


def test_inline_profile_levels_are_checked_field_by_field(karmayogi: Run):
    high = karmayogi("recommend", "--role", "ROLE-DOPT-SO", "--level", "FUN-02-01=7", "--no-semantic")
    assert high.exit_code == 2
    assert "levels.FUN-02-01: level 7 is outside 1–5" in high.output
    unknown = karmayogi("gaps", "--role", "ROLE-DOPT-SO", "--level", "FUN-99-99=2")
    assert unknown.exit_code == 2
    assert "levels.FUN-99-99: unknown competency 'FUN-99-99'" in unknown.output
    malformed = karmayogi("gaps", "--role", "ROLE-DOPT-SO", "--level", "FUN-02-01")
    assert malformed.exit_code == 2
    assert "expected COMPETENCY_ID=LEVEL" in malformed.output


def test_inline_profile_gaps_and_recommendations_in_hindi(karmayogi: Run):
    gaps = karmayogi("gaps", "--role", "ROLE-DOPT-SO", "--level", "FUN-02-01=2", "--json")
    assert gaps.exit_code == 0, gaps.output
    by_id = {g["competency_id"]: g for g in json.loads(gaps.stdout)["gaps"]}
    assert (by_id["FUN-02-01"]["current_level"], by_id["FUN-02-01"]["required_level"]) == (2, 3)
    result = karmayogi(
        "recommend", "--role", "ROLE-DOPT-SO", "--level", "FUN-02-01=2", "--language", "hi", "--no-semantic", "--json"
    )
    items = json.loads(result.stdout)["items"]
    assert items[0]["explanation"]["language"] == "hi"


def test_a_learner_without_levels_is_told_levels_were_taken_as_zero(karmayogi: Run):
    result = karmayogi("recommend", "--learner", "L000060", "--no-semantic", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["analysis"]["levels_known"] is False
    assert any("taken as 0" in note for note in payload["notes"])
    assert payload["items"]


def test_path_orders_courses_by_stage_and_totals_the_duration(karmayogi: Run):
    result = karmayogi("path", "--learner", "L000018", "--no-semantic", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    stages = [step["stage"] for step in plan["steps"]]
    assert stages == sorted(stages) and stages[0] == 1
    known = [s["duration_seconds"] for s in plan["steps"] if s["duration_seconds"] is not None]
    assert plan["total_duration_seconds"] == sum(known) > 0


def test_recommend_batch_writes_every_learner_like_the_interactive_command(karmayogi: Run, tmp_path: Path):
    out = tmp_path / "recs.jsonl"
    result = karmayogi("recommend-batch", "--out", str(out), "--k", "5", "--chunk-size", "16", "--no-semantic")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == sum(1 for line in Path("data/learners.jsonl").read_text().splitlines() if line.strip())
    first = next(row for row in rows if row["learner"] == "L000001")
    single = json.loads(karmayogi("recommend", "--learner", "L000001", "--k", "5", "--no-semantic", "--json").stdout)
    assert first["courses"] == [item["course_id"] for item in single["items"]]
    again = karmayogi("recommend-batch", "--out", str(out), "--no-semantic")
    assert again.exit_code == 2
    assert "--resume" in again.output


def test_eval_recommend_ours_beats_every_baseline_on_ndcg_and_gap_coverage(karmayogi: Run):
    result = karmayogi("eval", "recommend", "--no-semantic", "--json")
    assert result.exit_code == 0, result.output
    scores = {row["system"]: row for row in json.loads(result.stdout)}
    assert set(scores) == {"random", "popularity", "tag-only", "platform cascade", "ours"}
    for name, row in scores.items():
        if name != "ours":
            assert scores["ours"]["ndcg_10"] > row["ndcg_10"], name
            assert scores["ours"]["gap_coverage_5"] > row["gap_coverage_5"], name


def test_demo_helper_shows_three_kinds_of_learner_with_reasons(sample_engine: Engine, capsys):
    from api.cli.recommend import show_demo_recommendations

    show_demo_recommendations(sample_engine, k=3, semantic=False)
    shown = capsys.readouterr().out
    assert shown.count(" 1. ") == 3
    assert "tagged at level" in shown  # a learner with gaps
    assert "taken as 0" in shown.replace("\n", " ")  # a learner without levels
    assert "role-free" in shown  # a learner without a role


def test_max_minutes_leaves_longer_courses_out(karmayogi: Run):
    result = karmayogi("recommend", "--learner", "L000001", "--max-minutes", "120", "--no-semantic", "--json")
    assert result.exit_code == 0, result.output
    durations = [item["duration_seconds"] for item in json.loads(result.stdout)["items"]]
    assert durations
    assert all(d is None or d <= 7200 for d in durations)
    unlimited = json.loads(karmayogi("recommend", "--learner", "L000001", "--no-semantic", "--json").stdout)
    assert any((item["duration_seconds"] or 0) > 7200 for item in unlimited["items"])
