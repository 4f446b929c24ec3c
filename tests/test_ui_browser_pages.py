"""The review pages as a person sees them, in Debian's headless Chromium (Playwright) against uvicorn on loopback:
the fonts the app ships render Devanagari and Tamil (this machine has no Indic font: anything else draws boxes),
/docs and /redoc list the operations with every request off this machine refused, the queue, unit and insights
pages fit 375 px and 1,366 px without scrolling sideways, and the pages link to each other."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlalchemy import Engine

from api.app import create_app
from api.fonts import FACES
from models import LANGUAGES, ingest_file, make_engine, session_scope, upgrade
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services, translated_catalog
from tests.browser import chromium, served_in_thread
from tests.conftest import FIXTURES
from translation import list_units, run_translation_job

TAMIL = {
    "Noting and Drafting": "குறிப்பு எழுதுதலும் வரைவும்",
    "Empathy at the front desk": "முன் மேசையில் பரிவு",
    "Public Procurement on GeM in 2024": "2024 இல் GeM இல் பொது கொள்முதல்",
}
# A Hindi-first Section Officer: FUN-02-01 (Noting and Drafting) is a gap that only an English course builds.
LEARNER = {"id": "L-hi", "roles": ["ROLE-DOPT-SO"], "preferred_languages": ["hi", "en"]}
WIDTHS = (375, 1366)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    """The small KCM and roles, three courses with Hindi units (memory, clean, an error flag) and Tamil ones, and
    one learner who prefers Hindi."""
    home = tmp_path_factory.mktemp("pages")
    engine = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
    upgrade(engine)
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    ingest_file(engine, "roles", FIXTURES / "roles_small.jsonl")
    (home / "learners.jsonl").write_text(json.dumps(LEARNER) + "\n", encoding="utf-8")
    ingest_file(engine, "learners", home / "learners.jsonl")
    translated_catalog(engine, home)
    run_translation_job(engine, ["ta"], ["name"], mt=DictionaryEngine(TAMIL))
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
    context = browser.new_context(locale="en-IN")
    context.set_default_timeout(15_000)
    yield context
    context.close()


def sign_in(page: Page, server: str, keys: Keys) -> None:
    page.goto(f"{server}/review/login")
    page.fill("#key", keys.reviewer)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Review queue")


def unit_id(engine: Engine, language: str, course_id: str) -> int:
    with session_scope(engine) as session:
        [unit] = list_units(session, language=language, course_id=course_id)
    return unit.id


def rendering_fonts(page: Page, selector: str) -> list[dict[str, Any]]:
    """The fonts Chromium drew an element's text with (DevTools' Rendered Fonts), with their glyph counts."""
    page.locator(selector).evaluate("element => element.setAttribute('data-probe', '')")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-probe]"})["nodeId"]
    fonts: list[dict[str, Any]] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    page.locator(selector).evaluate("element => element.removeAttribute('data-probe')")
    return fonts


MEASURE = """async ([family, text]) => {
  await document.fonts.load(`16px "${family}"`, text);
  const canvas = document.createElement("canvas").getContext("2d");
  canvas.font = `16px "${family}", sans-serif`;
  const shipped = canvas.measureText(text).width;
  canvas.font = "16px sans-serif";
  const fallback = canvas.measureText(text).width;
  return {check: document.fonts.check(`16px "${family}"`, text), shipped, fallback};
}"""


def test_devanagari_and_tamil_render_in_the_fonts_the_app_ships(
    server: str, context: BrowserContext, keys: Keys, *, tmp_path: Path
):
    page = context.new_page()
    sign_in(page, server, keys)
    for language, family, text in (
        ("hi", "Noto Sans Devanagari", "फ्रंट डेस्क पर सहानुभूति"),
        ("ta", "Noto Sans Tamil", TAMIL["Empathy at the front desk"]),
    ):
        page.goto(f"{server}/review?language={language}")
        cell = f"table.queue tr:has-text('do_clean') span.draft[lang={language}]"
        expect(page.locator(cell)).to_have_text(text)
        page.evaluate("document.fonts.ready.then(() => true)")
        fonts = {font["familyName"]: font for font in rendering_fonts(page, cell)}
        # Every letter from the shipped face (the spaces may come from the system's); none from a system font.
        assert fonts[family]["isCustomFont"], fonts
        assert all(font["isCustomFont"] or font["glyphCount"] <= text.count(" ") for font in fonts.values()), fonts
        assert page.evaluate("f => document.fonts.check(`16px \"${f}\"`, 'हिन्दी தமிழ்')", family)
        measured = page.evaluate(MEASURE, [family, text])
        assert measured["check"] and abs(measured["shipped"] - measured["fallback"]) > 1, measured
        page.screenshot(path=str(tmp_path / f"queue-{language}.png"))


def test_every_language_s_name_is_drawn_by_the_face_shipped_for_its_script(server: str, context: BrowserContext):
    assert {language.script for language in LANGUAGES} - set(FACES) == {"Latn"}  # Latin: the system's face
    page = context.new_page()
    page.goto(f"{server}/review/login")  # any page of the UI, in its font stack (/fonts/scripts.css)
    drawn = {}
    for language in LANGUAGES:
        page.evaluate(
            """async ([code, name]) => { const span = document.createElement("span");
              span.id = `name-${code}`; span.lang = code; span.textContent = name; document.body.append(span);
              await document.fonts.load(getComputedStyle(span).font, name); }""",
            [language.code, language.native_name],
        )
        fonts = rendering_fonts(page, f"#name-{language.code}")
        drawn[language.code] = {font["familyName"] for font in fonts if font["isCustomFont"]}
    expected = {
        language.code: {FACES[language.script].family} if language.script in FACES else set() for language in LANGUAGES
    }
    assert drawn == expected


def test_api_docs_list_the_operations_with_no_network(server: str, context: BrowserContext):
    refused: list[str] = []

    def only_this_machine(route: Route) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_machine)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Security Policy" in message.text else None)

    page.goto(f"{server}/docs")
    operations = page.locator(".opblock-summary-path")
    expect(operations.filter(has_text="/v1/courses/{identifier}").first).to_be_visible()
    assert operations.count() >= 20
    expect(page.locator(".opblock-summary-description", has_text="List courses").first).to_be_visible()

    page.goto(f"{server}/redoc")
    expect(page.locator("h2", has_text="List courses").first).to_be_visible()
    expect(page.locator("[role=menuitem]", has_text="insights").first).to_be_visible()

    assert refused == []
    # ReDoc's "API docs by Redocly" logo is the one thing either page asks from elsewhere; the CSP refuses it.
    assert all("cdn.redoc.ly" in violation for violation in violations), violations


@pytest.mark.parametrize("width", WIDTHS)
def test_queue_unit_and_insights_fit_the_screen(
    server: str, browser: Browser, keys: Keys, catalog: tuple[Engine, Path], *, width: int, tmp_path: Path
):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    sign_in(page, server, keys)
    flagged = unit_id(catalog[0], "hi", "do_flagged")
    pages = {
        "queue-hi": "/review?language=hi",
        "queue-ta": "/review?language=ta",
        "queue-any": "/review?status=",
        "unit": f"/review/units/{flagged}",
        "insights": "/review/insights?lang=hi",
        "quality": "/review/quality?language=hi",
    }
    widths = {}
    for name, path in pages.items():
        page.goto(f"{server}{path}")
        page.wait_for_load_state("load")  # the heatmap's image is laid out
        widths[name] = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
    context.close()
    assert all(scroll <= inner == width for scroll, inner in widths.values()), widths


def test_queue_insights_and_units_link_to_each_other(
    server: str, context: BrowserContext, keys: Keys, catalog: tuple[Engine, Path]
):
    page = context.new_page()
    sign_in(page, server, keys)
    expect(page.locator("nav.site a[aria-current=page]")).to_have_text("Queue")
    page.click("nav.site >> text=Insights")
    expect(page.locator("h1")).to_have_text("Catalog insights")
    expect(page.locator("nav.site a[aria-current=page]")).to_have_text("Insights")

    # The course the Hindi learner's gap needs is ranked, and its row links to its Hindi unit awaiting review.
    row = page.locator("table.queue tr", has_text="do_memory")
    expect(row.locator("td[data-label=Learners]")).to_have_text("1")
    memory_unit = unit_id(catalog[0], "hi", "do_memory")
    row.locator(f"a[href='/review/units/{memory_unit}']").click()
    expect(page.locator("h1")).to_contain_text(f"Unit {memory_unit}")
    expect(page.locator("nav.site a[aria-current=page]")).to_have_text("Queue")

    page.click("nav.site >> text=Queue")
    expect(page.locator("h1")).to_have_text("Review queue")
    page.click("nav.site >> text=API docs")
    expect(page).to_have_url(f"{server}/docs")
