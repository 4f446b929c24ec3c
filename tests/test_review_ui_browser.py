"""A reviewer in a real browser (Debian's headless Chromium, driven by Playwright) against uvicorn on loopback:
sign in, find a machine translation in the queue, correct and approve it; the memory then drafts with it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from api.app import create_app
from models import ingest_file, session_scope
from tests.api_helpers import Keys, make_keys, make_services, translated_catalog
from tests.browser import chromium, served_in_thread
from translation import list_units, run_translation_job

CORRECTED = "नागरिकों के प्रति सहानुभूति: फ्रंट डेस्क"


@pytest.fixture
def keys(small_kcm_engine: Engine, tmp_path: Path) -> Keys:
    translated_catalog(small_kcm_engine, tmp_path)
    return make_keys(small_kcm_engine)


@pytest.fixture
def server(small_kcm_engine: Engine, keys: Keys, tmp_path: Path) -> Iterator[str]:
    app = create_app(services=make_services(small_kcm_engine, tmp_path))
    with served_in_thread(app) as base:
        yield base


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with chromium() as browser:
        context = browser.new_context(locale="en-IN")
        context.set_default_timeout(15_000)
        yield context.new_page()
        context.close()


def test_a_reviewer_approves_a_machine_translation_and_the_memory_uses_it(
    server: str, page: Page, keys: Keys, small_kcm_engine: Engine, *, tmp_path: Path
):
    page.goto(f"{server}/review")
    expect(page).to_have_url(f"{server}/review/login")
    page.fill("#key", keys.reviewer)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Review queue")

    page.select_option("select[name=language]", "hi")
    page.click("form.filters button[type=submit]")
    row = page.locator("table.queue tr", has_text="do_clean")
    expect(row).to_contain_text("फ्रंट डेस्क पर सहानुभूति")
    flagged = page.locator("table.queue tr", has_text="do_flagged")
    expect(flagged.locator(".flag.error")).to_have_text("numbers")
    row.locator("a").first.click()

    expect(page.locator("#source mark.term")).to_have_text("Empathy")  # a KCM competency, from the glossary
    expect(page.locator("#text")).to_have_value("फ्रंट डेस्क पर सहानुभूति")
    page.fill("#text", CORRECTED)
    page.screenshot(path=str(tmp_path / "unit-before-approval.png"), full_page=True)
    unit = page.url.split("/review/units/")[1].split("?")[0]
    page.click("#approve")

    # Approving moves on to the next unit of the queue, saying what was done.
    expect(page.locator(".notice")).to_have_text(f"Approved unit {unit}; the translation is now in the memory.")
    page.click("#previous")
    expect(page.locator("h1 .status")).to_have_text("approved")
    expect(page.locator("#text")).to_have_value(CORRECTED)
    page.screenshot(path=str(tmp_path / "unit-approved.png"), full_page=True)

    # A new course with the same English title is drafted from the memory with the reviewer's text.
    copy = {"identifier": "do_clean_copy", "name": "Empathy at the front desk"}
    (tmp_path / "copy.jsonl").write_text(json.dumps(copy) + "\n", encoding="utf-8")
    ingest_file(small_kcm_engine, "courses", tmp_path / "copy.jsonl")
    run_translation_job(small_kcm_engine, ["hi"], ["name"], course_ids=["do_clean_copy"])
    with session_scope(small_kcm_engine) as session:
        [drafted] = list_units(session, language="hi", course_id="do_clean_copy")
    assert (drafted.engine, drafted.draft, drafted.status) == ("memory", CORRECTED, "machine_translated")


def test_memory_matches_show_their_percentage(server: str, page: Page, keys: Keys, small_kcm_engine: Engine):
    with session_scope(small_kcm_engine) as session:
        [unit] = list_units(session, language="hi", course_id="do_memory")
    page.goto(f"{server}/review/login")
    page.fill("#key", keys.reviewer)
    page.click("button[type=submit]")
    page.goto(f"{server}/review/units/{unit.id}")

    match = page.locator("table.matches tbody tr").first
    expect(match.locator(".score")).to_have_text("100%")
    expect(match).to_contain_text("टिप्पण और प्रारूपण")
