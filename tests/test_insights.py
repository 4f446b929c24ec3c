"""Catalog insights as a content team reads them: coverage by language, what to translate first, role readiness.

The catalog is small and hand-made so that every expected number can be worked out from the course tags:
roles from tests/fixtures/roles_small.jsonl (Section Officer: FUN-02-01 at 3 (critical), FUN-02-02 at 3,
BEH-01-02 at 2; Block Development Officer: BEH-01-01 at 3 (critical), FUN-03-01 at 2).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine
from typer.testing import CliRunner

from api.cli import app
from api.cli.context import console as cli_console
from models import ingest_file, iter_learners, session_scope
from models.tables import TranslationUnitRow
from recommender.inputs import load_inputs
from recommender.insights import coverage_matrix, role_readiness, translation_priorities
from tests.conftest import FIXTURES, write_jsonl


def course(identifier: str, language: str, competency: str, level: int | None, *, rating: float = 4.0) -> dict:
    return {
        "identifier": identifier,
        "name": f"Course {identifier}",
        "description": "A course.",
        "languages": [language],
        "rating": rating,
        "rating_count": 10,
        "competencies": [{"competency_id": competency, "level": level}],
    }


COURSES = [
    course("c-en-note", "en", "FUN-02-01", 1),
    course("c-ta-note", "ta", "FUN-02-01", 1),
    course("c-en-file", "en", "FUN-02-02", 1, rating=4.8),
    course("c-en-file2", "en", "FUN-02-02", 2),
    course("c-hi-file", "hi", "FUN-02-02", 1),
    course("c-en-griev", "en", "BEH-01-01", None),  # approved into Tamil below
]
LEARNERS = [
    # Tamil, no levels: FUN-02-01 is served in Tamil, FUN-02-02 (next level 1) is not, BEH-01-02 has no course at all.
    {"id": "L1", "roles": ["ROLE-DOPT-SO"], "preferred_languages": ["ta", "en"]},
    # Tamil, FUN-02-02 at 1: needs level 2, which only c-en-file2 builds.
    {
        "id": "L2",
        "roles": ["ROLE-DOPT-SO"],
        "preferred_languages": ["ta"],
        "competencies": [{"competency_id": "FUN-02-02", "level": 1}],
    },
    # Tamil: BEH-01-01 is served by the approved translation; FUN-03-01 has no course at all.
    {"id": "L3", "roles": ["ROLE-TN-BDO"], "preferred_languages": ["ta"]},
    # Hindi first: never counted for Tamil.
    {"id": "L4", "roles": ["ROLE-DOPT-SO"], "preferred_languages": ["hi", "ta"]},
]


@pytest.fixture
def catalog(small_kcm_engine: Engine, tmp_path: Path) -> Engine:
    ingest_file(small_kcm_engine, "roles", FIXTURES / "roles_small.jsonl")
    ingest_file(small_kcm_engine, "courses", write_jsonl(tmp_path / "courses.jsonl", COURSES))
    ingest_file(small_kcm_engine, "learners", write_jsonl(tmp_path / "learners.jsonl", LEARNERS))
    with session_scope(small_kcm_engine) as session:
        for field, status in (("name", "approved"), ("description", "approved")):
            session.add(
                TranslationUnitRow(
                    course_id="c-en-griev", field=field, language="ta", source_text="x", source_hash="h", status=status
                )
            )
        # A draft still in review does not make a course available in Marathi.
        session.add(
            TranslationUnitRow(
                course_id="c-en-note", field="name", language="mr", source_text="x", source_hash="h", status="in_review"
            )
        )
    return small_kcm_engine


def test_coverage_counts_courses_per_language_directly_and_through_approved_translations(catalog: Engine):
    with session_scope(catalog) as session:
        matrix = coverage_matrix(load_inputs(session), ["en", "hi", "ta", "mr"])

    assert [c.id for c in matrix.competencies] == ["BEH-01-01", "BEH-01-02", "FUN-02-01", "FUN-02-02", "FUN-03-01"]
    file_row, griev_row, note_row = matrix.row("FUN-02-02"), matrix.row("BEH-01-01"), matrix.row("FUN-02-01")
    assert matrix.courses[file_row].tolist() == [2, 1, 0, 0]
    assert matrix.by_level[file_row, 0].tolist() == [1, 1, 0, 0, 0, 0]  # levels 1 and 2 in English
    assert matrix.courses[griev_row].tolist() == [1, 0, 1, 0]
    assert matrix.translated[griev_row].tolist() == [0, 0, 1, 0]
    assert matrix.by_level[griev_row, 2, 5] == 1  # tagged without a level
    assert matrix.courses[note_row].tolist() == [1, 0, 1, 0]  # the Marathi draft is not approved
    assert matrix.courses[matrix.row("BEH-01-02")].sum() == 0
    # FUN-02-02 is required at 3; levels 1 and 2 do not build it that far. An unstated level counts.
    assert matrix.at_required[file_row].tolist() == [0, 0, 0, 0]
    assert matrix.at_required[griev_row].tolist() == [1, 0, 1, 0]
    assert matrix.empty_cells() == 14


def test_translation_priorities_rank_by_learners_whose_gap_nothing_in_their_language_closes(catalog: Engine):
    with session_scope(catalog) as session:
        inputs = load_inputs(session)
        result = translation_priorities(inputs, iter_learners(session), "ta")
        from_hindi = translation_priorities(inputs, iter_learners(session), "ta", source="hi")

    assert (result.learners, result.learners_unserved) == (3, 3)
    # c-en-file2 builds L1's level 1 and L2's level 2; once it is picked, c-en-file adds no learner and is left out.
    [first] = result.courses
    assert (first.course_id, first.learners, first.gaps, first.learners_alone) == ("c-en-file2", 2, 2, 2)
    assert first.competencies == (("FUN-02-02", 2),)
    assert first.languages == ("en",)
    assert result.missing_everywhere == (("BEH-01-02", 2), ("FUN-03-01", 1))
    # Candidates must exist in the source language; the Hindi course builds only L1's level 1.
    assert [(c.course_id, c.learners) for c in from_hindi.courses] == [("c-hi-file", 1)]


def test_a_course_already_translated_into_the_language_serves_its_learners(catalog: Engine):
    with session_scope(catalog) as session:
        session.add(
            TranslationUnitRow(
                course_id="c-en-file2", field="name", language="ta", source_text="x", source_hash="h", status="approved"
            )
        )
    with session_scope(catalog) as session:
        result = translation_priorities(load_inputs(session), iter_learners(session), "ta")

    # L1 (level 1) and L2 (level 2) are now served by the Tamil c-en-file2; nothing is left to translate.
    assert result.courses == ()
    assert result.learners_unserved == 3  # their gaps without any course remain


def test_role_readiness_counts_competency_levels_the_catalog_can_build(catalog: Engine):
    with session_scope(catalog) as session:
        inputs = load_inputs(session)
    anywhere = {r.role_id: r for r in role_readiness(inputs)}
    tamil = {r.role_id: r for r in role_readiness(inputs, "ta")}

    officer = anywhere["ROLE-DOPT-SO"]
    # FUN-02-01 to 3: level 1 only; FUN-02-02 to 3: levels 1, 2; BEH-01-02 to 2: nothing.
    assert (officer.levels_closable, officer.levels_required) == (3, 8)
    assert {r.competency_id: r.missing_levels for r in officer.requirements} == {
        "FUN-02-01": (2, 3),
        "FUN-02-02": (3,),
        "BEH-01-02": (1, 2),
    }
    assert officer.critical_missing == ("FUN-02-01",)
    assert (tamil["ROLE-DOPT-SO"].levels_closable, tamil["ROLE-DOPT-SO"].share) == (1, 1 / 8)
    # BEH-01-01 (unstated level) builds every level 1-3, in Tamil through the approved translation.
    assert tamil["ROLE-TN-BDO"].levels_closable == 3
    assert next(iter(tamil)) == "ROLE-DOPT-SO"  # least ready first


def test_cli_coverage_prints_the_matrix_and_writes_a_heatmap(catalog: Engine, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", str(catalog.url))
    monkeypatch.setenv("KARMAYOGI_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(cli_console, "width", 200)  # rich wraps at the width it found when the module loaded
    runner = CliRunner()

    result = runner.invoke(app, ["insights", "coverage"])
    assert result.exit_code == 0, result.output
    # Wide enough: each competency's name beside its id, in columns of their own.
    assert any(line.split()[:2] == ["FUN-02-02", "e-Office"] for line in result.output.splitlines() if line.strip())
    assert "of 70 cells have no course" in result.output  # 5 competencies x the 14 portal languages
    image = tmp_path / "home" / "insights" / "coverage.png"
    with Image.open(image) as png:
        assert png.format == "PNG"
        assert png.width > 400 and png.height > 300

    data = json.loads(runner.invoke(app, ["insights", "coverage", "--lang", "Tamil", "--json"]).stdout)
    assert data["languages"] == ["ta"]
    assert data["competencies"][0]["languages"]["ta"]["via_translation"] == 1

    priorities = runner.invoke(app, ["insights", "translate-priorities", "--lang", "ta"])
    assert priorities.exit_code == 0, priorities.output
    assert "3 learner(s) prefer ta; 3 have a gap" in priorities.output
    assert "c-en-file2" in priorities.output
    assert "no course in any language builds" in priorities.output

    readiness = runner.invoke(app, ["insights", "readiness", "--lang", "ta", "--json"])
    assert json.loads(readiness.stdout)[0]["share"] == 0.125

    bad = runner.invoke(app, ["insights", "translate-priorities", "--lang", "klingon"])
    assert bad.exit_code == 2
    assert "unknown language 'klingon'" in bad.output


def test_api_routes_and_review_page_show_the_same_insights(catalog: Engine, tmp_path: Path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.api_helpers import make_keys, make_services

    keys = make_keys(catalog)
    with TestClient(create_app(services=make_services(catalog, tmp_path)), follow_redirects=False) as client:
        assert client.get("/v1/insights/coverage", headers=keys.header("portal")).status_code == 403
        reviewer = keys.header("reviewer")
        coverage = client.get("/v1/insights/coverage", params={"lang": ["en", "ta"]}, headers=reviewer).json()
        assert coverage["languages"] == ["en", "ta"]
        image = client.get("/v1/insights/coverage.png", headers=reviewer)
        assert image.headers["content-type"] == "image/png" and image.content.startswith(b"\x89PNG")
        priorities = client.get("/v1/insights/translate-priorities", params={"lang": "ta"}, headers=reviewer).json()
        assert [(c["course_id"], c["learners"]) for c in priorities["courses"]] == [("c-en-file2", 2)]
        bad = client.get("/v1/insights/translate-priorities", params={"lang": "xx"}, headers=reviewer)
        assert bad.status_code == 422 and "lang" in bad.text
        assert client.get("/v1/insights/readiness", params={"lang": "ta"}, headers=reviewer).json()[0]["share"] == 0.125

        assert client.get("/review/insights").status_code == 303  # the page needs a signed-in reviewer
        form = client.get("/review/login").text
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        assert client.post("/review/login", data={"key": keys.reviewer, "csrf": csrf}).status_code == 303
        html = client.get("/review/insights", params={"lang": "ta"}).text
        assert "Translate first into Tamil" in html and "c-en-file2" in html
        assert '<img class="heatmap" src="/review/insights/coverage.png"' in html
        assert client.get("/review/insights/coverage.png").content.startswith(b"\x89PNG")


def test_the_heatmap_colours_its_cells_as_the_command_line_does(catalog: Engine, tmp_path: Path):
    """Red (kind 0) where the table prints a red 0, yellow (1) where it prints a yellow count, green (2-5, darker
    with more courses up to the required level) where it prints a plain count; the legend says so."""
    from recommender.insights_plot import BUILDS_LABELS, _cell_kinds, coverage_heatmap

    with session_scope(catalog) as session:
        matrix = coverage_matrix(load_inputs(session), ["en", "hi", "ta", "mr"])
    kinds = _cell_kinds(matrix)
    assert kinds[matrix.row("FUN-02-02")].tolist() == [1, 1, 0, 0]  # courses, none up to level 3
    assert kinds[matrix.row("BEH-01-01")].tolist() == [2, 0, 2, 0]  # one course builds it
    assert ((kinds == 0) == (matrix.courses == 0)).all()
    assert ((kinds == 1) == ((matrix.courses > 0) & (matrix.at_required == 0))).all()
    assert BUILDS_LABELS == ("1", "2", "3–4", "5+")
    with Image.open(coverage_heatmap(matrix, tmp_path / "coverage.png")) as png:
        assert png.format == "PNG" and png.height > 400
