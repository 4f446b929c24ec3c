"""Ingest: every kind of bad input rejects the file whole and leaves the database as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from models import IngestRejectedError, get_course, get_learner, get_role, ingest_file, session_scope
from models.tables import Base
from tests.conftest import FIXTURES, write_jsonl

ROLE = {
    "id": "ROLE-DOPT-SO",
    "designation": "Section Officer",
    "department": "Department of Personnel and Training",
    "ministry": "Ministry of Personnel, Public Grievances and Pensions",
    "competencies": [{"competency_id": "FUN-02-01", "level": 3, "importance": 3}],
}
V6_COURSE = {
    "identifier": "do_1139000000000001",
    "name": "Noting and Drafting",
    "description": "How to write a note on a file.",
    "keywords": ["noting"],
    "language": ["English"],
    "duration": "5400",
    "primaryCategory": "Course",
    "organisation": ["ISTM"],
    "avgRating": 4.4,
    "totalNoOfRating": 230,
    "competencies_v6": [
        {
            "competencyAreaId": "FUN",
            "competencyAreaName": "Functional",
            "competencyThemeId": "FUN-02",
            "competencyThemeName": "Office Procedure",
            "competencySubThemeId": "FUN-02-01",
            "competencySubThemeName": "Noting and Drafting",
            "competencyLevel": 2,
        }
    ],
}
V5_COURSE = {
    "identifier": "do_1139000000000002",
    "name": "GeM खरीद प्रक्रिया",
    "description": "सरकारी ई-मार्केटप्लेस पर खरीद।",
    "language": ["Hindi"],
    "duration": "1800",
    "competencies_v5": [
        {
            "competencyArea": "Functional",
            "competencyTheme": "Financial Management",
            "competecnyThemeDescription": "Public money",
            "competencySubTheme": "public procurement",
            "competencyLevel": "3",
        }
    ],
}
PLAIN_COURSE = {
    "identifier": "do_1139000000000003",
    "name": "Empathy at the front desk",
    "languages": ["ta", "en"],
    "duration_seconds": 900,
    "organisations": ["Anna Institute of Management, Chennai"],
    "competencies": [{"competency_id": "BEH-01-01"}],
}
LEARNER = {
    "id": "L000001",
    "roles": ["ROLE-DOPT-SO"],
    "preferred_languages": ["hi", "en"],
    "completed": ["do_1139000000000001"],
    "competencies": [{"competency_id": "FUN-02-01", "level": 2, "source": "assessed"}],
}


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for 'nothing changed' assertions."""
    with engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
def loaded(small_kcm_engine: Engine, tmp_path: Path) -> Engine:
    """The small KCM plus one role, three courses (v6, v5, plain) and one learner."""
    ingest_file(small_kcm_engine, "roles", write_jsonl(tmp_path / "roles.jsonl", [ROLE]))
    ingest_file(small_kcm_engine, "courses", write_jsonl(tmp_path / "c.jsonl", [V6_COURSE, V5_COURSE, PLAIN_COURSE]))
    ingest_file(small_kcm_engine, "learners", write_jsonl(tmp_path / "learners.jsonl", [LEARNER]))
    return small_kcm_engine


def test_igot_v6_v5_and_plain_shapes_are_read_into_one_model(loaded: Engine):
    with session_scope(loaded) as session:
        v6 = get_course(session, V6_COURSE["identifier"])
        v5 = get_course(session, V5_COURSE["identifier"])
        plain = get_course(session, PLAIN_COURSE["identifier"])
    assert v6.duration_seconds == 5400  # iGOT sends duration as a string of seconds
    assert v6.languages == ["en"] and v6.organisations == ["ISTM"] and v6.rating == 4.4 and v6.rating_count == 230
    assert [(c.competency_id, c.level) for c in v6.competencies] == [("FUN-02-01", 2)]
    # v5 carries no sub-theme id here: resolved by name, case-insensitively; level arrives as a string.
    assert [(c.competency_id, c.level) for c in v5.competencies] == [("FUN-03-01", 3)]
    assert v5.languages == ["hi"] and v5.source_format == "igot_v5"
    assert [(c.competency_id, c.level) for c in plain.competencies] == [("BEH-01-01", None)]
    assert plain.languages == ["ta", "en"]


def test_csv_courses(small_kcm_engine: Engine, tmp_path: Path):
    path = tmp_path / "courses.csv"
    path.write_text(
        "identifier,name,description,keywords,languages,duration_seconds,primary_category,organisations,"
        "rating,rating_count,competencies\n"
        'do_1,"GFR 2017, explained",Rules,gfr|rules,en|hi,3600,Course,NIFM,4.2,10,FUN-03-01:2|BEH-01-02\n',
        encoding="utf-8",
    )
    ingest_file(small_kcm_engine, "courses", path)
    with session_scope(small_kcm_engine) as session:
        course = get_course(session, "do_1")
    assert course.name == "GFR 2017, explained" and course.keywords == ["gfr", "rules"]
    assert course.languages == ["en", "hi"] and course.source_format == "csv"
    assert {(c.competency_id, c.level) for c in course.competencies} == {("FUN-03-01", 2), ("BEH-01-02", None)}


def test_role_and_learner_round_trip(loaded: Engine):
    with session_scope(loaded) as session:
        role = get_role(session, "ROLE-DOPT-SO")
        learner = get_learner(session, "L000001")
    assert role.competencies[0].level == 3 and role.competencies[0].importance == 3
    assert learner.roles == ["ROLE-DOPT-SO"] and learner.completed == ["do_1139000000000001"]
    assert learner.preferred_languages == ["hi", "en"]
    assert learner.competencies[0].source == "assessed"


def test_reingesting_the_same_files_changes_nothing(loaded: Engine, tmp_path: Path):
    before = snapshot(loaded)
    report = ingest_file(loaded, "courses", tmp_path / "c.jsonl")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert ingest_file(loaded, "competencies", FIXTURES / "kcm_small.json").written == 0
    assert ingest_file(loaded, "learners", tmp_path / "learners.jsonl").written == 0
    assert snapshot(loaded) == before


def test_an_edited_course_is_updated_in_place(loaded: Engine, tmp_path: Path):
    edited = {**V6_COURSE, "name": "Noting and Drafting (revised)", "competencies_v6": []}
    report = ingest_file(loaded, "courses", write_jsonl(tmp_path / "edit.jsonl", [edited]))
    assert (report.created, report.updated) == (0, 1)
    with session_scope(loaded) as session:
        course = get_course(session, V6_COURSE["identifier"])
        learner = get_learner(session, "L000001")
    assert course.name.endswith("(revised)") and course.competencies == []
    assert learner.completed == [V6_COURSE["identifier"]]  # references to the course survive the update


BAD_COURSES = {
    "malformed JSON": ('{"identifier": "do_9", "name": ', "record", "malformed JSON"),
    "missing name": ({"identifier": "do_9"}, "name", "Field required"),
    "unknown competency id": (
        {**PLAIN_COURSE, "identifier": "do_9", "competencies": [{"competency_id": "FUN-99-99"}]},
        "competencies[0].competency_id",
        "unknown competency 'FUN-99-99'",
    ),
    "unknown v6 sub-theme": (
        {
            **V6_COURSE,
            "identifier": "do_9",
            "competencies_v6": [{"competencySubThemeId": "X-1", "competencySubThemeName": "Astrology"}],
        },
        "competencies_v6[0]",
        "unknown competency 'X-1'",
    ),
    "level above 5": (
        {**V6_COURSE, "identifier": "do_9", "competencies_v6": [{"competencySubThemeId": "FUN-02-01", "level": 7}]},
        "competencies_v6[0].level",
        "outside 1-5",
    ),
    "negative duration": ({**V6_COURSE, "identifier": "do_9", "duration": "-60"}, "duration", "negative duration"),
    "unknown language": ({**V6_COURSE, "identifier": "do_9", "language": ["Klingon"]}, "language", "supported codes"),
    "rating above 5": ({**V6_COURSE, "identifier": "do_9", "avgRating": 7}, "avgRating", "less than or equal to 5"),
}


@pytest.mark.parametrize("case", BAD_COURSES, ids=list(BAD_COURSES))
def test_one_bad_course_rejects_the_whole_file(loaded: Engine, tmp_path: Path, case: str):
    bad, field, reason = BAD_COURSES[case]
    good = {**PLAIN_COURSE, "identifier": "do_new"}
    path = write_jsonl(tmp_path / "courses.jsonl", [good, bad])
    before = snapshot(loaded)
    with pytest.raises(IngestRejectedError) as rejected:
        ingest_file(loaded, "courses", path)
    [problem] = rejected.value.problems
    assert (problem.file, problem.line, problem.field) == ("courses.jsonl", 2, field)
    assert reason in problem.reason
    assert snapshot(loaded) == before


def test_duplicate_identifier_in_a_file_is_rejected(loaded: Engine, tmp_path: Path):
    path = write_jsonl(tmp_path / "dup.jsonl", [PLAIN_COURSE | {"identifier": "do_x"}] * 2)
    before = snapshot(loaded)
    with pytest.raises(IngestRejectedError) as rejected:
        ingest_file(loaded, "courses", path)
    assert [str(p) for p in rejected.value.problems] == [
        "dup.jsonl:2: identifier: duplicate identifier 'do_x' (first on line 1)"
    ]
    assert snapshot(loaded) == before


@pytest.mark.parametrize(
    ("learner", "field", "reason"),
    [
        ({**LEARNER, "roles": ["ROLE-NOPE"]}, "roles[0]", "unknown role 'ROLE-NOPE'"),
        ({**LEARNER, "completed": ["do_missing"]}, "completed[0]", "unknown course 'do_missing'"),
        (
            {**LEARNER, "competencies": [{"competency_id": "FUN-02-01", "level": 0}]},
            "competencies.0.level",
            "greater than or equal to 1",
        ),
        ({**LEARNER, "preferred_languages": ["xx"]}, "preferred_languages", "unknown language 'xx'"),
        ({"name": "No Id"}, "id", "Field required"),
    ],
)
def test_bad_learner_references_and_levels_are_named(loaded: Engine, tmp_path: Path, learner, field, *, reason):
    path = write_jsonl(tmp_path / "learners.jsonl", [{**LEARNER, "id": "L2"}, learner])
    before = snapshot(loaded)
    with pytest.raises(IngestRejectedError) as rejected:
        ingest_file(loaded, "learners", path)
    problem = rejected.value.problems[0]
    assert (problem.line, problem.field) == (2, field) and reason in problem.reason
    assert snapshot(loaded) == before


def test_role_with_unknown_competency_is_rejected(small_kcm_engine: Engine, tmp_path: Path):
    role = {**ROLE, "competencies": [{"competency_id": "DOM-01-01", "level": 2}]}
    with pytest.raises(IngestRejectedError) as rejected:
        ingest_file(small_kcm_engine, "roles", write_jsonl(tmp_path / "roles.jsonl", [role]))
    assert str(rejected.value.problems[0]) == "roles.jsonl:1: competencies[0]: unknown competency 'DOM-01-01'"


def test_malformed_csv_is_rejected(small_kcm_engine: Engine, tmp_path: Path):
    path = tmp_path / "courses.csv"
    path.write_text("identifier,name\ndo_1,One\ndo_2,Two,surplus\n", encoding="utf-8")
    with pytest.raises(IngestRejectedError) as rejected:
        ingest_file(small_kcm_engine, "courses", path)
    assert str(rejected.value.problems[0]) == "courses.csv:3: record: malformed CSV: more cells than header"


def test_skip_invalid_writes_the_valid_records_and_reports_the_rest(small_kcm_engine: Engine, tmp_path: Path):
    bad = {**PLAIN_COURSE, "identifier": "do_bad", "duration_seconds": -1}
    path = write_jsonl(tmp_path / "courses.jsonl", [PLAIN_COURSE, bad, V6_COURSE])
    report = ingest_file(small_kcm_engine, "courses", path, skip_invalid=True)
    assert report.created == 2
    assert [(p.line, p.field, p.record_id) for p in report.skipped] == [(2, "duration_seconds", "do_bad")]


def test_kcm_document_problems_name_the_line(sqlite_engine: Engine, tmp_path: Path):
    document = json.loads((FIXTURES / "kcm_small.json").read_text())
    del document["areas"][0]["themes"][0]["sub_themes"][1]["levels"]["4"]
    path = tmp_path / "kcm.json"
    path.write_text(json.dumps(document, indent=1))
    with pytest.raises(IngestRejectedError) as rejected:
        ingest_file(sqlite_engine, "competencies", path)
    [problem] = rejected.value.problems
    assert problem.field == "areas[0].themes[0].sub_themes[1].levels"
    assert "descriptor missing for level(s) 4" in problem.reason
    assert '"FUN-02-02"' in path.read_text().splitlines()[problem.line - 1]
    assert snapshot(sqlite_engine)["competencies"] == []


def test_round_trip_on_sqlite_and_postgresql(engine: Engine, tmp_path: Path):
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    ingest_file(engine, "roles", write_jsonl(tmp_path / "roles.jsonl", [ROLE]))
    ingest_file(engine, "courses", write_jsonl(tmp_path / "c.jsonl", [V6_COURSE, V5_COURSE, PLAIN_COURSE]))
    ingest_file(engine, "learners", write_jsonl(tmp_path / "l.jsonl", [LEARNER]))
    before = snapshot(engine)
    with pytest.raises(IngestRejectedError):
        ingest_file(engine, "courses", write_jsonl(tmp_path / "bad.jsonl", [V6_COURSE | {"duration": "-1"}]))
    assert snapshot(engine) == before
    assert ingest_file(engine, "courses", tmp_path / "c.jsonl").unchanged == 3
    with session_scope(engine) as session:
        v5 = get_course(session, V5_COURSE["identifier"])
        learner = get_learner(session, "L000001")
    assert v5.name == "GeM खरीद प्रक्रिया" and v5.competencies[0].competency_id == "FUN-03-01"
    assert learner.competencies[0].level == 2


def test_editing_one_record_leaves_other_records_children_alone(loaded: Engine, tmp_path: Path):
    # Child rows point at two parents (course and competency): an edit must replace only its own course's rows.
    sibling = {**PLAIN_COURSE, "identifier": "do_sibling", "competencies": [{"competency_id": "FUN-02-01", "level": 1}]}
    ingest_file(loaded, "courses", write_jsonl(tmp_path / "sibling.jsonl", [sibling]))
    edited = {**V6_COURSE, "competencies_v6": [{"competencySubThemeId": "FUN-02-01", "competencyLevel": 4}]}
    ingest_file(loaded, "courses", write_jsonl(tmp_path / "edit.jsonl", [edited]))
    learner = {**LEARNER, "competencies": [{"competency_id": "FUN-02-01", "level": 3, "source": "self"}]}
    ingest_file(loaded, "learners", write_jsonl(tmp_path / "learner.jsonl", [learner, {**learner, "id": "L2"}]))
    with session_scope(loaded) as session:
        assert [(c.competency_id, c.level) for c in get_course(session, "do_sibling").competencies] == [
            ("FUN-02-01", 1)
        ]
        assert get_course(session, V6_COURSE["identifier"]).competencies[0].level == 4
        assert get_learner(session, "L000001").competencies[0].level == 3
        assert get_learner(session, "L000001").roles == ["ROLE-DOPT-SO"]
