"""Bounded, total ingest readers (issue 14: D5, D9, D11, D12): whatever a file holds, ingest answers with the
typed input error naming file:line:field (HTTP 422 / exit 2) or writes it, never another exception. Hypothesis
fuzzes every reader: courses as JSON Lines and as CSV, roles, learners and the KCM document."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from api.app import create_app
from models import IngestRejectedError, InvalidInputError, get_course, ingest_file, session_scope
from models.ingest import Kind
from models.tables import CourseRow
from tests.api_helpers import Keys, make_keys, make_services
from tests.conftest import FIXTURES, Run, write_jsonl
from tests.test_ingest import PLAIN_COURSE, ROLE, V5_COURSE, V6_COURSE

DEEP = "[" * 100_000 + "]" * 100_000
BIG_CELL = "a" * (csv.field_size_limit() + 1)


def rejected(engine: Engine, kind: Kind, path: Path) -> list[str]:
    with pytest.raises(IngestRejectedError) as error:
        ingest_file(engine, kind, path)
    return [str(problem) for problem in error.value.problems]


def courses_in(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(CourseRow)) or 0


# --- D5: nesting and cell size --------------------------------------------------------------------------


def test_deeply_nested_json_is_a_problem_on_its_line(small_kcm_engine: Engine, tmp_path: Path):
    path = write_jsonl(tmp_path / "courses.jsonl", [PLAIN_COURSE, DEEP, {"identifier": "x", "name": "y", "k": DEEP}])
    path.write_text(path.read_text().replace(json.dumps(DEEP), DEEP))  # the third line nests the same array
    assert rejected(small_kcm_engine, "courses", path) == [
        "courses.jsonl:2: record: JSON nested deeper than 32 levels",
        "courses.jsonl:3: record: JSON nested deeper than 32 levels",
    ]
    shallow_but_deep = {"identifier": "do_d", "name": "n", "extra": json.loads("[" * 33 + "]" * 33)}
    problems = rejected(small_kcm_engine, "courses", write_jsonl(tmp_path / "c.jsonl", [shallow_but_deep]))
    assert problems == ["c.jsonl:1: record: JSON nested deeper than 32 levels"]
    (tmp_path / "kcm.json").write_text(DEEP)
    assert rejected(small_kcm_engine, "competencies", tmp_path / "kcm.json") == [
        "kcm.json:1: document: JSON nested deeper than 32 levels"
    ]


def test_a_csv_cell_over_the_limit_is_a_problem_on_its_line(small_kcm_engine: Engine, tmp_path: Path):
    path = tmp_path / "courses.csv"
    path.write_text(f"identifier,name\ndo_1,One\ndo_2,{BIG_CELL}\n", encoding="utf-8")
    assert rejected(small_kcm_engine, "courses", path) == [
        f"courses.csv:3: record: a cell is longer than the limit of {csv.field_size_limit()} characters"
    ]


def test_numbers_that_python_cannot_convert_are_problems(small_kcm_engine: Engine, tmp_path: Path):
    lines = [
        '{"identifier": "do_a", "name": "A", "duration": "Infinity"}',
        '{"identifier": "do_b", "name": "B", "duration_seconds": NaN}',
        '{"identifier": "do_c", "name": "C", "rating_count": ' + "9" * 5000 + "}",
        '{"identifier": "do_d", "name": "D", "duration_seconds": 3000000000}',
        '{"identifier": "do_e", "name": "E", "primary_category": "' + "x" * 65 + '"}',
    ]
    problems = rejected(small_kcm_engine, "courses", write_jsonl(tmp_path / "courses.jsonl", lines))
    assert [p.split(": ")[0:2] for p in problems] == [
        ["courses.jsonl:1", "duration"],
        ["courses.jsonl:2", "duration_seconds"],
        ["courses.jsonl:3", "record"],
        ["courses.jsonl:4", "duration_seconds"],
        ["courses.jsonl:5", "primary_category"],
    ]


def test_igot_entries_of_the_wrong_type_are_problems(small_kcm_engine: Engine, tmp_path: Path):
    course = {**V6_COURSE, "competencies_v6": [{"competencySubThemeId": ["FUN-02-01"], "competencySubThemeName": 3}]}
    problems = rejected(small_kcm_engine, "courses", write_jsonl(tmp_path / "courses.jsonl", [course]))
    assert problems == ["courses.jsonl:1: competencies_v6[0].competencySubThemeId: expected a string"]


# --- D9: CSV headers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("id,title,lang", ["header.lang: unknown column 'lang'"]),
        ("identifier,name,languges", ["header.languges: unknown column 'languges'"]),
        ("identifier,description", ["header.name: required column is missing"]),
        ("name,languages", ["header.identifier: required column is missing"]),
        ("identifier,name,name", ["header.name: column 'name' appears twice"]),
        ("identifier,name,title", ["header.title: columns 'name' and 'title' both give name; keep one"]),
        ("identifier,,name", ["header[2]: a column has no name"]),
    ],
)
def test_a_csv_header_with_unknown_missing_or_repeated_columns_rejects_the_file(
    small_kcm_engine: Engine, tmp_path: Path, header: str, expected: list[str]
):
    path = tmp_path / "courses.csv"
    path.write_text(header + "\n" + ",".join(["x"] * len(header.split(","))) + "\n", encoding="utf-8")
    problems = rejected(small_kcm_engine, "courses", path)
    assert [p.removeprefix("courses.csv:1: ").split("; the columns")[0] for p in problems] == expected
    assert courses_in(small_kcm_engine) == 0


def test_the_documented_header_and_a_byte_order_mark_are_accepted(small_kcm_engine: Engine, tmp_path: Path):
    path = tmp_path / "courses.csv"
    header = "identifier,name,description,keywords,languages,duration_seconds,primary_category,organisations,"
    header += "rating,rating_count,competencies"
    path.write_text("\ufeff" + header + "\ndo_1,One,,,hi,60,Course,ISTM,4,1,FUN-02-01:2\n", encoding="utf-8")
    assert ingest_file(small_kcm_engine, "courses", path).created == 1
    with session_scope(small_kcm_engine) as session:
        assert get_course(session, "do_1").languages == ["hi"]


def test_only_courses_come_as_csv(small_kcm_engine: Engine, tmp_path: Path):
    (tmp_path / "roles.csv").write_text("id,designation,department\nR,D,D\n", encoding="utf-8")
    assert rejected(small_kcm_engine, "roles", tmp_path / "roles.csv") == [
        "roles.csv:1: file: only courses may be given as CSV; give this file as JSON Lines (.jsonl)"
    ]


# --- D11: undecodable bytes name their line -------------------------------------------------------------


def test_an_undecodable_byte_names_its_line_and_column(small_kcm_engine: Engine, tmp_path: Path):
    good = json.dumps(PLAIN_COURSE).encode()
    (tmp_path / "courses.jsonl").write_bytes(good + b'\n{"identifier": "do_x", "name": "caf\xe9"}\n')
    assert rejected(small_kcm_engine, "courses", tmp_path / "courses.jsonl") == [
        "courses.jsonl:2: record: not UTF-8 text: byte 0xe9 at column 36 (invalid continuation byte)"
    ]
    (tmp_path / "courses.csv").write_bytes(b'identifier,name\ndo_1,"two\nlines"\ndo_2,\xff\n')
    assert rejected(small_kcm_engine, "courses", tmp_path / "courses.csv") == [
        "courses.csv:4: record: not UTF-8 text: byte 0xff at column 6 (invalid start byte)"
    ]
    kcm = (FIXTURES / "kcm_small.json").read_bytes().replace(b"Secretariat work", b"Secretariat \xc3 work")
    (tmp_path / "kcm.json").write_bytes(kcm)
    (line,) = rejected(small_kcm_engine, "competencies", tmp_path / "kcm.json")
    assert line.startswith("kcm.json:12: document: not UTF-8 text: byte 0xc3")


def test_skip_invalid_skips_an_undecodable_line(small_kcm_engine: Engine, tmp_path: Path):
    (tmp_path / "courses.jsonl").write_bytes(
        b'{"identifier": "do_x", "name": "\xff"}\n' + json.dumps(PLAIN_COURSE).encode()
    )
    report = ingest_file(small_kcm_engine, "courses", tmp_path / "courses.jsonl", skip_invalid=True)
    assert report.created == 1 and [p.line for p in report.skipped] == [1]


# --- over HTTP and on the command line --------------------------------------------------------------------


@pytest.fixture
def keys(small_kcm_engine: Engine) -> Keys:
    return make_keys(small_kcm_engine)


@pytest.fixture
def client(small_kcm_engine: Engine, keys: Keys, tmp_path: Path) -> Iterator[TestClient]:
    services = make_services(small_kcm_engine, tmp_path)
    with TestClient(create_app(services=services), raise_server_exceptions=False) as test_client:
        test_client.headers.update(keys.header("content"))
        yield test_client


@pytest.mark.parametrize(
    ("media", "body", "line", "reason"),
    [
        ("application/x-ndjson", (DEEP + "\n").encode(), 1, "JSON nested deeper than 32 levels"),
        ("text/csv", f"identifier,name\ndo_1,{BIG_CELL}\n".encode(), 2, "a cell is longer than the limit"),
        ("application/x-ndjson", b'{"identifier": "a", "name": "b"}\n{"name": "\xff"}\n', 2, "not UTF-8 text"),
        ("text/csv", b"id,title,lang\ndo_h,Hello,hi\n", 1, "unknown column 'lang'"),
    ],
)
def test_bulk_ingest_answers_422_naming_the_line(
    client: TestClient, media: str, body: bytes, line: int, *, reason: str
):
    response = client.post("/v1/courses/bulk", content=body, headers={"Content-Type": media})
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["line"] == line and error["reason"].startswith(reason), error


def test_the_command_line_answers_exit_2_naming_the_line(karmayogi: Run, tmp_path: Path):
    assert karmayogi("db", "upgrade").exit_code == 0
    assert karmayogi("ingest", "competencies", str(FIXTURES / "kcm_small.json")).exit_code == 0
    (tmp_path / "deep.jsonl").write_text(DEEP + "\n")
    (tmp_path / "wide.csv").write_text(f"identifier,name\ndo_1,{BIG_CELL}\n")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"identifier": "do_1", "name": "caf\xe9"}\n')
    (tmp_path / "header.csv").write_text("id,title,lang\ndo_h,Hello,hi\n")
    expected = {
        "deep.jsonl": "deep.jsonl:1: record: JSON nested deeper than 32 levels",
        "wide.csv": "wide.csv:2: record: a cell is longer than the limit",
        "latin1.jsonl": "latin1.jsonl:1: record: not UTF-8 text: byte 0xe9 at column 36",
        "header.csv": "header.csv:1: header.lang: unknown column 'lang'",
    }
    for name, message in expected.items():
        result = karmayogi("ingest", "courses", str(tmp_path / name))
        assert result.exit_code == 2 and message in result.output, (name, result.output)
        assert "Traceback" not in result.output


def test_an_empty_file_is_rejected_on_the_command_line_as_over_http(karmayogi: Run, client: TestClient, tmp_path: Path):
    assert karmayogi("db", "upgrade").exit_code == 0
    for name, content in (("empty.jsonl", ""), ("blank.jsonl", "\n\n"), ("header.csv", "identifier,name\n")):
        (tmp_path / name).write_text(content)
        result = karmayogi("ingest", "courses", str(tmp_path / name))
        assert result.exit_code == 2 and "holds no records" in result.output, result.output
        media = "text/csv" if name.endswith(".csv") else "application/x-ndjson"
        response = client.post("/v1/courses/bulk", content=content.encode(), headers={"Content-Type": media})
        assert response.status_code == 422, response.text


# --- fuzzing every reader ---------------------------------------------------------------------------------

TYPED = (IngestRejectedError, InvalidInputError)
ODD_TEXT = st.sampled_from(["", " ", "\x00", "\ud800", "\udcff", "∞", "Infinity", "NaN", "-1", "1e400", "9" * 40, "|"])
TEXT = st.text(max_size=12) | ODD_TEXT
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8
)
COMPETENCY_IDS = st.sampled_from(["FUN-02-01", "FUN-03-01", "BEH-01-01", "NOPE"]) | TEXT
LEVELS = st.sampled_from([1, 2, 5, 0, 6, "3", "x", None, 2.5, True])


def records(keys: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={key: value | VALUES for key, value in keys.items()})


COMPETENCY_ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "competency_id": COMPETENCY_IDS,
        "level": LEVELS,
        "competencySubThemeId": COMPETENCY_IDS | VALUES,
        "competencySubThemeName": TEXT | VALUES,
        "competencySubTheme": TEXT,
        "competencyThemeName": TEXT,
        "competencyLevel": LEVELS,
        "importance": LEVELS,
        "source": st.sampled_from(["self", "assessed", "x"]),
    },
)
ENTRIES = st.lists(COMPETENCY_ENTRY | COMPETENCY_IDS, max_size=3)
COURSE = records(
    {
        "identifier": st.sampled_from(["do_1", "do_2", "a b"]) | TEXT,
        "id": TEXT,
        "name": TEXT,
        "title": TEXT,
        "description": TEXT,
        "keywords": st.lists(TEXT, max_size=3) | TEXT,
        "language": st.lists(st.sampled_from(["English", "hi", "zz", "Hindi"]), max_size=2) | TEXT,
        "languages": st.lists(st.sampled_from(["en", "ta", "xx"]), max_size=2),
        "duration": SCALARS,
        "duration_seconds": SCALARS,
        "primaryCategory": TEXT,
        "avgRating": SCALARS,
        "rating_count": SCALARS,
        "status": st.sampled_from(["Live", "Retired", "active", "x"]),
        "competencies": ENTRIES | TEXT,
        "competencies_v5": ENTRIES,
        "competencies_v6": ENTRIES,
    }
)
ROLE_RECORD = records(
    {
        "id": st.sampled_from(["R1", "R2"]) | TEXT,
        "designation": TEXT,
        "department": TEXT,
        "ministry": TEXT,
        "state": TEXT,
        "responsibilities": st.lists(TEXT, max_size=2),
        "competencies": ENTRIES,
    }
)
LEARNER_RECORD = records(
    {
        "id": st.sampled_from(["L1", "L2"]) | TEXT,
        "name": TEXT,
        "roles": st.lists(st.sampled_from(["ROLE-DOPT-SO", "NOPE"]) | TEXT, max_size=2),
        "department": TEXT,
        "preferred_languages": st.lists(st.sampled_from(["hi", "en", "zz"]), max_size=2),
        "enrolled": st.lists(st.sampled_from(["do_1139000000000001", "do_x"]), max_size=2),
        "completed": st.lists(st.sampled_from(["do_1139000000000001", "do_x"]), max_size=2),
        "competencies": ENTRIES,
        "interests": st.lists(TEXT, max_size=2),
    }
)


def jsonl_lines(record: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[bytes]:
    line = record.map(lambda r: json.dumps(r).encode()) | st.binary(max_size=40) | st.just(b"[" * 5000)
    return st.lists(line, max_size=4).map(lambda lines: b"\n".join(lines))


CSV_COLUMN_NAMES = st.sampled_from(
    ["identifier", "name", "languages", "competencies", "duration_seconds", "rating", "keywords", "status", "id"]
) | st.text(string.ascii_lowercase, max_size=4)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(CSV_COLUMN_NAMES, min_size=0, max_size=5))
    cell = TEXT | st.sampled_from(["FUN-02-01:2|BEH-01-01", "hi|en", "3600", "a\nb", '"'])
    rows = draw(st.lists(st.lists(cell, max_size=len(header) + 1), max_size=3))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8", "surrogatepass")
    return data + draw(st.sampled_from([b"", b"\xff\n", b'"unterminated', b"\r\rx,y\r"]))


KCM = json.loads((FIXTURES / "kcm_small.json").read_text(encoding="utf-8"))


@st.composite
def kcm_documents(draw: st.DrawFn) -> bytes:
    """The small KCM with a few values replaced by anything, or anything at all."""
    if draw(st.booleans()):
        return json.dumps(draw(VALUES)).encode()
    document = json.loads(json.dumps(KCM))
    for _ in range(draw(st.integers(1, 3))):
        item: Any = document
        path = draw(st.lists(st.integers(0, 9), min_size=1, max_size=6))
        for step in path[:-1]:
            children = list(item.values()) if isinstance(item, dict) else item if isinstance(item, list) else []
            if not children:
                break
            item = children[step % len(children)]
        if isinstance(item, dict) and item:
            item[sorted(item)[path[-1] % len(item)]] = draw(VALUES)
        elif isinstance(item, list) and item:
            item[path[-1] % len(item)] = draw(VALUES)
    return json.dumps(document).encode()


FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
def catalog(small_kcm_engine: Engine, tmp_path: Path) -> Engine:
    ingest_file(small_kcm_engine, "roles", write_jsonl(tmp_path / "roles.jsonl", [ROLE]))
    ingest_file(small_kcm_engine, "courses", write_jsonl(tmp_path / "courses.jsonl", [V6_COURSE, V5_COURSE]))
    return small_kcm_engine


def ingest_only_typed_errors(engine: Engine, kind: Kind, path: Path, data: bytes, *, skip_invalid: bool) -> None:
    path.write_bytes(data)
    with contextlib.suppress(*TYPED):  # anything else fails the test
        ingest_file(engine, kind, path, skip_invalid=skip_invalid)


@FUZZ
@given(data=jsonl_lines(COURSE), skip_invalid=st.booleans())
@example(data=b'{"identifier": "do_f", "name": "n", "duration": "Infinity"}', skip_invalid=False)
@example(data=DEEP.encode(), skip_invalid=False)
def test_fuzz_course_json_lines(catalog: Engine, tmp_path: Path, data: bytes, skip_invalid: bool):
    ingest_only_typed_errors(catalog, "courses", tmp_path / "fuzz.jsonl", data, skip_invalid=skip_invalid)


@FUZZ
@given(data=csv_files(), skip_invalid=st.booleans())
@example(data=f"identifier,name\nx,{BIG_CELL}\n".encode(), skip_invalid=False)
def test_fuzz_course_csv(catalog: Engine, tmp_path: Path, data: bytes, skip_invalid: bool):
    ingest_only_typed_errors(catalog, "courses", tmp_path / "fuzz.csv", data, skip_invalid=skip_invalid)


@FUZZ
@given(data=jsonl_lines(ROLE_RECORD), skip_invalid=st.booleans())
def test_fuzz_roles(catalog: Engine, tmp_path: Path, data: bytes, skip_invalid: bool):
    ingest_only_typed_errors(catalog, "roles", tmp_path / "fuzz.jsonl", data, skip_invalid=skip_invalid)


@FUZZ
@given(data=jsonl_lines(LEARNER_RECORD), skip_invalid=st.booleans())
def test_fuzz_learners(catalog: Engine, tmp_path: Path, data: bytes, skip_invalid: bool):
    ingest_only_typed_errors(catalog, "learners", tmp_path / "fuzz.jsonl", data, skip_invalid=skip_invalid)


@FUZZ
@given(data=kcm_documents() | st.binary(max_size=60), skip_invalid=st.booleans())
@example(data=DEEP.encode(), skip_invalid=False)
def test_fuzz_competencies(catalog: Engine, tmp_path: Path, data: bytes, skip_invalid: bool):
    ingest_only_typed_errors(catalog, "competencies", tmp_path / "fuzz.json", data, skip_invalid=skip_invalid)
