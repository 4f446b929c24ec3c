"""Reviewing by keyboard in a real browser (Debian's headless Chromium, driven by Playwright, against uvicorn on
loopback), one browser for the module: 20 clean machine translations approved with 20 key presses, an error flag
blocking approval until an override reason is typed (kept in the history), the word diff of an edit in the
history, and a Hindi-only key refused a Tamil unit. The key presses per unit are counted and printed
(`pytest -s`); docs/translation.md quotes them."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import Engine

from api.app import create_app
from api.auth import create_key
from models import ingest_file, make_engine, session_scope, upgrade
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services, translated_catalog
from tests.browser import chromium, served_in_thread
from tests.conftest import FIXTURES
from translation import get_unit, list_units, run_translation_job

DRILLS = 20
# Clean Hindi machine translations: no QA flag of any severity (checked in the fixture).
ENGLISH_NUMBERS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty"
)
HINDI_NUMBERS = "एक दो तीन चार पाँच छह सात आठ नौ दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह उन्नीस बीस"
# Numbers as words: digits would be protected from the stand-in engine, whose table then misses the segment.
NUMBERS = dict(zip(ENGLISH_NUMBERS.split(" "), HINDI_NUMBERS.split(" "), strict=True))
DRILL_TABLE = {
    f"Keyboard drill {english} for section officers": f"अनुभाग अधिकारियों के लिए कीबोर्ड अभ्यास {hindi}"
    for english, hindi in NUMBERS.items()
}
TAMIL = {"Empathy at the front desk": "முன் மேசையில் பரிவு"}
TO_EDIT = {"Filing and keeping records": "अभिलेख फाइल करना"}  # a draft a reviewer replaces
REPLACED = "अभिलेखों को फाइल करना और रखना"
EDITED = "सामने की मेज़ पर सहानुभूति"
FIGURES: dict[str, str] = {}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    """translated_catalog's three Hindi units (memory, clean, error flag), 20 clean Hindi drills, Tamil names."""
    home = tmp_path_factory.mktemp("keyboard")
    engine = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
    upgrade(engine)
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    translated_catalog(engine, home)
    drills = [{"identifier": f"do_drill_{n:02}", "name": name} for n, name in enumerate(DRILL_TABLE, 1)]
    (home / "drills.jsonl").write_text("".join(json.dumps(c) + "\n" for c in drills), encoding="utf-8")
    ingest_file(engine, "courses", home / "drills.jsonl")
    run_translation_job(engine, ["hi"], ["name"], [c["identifier"] for c in drills], mt=DictionaryEngine(DRILL_TABLE))
    run_translation_job(engine, ["ta"], ["name"], ["do_clean"], mt=DictionaryEngine(TAMIL))
    (home / "edit.jsonl").write_text(json.dumps({"identifier": "do_edit", "name": next(iter(TO_EDIT))}) + "\n")
    ingest_file(engine, "courses", home / "edit.jsonl")
    run_translation_job(engine, ["hi"], ["name"], ["do_edit"], mt=DictionaryEngine(TO_EDIT))
    yield engine, home
    engine.dispose()


@pytest.fixture(scope="module")
def keys(catalog: tuple[Engine, Path]) -> Keys:
    return make_keys(catalog[0])


@pytest.fixture(scope="module")
def server(catalog: tuple[Engine, Path], keys: Keys) -> Iterator[str]:
    app = create_app(services=make_services(*catalog))
    with served_in_thread(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="en-IN", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


@dataclass
class Keyboard:
    """The page's keyboard, counting what a reviewer presses: keys (shortcuts, Enter, Ctrl+A: one each) apart
    from the characters of text typed."""

    page: Page
    presses: int = 0
    typed: int = 0
    log: list[str] = field(default_factory=list)

    def press(self, key: str, *, navigates: bool = False) -> None:
        self.presses += 1
        self.log.append(key)
        if navigates:
            with self.page.expect_navigation():
                self.page.keyboard.press(key)
        else:
            self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.typed += len(text)
        self.page.keyboard.type(text)


def sign_in(page: Page, server: str, key: str) -> None:
    page.goto(f"{server}/review/login")
    page.fill("#key", key)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Review queue")


def hindi_unit(engine: Engine, course_id: str) -> int:
    with session_scope(engine) as session:
        [unit] = list_units(session, language="hi", course_id=course_id)
    return unit.id


def test_twenty_clean_units_take_twenty_key_presses(
    server: str, context: BrowserContext, keys: Keys, catalog: tuple[Engine, Path]
):
    engine = catalog[0]
    with session_scope(engine) as session:
        drills = [u for u in list_units(session, "hi", "machine_translated", limit=500) if "drill" in u.course_id]
    assert len(drills) == DRILLS and all(unit.flags == [] for unit in drills), [u.flags for u in drills][:2]
    page = context.new_page()
    sign_in(page, server, keys.reviewer)
    filters = {"language": "hi", "status": "machine_translated", "q": "drill"}
    page.goto(f"{server}/review?{urlencode(filters)}")
    expect(page.locator("#matching")).to_have_text(str(DRILLS))
    page.locator("table.queue tbody tr a").first.click()  # the way in; from here on, the keyboard alone
    expect(page.locator("#position")).to_have_text(f"1 of {DRILLS} in this queue")
    expect(page.locator("#text")).to_be_focused()

    keyboard = Keyboard(page)
    for n in range(DRILLS):
        approved = int(page.url.split("/review/units/")[1].split("?")[0])
        keyboard.press("Enter", navigates=True)
        expect(page.locator(".notice")).to_contain_text(f"Approved unit {approved};")
        if n < DRILLS - 1:
            expect(page.locator("#text")).to_be_focused()
            # Approved units leave the queue of machine translations: the next is first of those left.
            expect(page.locator("#position")).to_have_text(f"1 of {DRILLS - n - 1} in this queue")
            # "Previous" goes back to the unit just approved, though it has left this queue.
            expect(page.locator("#previous")).to_have_attribute("href", re.compile(rf"^/review/units/{approved}\?"))
    expect(page.locator("h1")).to_have_text("Review queue")
    expect(page.locator(".notice")).to_contain_text("That was the last unit matching these filters.")
    expect(page.locator("#matching")).to_have_count(0)
    with session_scope(engine) as session:
        statuses = {get_unit(session, unit.id).status for unit in drills}
    assert statuses == {"approved"}
    assert keyboard.presses == DRILLS and keyboard.typed == 0
    FIGURES["clean"] = f"{keyboard.presses / DRILLS:g} key press per clean unit ({keyboard.presses} for {DRILLS})"


def test_an_edit_a_memory_match_and_the_diff_by_keyboard(
    server: str, context: BrowserContext, keys: Keys, catalog: tuple[Engine, Path]
):
    engine = catalog[0]
    page = context.new_page()
    sign_in(page, server, keys.reviewer)

    # Replace a draft and approve it in one step: Ctrl+A, the text, Enter.
    to_edit = hindi_unit(engine, "do_edit")
    page.goto(f"{server}/review/units/{to_edit}?language=hi&status=machine_translated")
    edit = Keyboard(page)
    edit.press("Control+a")
    edit.type(REPLACED)
    edit.press("Enter", navigates=True)
    expect(page.locator(".notice")).to_contain_text(f"Approved unit {to_edit};")
    with session_scope(engine) as session:
        approved = get_unit(session, to_edit)
    assert (approved.status, approved.text) == ("approved", REPLACED)
    FIGURES["edit"] = (
        f"{edit.presses} key presses plus the {edit.typed} characters of the new text to replace a draft and "
        f"approve it ({', '.join(edit.log[:1])}, the text, {edit.log[-1]})"
    )

    # Save an edit (Ctrl+S): the page stays on the unit, and its history shows the word diff.
    clean = hindi_unit(engine, "do_clean")
    page.goto(f"{server}/review/units/{clean}?language=hi&status=")
    save = Keyboard(page)
    save.press("Control+a")
    save.type(EDITED)
    save.press("Control+s", navigates=True)
    expect(page.locator(".notice")).to_have_text(f"Saved unit {clean}; it is in review with fresh QA checks.")
    expect(page.locator("h1 .status")).to_have_text("in review")
    diff = page.locator("ol.history li").last.locator(".diff")
    expect(diff.locator("ins")).to_have_text("सामने की मेज़")
    expect(diff.locator("del")).to_have_text("फ्रंट डेस्क")
    save.press("Enter", navigates=True)  # approve the saved text and go on
    expect(page.locator(".notice")).to_contain_text(f"Approved unit {clean};")

    # The shortcuts are keys only outside the box: there, "c" is a letter of the text.
    memory = hindi_unit(engine, "do_memory")
    page.goto(f"{server}/review/units/{memory}?language=hi&status=")
    expect(page.locator("#text")).to_be_focused()
    page.locator("#text").fill("")  # an empty box, to see what goes in
    page.keyboard.press("c")
    expect(page.locator("#text")).to_have_value("c")
    page.keyboard.press("Escape")
    page.keyboard.press("c")  # copy the source
    expect(page.locator("#text")).to_have_value("Noting and Drafting")
    expect(page.locator("#text")).to_be_focused()
    # Memory match 1 (100%) into the box and approved: Esc, 1, Enter.
    match = Keyboard(page)
    match.press("Escape")
    match.press("1")
    expect(page.locator("#text")).to_have_value("टिप्पण और प्रारूपण")
    match.press("Enter", navigates=True)
    expect(page.locator(".notice")).to_contain_text(f"Approved unit {memory};")
    with session_scope(engine) as session:
        assert get_unit(session, memory).text == "टिप्पण और प्रारूपण"
    FIGURES["match"] = f"{match.presses} key presses to put memory match N in the box and approve it (Esc, N, Enter)"


def test_an_error_flag_blocks_approval_until_a_reason_is_typed(
    server: str, context: BrowserContext, keys: Keys, catalog: tuple[Engine, Path]
):
    flagged = hindi_unit(catalog[0], "do_flagged")
    page = context.new_page()
    sign_in(page, server, keys.reviewer)
    page.goto(f"{server}/review/units/{flagged}?language=hi&status=machine_translated")
    expect(page.locator("#blocked")).to_be_visible()
    keyboard = Keyboard(page)
    keyboard.press("Enter", navigates=True)
    expect(page.locator("p.error")).to_contain_text("block approval")
    expect(page.locator("h1 .status")).to_have_text("machine translated")
    reason = "the year is in the description"
    keyboard.press("Escape")
    keyboard.press("o")
    expect(page.locator("#override")).to_be_focused()
    keyboard.type(reason)
    keyboard.press("Enter", navigates=True)
    expect(page.locator(".notice")).to_contain_text(f"Approved unit {flagged};")
    page.goto(f"{server}/review/units/{flagged}")
    expect(page.locator("h1 .status")).to_have_text("approved")
    expect(page.locator("ol.history li").last).to_contain_text(f"reason: {reason}")
    FIGURES["override"] = (
        f"{keyboard.presses} key presses plus the reason to meet an error flag and override it (Enter: refused, "
        "Esc, o, the reason, Enter)"
    )


def test_a_hindi_key_gets_a_refusal_page_for_a_tamil_unit(
    server: str, context: BrowserContext, catalog: tuple[Engine, Path]
):
    engine = catalog[0]
    with session_scope(engine) as session:
        _, hindi = create_key(session, "hindi review team", ["translate:review"], ["hi"])
        [tamil] = list_units(session, language="ta", course_id="do_clean")
    page = context.new_page()
    sign_in(page, server, hindi)
    response = page.goto(f"{server}/review/units/{tamil.id}")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("may review hi only, not 'ta'")
    expect(page.locator("#text")).to_have_count(0)


@pytest.mark.parametrize("width", [375, 1366])
def test_the_queue_and_a_unit_at_phone_and_desktop_widths(
    server: str, browser: Browser, keys: Keys, catalog: tuple[Engine, Path], *, width: int, tmp_path: Path
):
    shots = Path(os.environ.get("KARMAYOGI_SCREENSHOTS", tmp_path))
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, server, keys.reviewer)
    widths = {}
    for name, path in {
        "queue": "/review?status=",
        "queue-hi": "/review?language=hi&status=",
        "unit": f"/review/units/{hindi_unit(catalog[0], 'do_memory')}?language=hi&status=",
    }.items():
        page.goto(f"{server}{path}")
        if name == "unit":
            page.keyboard.press("Escape")
            page.keyboard.press("?")
            expect(page.locator("#shortcuts")).to_have_attribute("open", "")
        widths[name] = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        page.screenshot(path=str(shots / f"keyboard-{name}-{width}.png"), full_page=True)
    context.close()
    assert all(scroll <= inner == width for scroll, inner in widths.values()), widths


def test_zz_print_the_figures():
    """The measured figures, for docs/translation.md (`pytest -s` shows them)."""
    for name, figure in FIGURES.items():
        print(f"{name}: {figure}")
    assert {"clean", "edit", "match", "override"} <= set(FIGURES)
    assert re.match(r"1 key press per clean unit", FIGURES["clean"])
