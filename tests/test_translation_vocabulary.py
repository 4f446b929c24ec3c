"""One vocabulary for translation units: the status enum against the migration's CHECK, the actions each status
allows (workflow, review UI and HTTP API agree), the one query for a course's approved languages, and the
review pages sharing api/ui.py rather than importing each other (package rules: tests/test_import_graph.py)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import CheckConstraint, Engine, select
from sqlalchemy.exc import IntegrityError

from api.app import create_app
from models import UnitStatus, approved_languages, ingest_file, session_scope
from models.statuses import status_check
from models.tables import TranslationUnitRow, table_of
from tests.api_helpers import Keys, make_keys, make_services, translated_catalog
from tests.test_review_ui import csrf_of, sign_in
from translation import (
    Action,
    IllegalTransitionError,
    allowed_actions,
    approve_unit,
    edit_unit,
    reject_unit,
)

ROOT = Path(__file__).resolve().parent.parent
MIGRATION = ROOT / "models" / "migrations" / "versions" / "0002_translation.py"
EXPECTED_ACTIONS = {
    UnitStatus.UNTRANSLATED: {Action.EDIT},
    UnitStatus.MACHINE_TRANSLATED: {Action.EDIT, Action.APPROVE, Action.REJECT},
    UnitStatus.IN_REVIEW: {Action.EDIT, Action.APPROVE, Action.REJECT},
    UnitStatus.APPROVED: {Action.EDIT, Action.REJECT},
    UnitStatus.REJECTED: {Action.EDIT},
}


def load_courses(engine: Engine, folder: Path, identifiers: list[str]) -> None:
    path = folder / "courses.jsonl"
    path.write_text("".join(json.dumps({"identifier": i, "name": f"Course {i}"}) + "\n" for i in identifiers))
    ingest_file(engine, "courses", path)


def unit_row(course_id: str, status: str, field: str = "name", language: str = "hi") -> TranslationUnitRow:
    return TranslationUnitRow(
        course_id=course_id,
        field=field,
        language=language,
        source_text="Office skills",
        source_hash="h",
        status=status,
        draft="कार्यालय कौशल",
        flags=[],
    )


# --- the status vocabulary against the schema -----------------------------------------------------------


def test_the_enum_is_exactly_what_the_migration_and_the_table_allow():
    check = re.search(r'"(status IN \([^)]*\))"', MIGRATION.read_text())
    assert check, "migration 0002 declares the status CHECK"
    allowed = re.findall(r"'([^']+)'", check.group(1))

    assert allowed == [status.value for status in UnitStatus]
    assert status_check() == check.group(1)
    constraint = next(c for c in table_of(TranslationUnitRow).constraints if c.name == "ck_translation_units_status")
    assert isinstance(constraint, CheckConstraint)
    assert str(constraint.sqltext) == check.group(1)


def test_every_status_is_stored_as_its_string_and_others_are_refused(engine: Engine, tmp_path: Path):
    load_courses(engine, tmp_path, ["c-1"])
    by_language = dict(zip(["hi", "ta", "bn", "te", "mr"], UnitStatus, strict=True))
    with session_scope(engine) as session:
        session.add_all(unit_row("c-1", status, language=lang) for lang, status in by_language.items())
    with session_scope(engine) as session:
        stored = session.execute(select(TranslationUnitRow.language, TranslationUnitRow.status)).all()
    assert dict(stored) == {lang: status.value for lang, status in by_language.items()}
    assert all(type(status) is str for _, status in stored)

    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(unit_row("c-1", "published", language="gu"))


def test_a_new_unit_starts_untranslated(sqlite_engine: Engine, tmp_path: Path):
    load_courses(sqlite_engine, tmp_path, ["c-1"])
    with session_scope(sqlite_engine) as session:
        row = TranslationUnitRow(course_id="c-1", field="name", language="hi", source_text="x", source_hash="h")
        session.add(row)
        session.flush()
        assert session.scalar(select(TranslationUnitRow.status)) == "untranslated"


# --- what each status allows ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(UnitStatus))
def test_allowed_actions_of_each_status(status: UnitStatus):
    assert allowed_actions(status) == EXPECTED_ACTIONS[status]
    assert allowed_actions(status.value) == EXPECTED_ACTIONS[status]  # a plain string read from the database


def test_a_status_outside_the_vocabulary_has_no_actions_but_an_error():
    with pytest.raises(ValueError, match="published"):
        allowed_actions("published")


def test_the_workflow_does_exactly_what_allowed_actions_says(sqlite_engine: Engine, tmp_path: Path):
    pairs = [(status, action) for status in UnitStatus for action in Action]
    load_courses(sqlite_engine, tmp_path, [f"c-{i}" for i in range(len(pairs))])
    with session_scope(sqlite_engine) as session:
        rows = [unit_row(f"c-{i}", status) for i, (status, _) in enumerate(pairs)]
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]

    outcomes: dict[tuple[UnitStatus, Action], UnitStatus | None] = {}
    for unit_id, (status, action) in zip(ids, pairs, strict=True):
        with session_scope(sqlite_engine) as session:
            try:
                if action is Action.EDIT:
                    done = edit_unit(session, unit_id, "कार्यालय कौशल भाग", "asha")
                elif action is Action.APPROVE:
                    done = approve_unit(session, unit_id, "asha")
                else:
                    done = reject_unit(session, unit_id, "asha", "no")
                outcomes[status, action] = done.status
            except IllegalTransitionError as error:
                assert f"is {status}: cannot {action} it" in str(error)
                outcomes[status, action] = None

    expected_target = {Action.EDIT: UnitStatus.IN_REVIEW, Action.APPROVE: UnitStatus.APPROVED}
    for (status, action), result in outcomes.items():
        if action in EXPECTED_ACTIONS[status]:
            assert result == expected_target.get(action, UnitStatus.REJECTED), (status, action)
        else:
            assert result is None, (status, action)


# --- the review UI and the HTTP API show the same actions -----------------------------------------------


@pytest.fixture
def client(small_kcm_engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Keys]]:
    translated_catalog(small_kcm_engine, tmp_path)
    keys = make_keys(small_kcm_engine)
    services = make_services(small_kcm_engine, tmp_path)
    with TestClient(create_app(services=services), follow_redirects=False) as test_client:
        yield test_client, keys


@pytest.mark.parametrize("status", list(UnitStatus))
def test_the_unit_page_and_the_api_offer_only_the_allowed_actions(
    small_kcm_engine: Engine, client: tuple[TestClient, Keys], status: UnitStatus
):
    browser, keys = client
    with session_scope(small_kcm_engine) as session:
        row = session.scalar(select(TranslationUnitRow).where(TranslationUnitRow.course_id == "do_clean"))
        assert row is not None
        row.status = status
        unit_id = row.id

    page = sign_in(browser, keys.reviewer).get(f"/review/units/{unit_id}").text
    buttons = set(re.findall(r'<button type="submit" name="action" value="(\w+)"', page))
    # The page also lets an untranslated unit be typed and approved in one step (an edit, then the approval).
    one_step = {Action.APPROVE.value} if status == UnitStatus.UNTRANSLATED else set()
    assert buttons == {action.value for action in EXPECTED_ACTIONS[status]} | one_step
    assert f'<span class="status {status}">' in page

    unit = browser.get(f"/v1/translation/units/{unit_id}", headers=keys.header("reviewer")).json()
    assert unit["status"] == status.value
    assert unit["actions"] == [action.value for action in Action if action in EXPECTED_ACTIONS[status]]


def test_an_action_the_page_does_not_offer_is_refused_by_the_ui_and_the_api(
    small_kcm_engine: Engine, client: tuple[TestClient, Keys]
):
    browser, keys = client
    with session_scope(small_kcm_engine) as session:
        row = session.scalar(select(TranslationUnitRow).where(TranslationUnitRow.course_id == "do_clean"))
        assert row is not None
        row.status = UnitStatus.REJECTED
        unit_id = row.id
    token = csrf_of(sign_in(browser, keys.reviewer).get(f"/review/units/{unit_id}").text)

    by_form = browser.post(f"/review/units/{unit_id}", data={"action": "approve", "text": "", "csrf": token})
    by_api = browser.post(f"/v1/translation/units/{unit_id}/approve", headers=keys.header("reviewer"))
    unknown = browser.post(f"/review/units/{unit_id}", data={"action": "publish", "text": "", "csrf": token})

    assert by_form.status_code == 409 and "cannot approve it" in by_form.text
    assert by_api.status_code == 409
    assert unknown.status_code == 422 and "unknown action" in unknown.text


def test_the_queue_filters_by_every_status(small_kcm_engine: Engine, client: tuple[TestClient, Keys]):
    browser, keys = client
    queue = sign_in(browser, keys.reviewer).get("/review", params={"status": "machine_translated"}).text
    select = re.search(r'<select name="status".*?</select>', queue, re.DOTALL)
    assert select, "the queue has a status filter"
    options = re.findall(r'<option value="(\w+)"', select.group(0))

    assert [o for o in options if o in {s.value for s in UnitStatus}] == [s.value for s in UnitStatus]
    assert re.search(r'<option value="machine_translated"\s+selected', queue)


# --- a course's approved languages ----------------------------------------------------------------------


def test_approved_languages_need_every_translated_field_approved(engine: Engine, tmp_path: Path):
    load_courses(engine, tmp_path, ["c-1", "c-2", "c-3", "c-4"])
    with session_scope(engine) as session:
        session.add_all(
            [
                unit_row("c-1", UnitStatus.APPROVED, "name", "hi"),
                unit_row("c-1", UnitStatus.APPROVED, "description", "hi"),
                unit_row("c-1", UnitStatus.APPROVED, "name", "ta"),
                unit_row("c-1", UnitStatus.UNTRANSLATED, "description", "ta"),  # not translated: does not count
                unit_row("c-1", UnitStatus.APPROVED, "name", "bn"),
                unit_row("c-1", UnitStatus.REJECTED, "description", "bn"),
                unit_row("c-2", UnitStatus.APPROVED, "name", "hi"),
                unit_row("c-2", UnitStatus.IN_REVIEW, "description", "hi"),
                unit_row("c-3", UnitStatus.MACHINE_TRANSLATED, "name", "hi"),
                unit_row("c-4", UnitStatus.UNTRANSLATED, "name", "hi"),
                unit_row("c-4", UnitStatus.APPROVED, "name", "mr"),
            ]
        )
    with session_scope(engine) as session:
        everything = approved_languages(session)
        some = approved_languages(session, ["c-2", "c-4"])

    assert everything == {"c-1": frozenset({"hi", "ta"}), "c-4": frozenset({"mr"})}
    assert some == {"c-4": frozenset({"mr"})}


# --- import rules ---------------------------------------------------------------------------------------


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, `from a.b import c` counted as both a.b and a.b.c."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_the_review_pages_share_api_ui_and_not_each_other():
    review = imported_modules(ROOT / "api" / "routers" / "review.py")
    insights = imported_modules(ROOT / "api" / "routers" / "insights.py")

    assert "api.routers.insights" not in review
    assert "api.routers.review" not in insights
    assert "api.ui" in review and "api.ui" in insights
