"""Bulk review in a real browser (issue 15, item 4): check units in the queue → the preview page counts them and
changes nothing → confirm → the batch's page → Undo puts every unit back. Debian's headless Chromium (Playwright)
against uvicorn on loopback, as the other browser tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from api.app import create_app
from models import ingest_file, make_engine, session_scope, upgrade
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services
from tests.browser import chromium, served_in_thread
from tests.conftest import FIXTURES
from tests.test_bulk_review import FLAGGED, TITLES
from translation import list_units, run_translation_job


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    home = tmp_path_factory.mktemp("bulk-browser")
    engine = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
    upgrade(engine)
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    courses = [{"identifier": f"do_bulk_{n}", "name": name} for n, name in enumerate([*TITLES, FLAGGED])]
    (home / "courses.jsonl").write_text("".join(json.dumps(c) + "\n" for c in courses), encoding="utf-8")
    ingest_file(engine, "courses", home / "courses.jsonl")
    run_translation_job(engine, ["hi"], ["name"], mt=DictionaryEngine(TITLES))
    yield engine, home
    engine.dispose()


@pytest.fixture(scope="module")
def server(catalog: tuple[Engine, Path]) -> Iterator[tuple[str, Keys]]:
    keys = make_keys(catalog[0])
    app = create_app(services=make_services(*catalog, mt=DictionaryEngine(TITLES)))
    with served_in_thread(app) as base:
        yield base, keys


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def without_errors(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        units = list_units(session, language="hi")
        return [unit.id for unit in units if not any(flag["severity"] == "error" for flag in unit.flags)]


def statuses(engine: Engine) -> dict[int, str]:
    with session_scope(engine) as session:
        return {unit.id: str(unit.status) for unit in list_units(session, language="hi")}


def test_check_preview_confirm_and_undo_a_batch_in_the_browser(browser: Browser, server, catalog):
    base, keys = server
    engine = catalog[0]
    before = statuses(engine)
    page: Page = browser.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/review/login")
    page.fill("#key", keys.reviewer)
    page.click("button[type=submit]")
    page.goto(f"{base}/review?language=hi&status=machine_translated")

    chosen = without_errors(engine)[:5]
    flagged = next(unit_id for unit_id in before if unit_id not in without_errors(engine))
    for unit_id in [*chosen, flagged]:
        page.check(f"input[name=unit][value='{unit_id}']")
    page.get_by_role("button", name="Preview approving selected").click()
    expect(page.locator("h1")).to_have_text("Approve 5 units?")
    expect(page.locator("#skipped")).to_contain_text("an error flag blocks approval")  # left out, and why
    assert statuses(engine) == before, "the preview changed nothing"

    page.click("#apply")
    expect(page.locator("h1")).to_contain_text("approved 5 units")
    after = statuses(engine)
    assert [after[unit_id] for unit_id in chosen] == ["approved"] * 5
    assert all(after[unit_id] == before[unit_id] for unit_id in before if unit_id not in chosen)

    page.get_by_role("button", name="Undo this batch").click()
    expect(page.locator("#undone")).to_be_visible()
    assert statuses(engine) == before

    # The whole filter, clean units only: the flagged one is not among them.
    page.goto(f"{base}/review?language=hi&status=machine_translated")
    page.get_by_role("button", name="Preview approving all clean units matching the filter").click()
    clean = len(without_errors(engine))  # the dictionary's drafts; the flagged title's lost number is an error
    expect(page.locator("h1")).to_have_text(f"Approve {clean} units?")
    page.close()
