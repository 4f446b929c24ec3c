"""The command line as a content team uses it: migrate, ingest, look, and get told precisely what is wrong."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXTURES, Run, write_jsonl
from tests.test_ingest import PLAIN_COURSE, V6_COURSE


def test_ingest_before_the_schema_exists_says_how_to_fix_it(karmayogi: Run):
    result = karmayogi("ingest", "competencies", str(FIXTURES / "kcm_small.json"))
    assert result.exit_code == 4
    assert "run `karmayogi db upgrade`" in result.output


def test_a_file_with_one_bad_line_exits_non_zero_names_line_and_field_and_writes_nothing(karmayogi: Run, tmp_path):
    assert karmayogi("db", "upgrade").exit_code == 0
    assert karmayogi("ingest", "competencies", str(FIXTURES / "kcm_small.json")).exit_code == 0
    before = json.loads(karmayogi("stats", "--json").stdout)
    path = write_jsonl(tmp_path / "courses.jsonl", [PLAIN_COURSE, V6_COURSE | {"duration": "-5400"}])

    result = karmayogi("ingest", "courses", str(path))

    assert result.exit_code == 2
    assert "courses.jsonl:2: duration: negative duration '-5400'" in result.output
    assert "nothing was written" in result.output
    assert json.loads(karmayogi("stats", "--json").stdout) == before


def test_skip_invalid_reports_the_skipped_lines_in_json(karmayogi: Run, tmp_path):
    karmayogi("db", "upgrade")
    karmayogi("ingest", "competencies", str(FIXTURES / "kcm_small.json"))
    path = write_jsonl(tmp_path / "courses.jsonl", [PLAIN_COURSE, V6_COURSE | {"language": ["xx"]}])

    result = karmayogi("ingest", "courses", str(path), "--skip-invalid", "--json")

    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["created"] == 1
    assert report["skipped"][0].startswith("courses.jsonl:2: language: unknown language 'xx'")


def test_stats_and_show(karmayogi: Run, tmp_path):
    karmayogi("db", "upgrade")
    karmayogi("ingest", "competencies", str(FIXTURES / "kcm_small.json"))
    karmayogi("ingest", "roles", str(FIXTURES / "roles_small.jsonl"))
    karmayogi("ingest", "courses", str(write_jsonl(tmp_path / "c.jsonl", [V6_COURSE, PLAIN_COURSE])))

    stats = json.loads(karmayogi("stats", "--json").stdout)
    assert (stats["areas"], stats["themes"], stats["competencies"]) == (2, 3, 5)
    assert (stats["roles"], stats["departments"], stats["ministries"], stats["courses"]) == (2, 2, 2, 2)
    assert stats["courses_by_language"] == {"en": 2, "ta": 1}
    assert stats["non_english_share"] == 0.5

    shown = karmayogi("courses", "show", V6_COURSE["identifier"])
    assert shown.exit_code == 0
    assert "Noting and Drafting" in shown.stdout and "90 min" in shown.stdout and "Basic" in shown.stdout
    role = karmayogi("roles", "show", "ROLE-DOPT-SO")
    assert "critical" in role.stdout and "3 Intermediate" in role.stdout

    missing = karmayogi("courses", "show", "do_nope")
    assert missing.exit_code == 3 and "unknown course 'do_nope'" in missing.output


def test_unknown_kind_is_refused(karmayogi: Run):
    result = karmayogi("ingest", "teachers", str(FIXTURES / "kcm_small.json"))
    assert result.exit_code != 0
    assert "'teachers' is not one of" in result.output


def test_database_url_selects_postgresql(karmayogi: Run, postgres_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    assert karmayogi("db", "upgrade").exit_code == 0
    assert karmayogi("ingest", "competencies", str(FIXTURES / "kcm_small.json")).exit_code == 0
    assert karmayogi("ingest", "roles", str(FIXTURES / "roles_small.jsonl")).exit_code == 0
    stats = json.loads(karmayogi("stats", "--json").stdout)
    assert (stats["competencies"], stats["roles"]) == (5, 2)
    assert not (tmp_path / "home" / "karmayogi.db").exists()  # nothing went to the SQLite default
