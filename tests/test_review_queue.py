"""The review queue worth working from (issue 15, items 2 and 3) over HTTP: counts per status and language with
the approved share, totals and page numbers, text search, the flag filter as a choice of registered checks (an
unknown one a 422 page), the field filter, priority and popularity order, the draft apart from the reviewer's
edit; on a unit's page "next" follows the queue's filters, an action moves on to the next unit with a notice,
an untranslated unit is typed and approved in one step, and the shortcuts' script is served under the CSP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from models import ingest_file, session_scope
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services, translated_catalog
from tests.conftest import FIXTURES
from translation import CHECKS, get_unit, list_units, run_translation_job
from translation.queue import UnitFilter, UnitOrder, count_units, find_units, unit_neighbours

# Popular courses with descriptions (machine translated, clean), and one course nobody rated.
EXTRA = [
    {"identifier": "do_popular", "name": "Budgeting basics", "description": "Plan a budget", "rating_count": 900},
    {"identifier": "do_liked", "name": "Office etiquette", "description": "Manners at work", "rating_count": 40},
]
TABLE = {
    "Empathy at the front desk": "फ्रंट डेस्क पर सहानुभूति",
    "Budgeting basics": "बजट की मूल बातें",
    "Plan a budget": "बजट की योजना बनाएं",
    "Office etiquette": "कार्यालय शिष्टाचार",
    "Manners at work": "काम पर शिष्टाचार",
}
LEARNER = {"id": "L-hi", "roles": ["ROLE-DOPT-SO"], "preferred_languages": ["hi", "en"]}


@pytest.fixture
def engine(small_kcm_engine: Engine, tmp_path: Path) -> Engine:
    """Hindi: a memory draft, a clean and a flagged machine translation (names), two more courses' names and
    descriptions; Tamil names left untranslated (no engine); one Hindi-first learner for the priorities."""
    ingest_file(small_kcm_engine, "roles", FIXTURES / "roles_small.jsonl")
    (tmp_path / "learners.jsonl").write_text(json.dumps(LEARNER) + "\n", encoding="utf-8")
    ingest_file(small_kcm_engine, "learners", tmp_path / "learners.jsonl")
    translated_catalog(small_kcm_engine, tmp_path)
    (tmp_path / "extra.jsonl").write_text("".join(json.dumps(c) + "\n" for c in EXTRA), encoding="utf-8")
    ingest_file(small_kcm_engine, "courses", tmp_path / "extra.jsonl")
    ids = [course["identifier"] for course in EXTRA]
    run_translation_job(small_kcm_engine, ["hi"], ["name", "description"], ids, mt=DictionaryEngine(TABLE))
    run_translation_job(small_kcm_engine, ["ta"], ["name"])
    return small_kcm_engine


@pytest.fixture
def browser(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(services=make_services(engine, tmp_path)), follow_redirects=False) as client:
        yield client


@pytest.fixture
def keys(engine: Engine) -> Keys:
    return make_keys(engine)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def signed_in(browser: TestClient, key: str) -> TestClient:
    browser.post("/review/login", data={"key": key, "csrf": csrf_of(browser.get("/review/login").text)})
    return browser


def queue_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/review/units/(\d+)\?', html)]


def unit_of(engine: Engine, course_id: str, language: str = "hi", field: str = "name") -> int:
    with session_scope(engine) as session:
        [unit] = [u for u in list_units(session, language, course_id=course_id) if u.field == field]
    return unit.id


def test_counts_per_status_and_language_with_the_approved_share(browser: TestClient, keys: Keys, engine: Engine):
    signed_in(browser, keys.reviewer)
    with session_scope(engine) as session:
        counts = count_units(session, UnitFilter())
    assert counts.by_language() == {
        "hi": {"untranslated": 0, "machine_translated": 7, "in_review": 0, "approved": 0, "rejected": 0},
        "ta": {"untranslated": 5, "machine_translated": 0, "in_review": 0, "approved": 0, "rejected": 0},
    }
    token = csrf_of(browser.get("/review").text)
    browser.post(f"/review/units/{unit_of(engine, 'do_clean')}", data={"action": "approve", "csrf": token})

    page = browser.get("/review", params={"status": ""}).text
    assert '<progress id="progress" max="12" value="1">' in page
    assert re.search(r'id="approved-count">1</strong> of <strong id="total-count">12</strong> approved', page)
    assert re.search(r'data-status="untranslated">[^\n]*\n?[^\n]*<span class="count">5</span>', page)
    assert re.search(r'data-status="machine_translated">[^\n]*\n?[^\n]*<span class="count">6</span>', page)
    hindi = re.search(r'<tr data-language="hi">(.*?)</tr>', page, re.DOTALL)
    assert hindi and '<progress max="7" value="1"></progress> 1/7' in hindi.group(1)
    assert 'id="matching">12</strong>' in page

    one_language = browser.get("/review", params={"language": "hi"}).text  # machine translations by default
    assert 'id="matching">6</strong>' in one_language and 'data-language="hi"' not in one_language


def test_text_search_field_filter_and_flag_choice(browser: TestClient, keys: Keys, engine: Engine):
    signed_in(browser, keys.reviewer)
    by_source = queue_ids(browser.get("/review", params={"language": "hi", "q": "BUDGET"}).text)
    assert sorted(by_source) == sorted(
        [unit_of(engine, "do_popular"), unit_of(engine, "do_popular", field="description")]
    )
    by_draft = queue_ids(browser.get("/review", params={"language": "hi", "q": "शिष्टाचार"}).text)
    assert len(by_draft) == 2
    assert queue_ids(browser.get("/review", params={"q": "100%_"}).text) == []  # LIKE's wildcards are literal
    descriptions = queue_ids(browser.get("/review", params={"language": "hi", "field": "description"}).text)
    assert descriptions == sorted(unit_of(engine, c["identifier"], field="description") for c in EXTRA)

    queue = browser.get("/review", params={"language": "hi"}).text
    options = re.findall(r'<option value="([^"]*)"', queue.split('name="flag"')[1].split("</select>")[0])
    assert options == ["", *CHECKS, "memory-warning"]
    assert queue_ids(browser.get("/review", params={"language": "hi", "flag": "numbers"}).text) == [
        unit_of(engine, "do_flagged")
    ]
    bogus = browser.get("/review", params={"flag": "bogus"})
    assert bogus.status_code == 422 and "unknown QA check &#39;bogus&#39;" in bogus.text
    assert browser.get("/review", params={"field": "title"}).status_code == 422
    assert browser.get("/review", params={"order": "random"}).status_code == 422


def test_orders_by_popularity_and_by_translation_priority(browser: TestClient, keys: Keys, engine: Engine):
    signed_in(browser, keys.reviewer)
    popular = queue_ids(browser.get("/review", params={"language": "hi", "order": "popularity"}).text)
    assert popular[:4] == [
        unit_of(engine, "do_popular"),
        unit_of(engine, "do_popular", field="description"),
        unit_of(engine, "do_liked"),
        unit_of(engine, "do_liked", field="description"),
    ]
    # The Hindi learner's gap (Noting and Drafting) makes do_memory the first course to translate.
    ranked = browser.get("/review", params={"language": "hi", "order": "priority"}).text
    assert queue_ids(ranked)[0] == unit_of(engine, "do_memory")
    assert "priority 1 · 1 learner" in ranked
    no_language = browser.get("/review", params={"order": "priority"})
    assert no_language.status_code == 422 and "choose a language" in no_language.text


def test_the_draft_column_keeps_the_draft_apart_from_the_edit(browser: TestClient, keys: Keys, engine: Engine):
    signed_in(browser, keys.reviewer)
    clean = unit_of(engine, "do_clean")
    token = csrf_of(browser.get("/review").text)
    browser.post(f"/review/units/{clean}", data={"action": "edit", "text": "सामने की मेज़ पर सहानुभूति", "csrf": token})
    page = browser.get("/review", params={"language": "hi", "status": ""}).text
    row = re.search(rf"units/{clean}\?.*?</tr>", page, re.DOTALL)
    assert row
    assert '<span class="draft" lang="hi">फ्रंट डेस्क पर सहानुभूति</span>' in row.group(0)
    assert 'reviewer\'s edit:</small> <span lang="hi">सामने की मेज़ पर सहानुभूति' in row.group(0)
    assert "machine (test-dictionary)" in row.group(0)
    memory_row = re.search(rf"units/{unit_of(engine, 'do_memory')}\?.*?</tr>", page, re.DOTALL)
    assert memory_row and "from memory (exact)" in memory_row.group(0)


def test_page_numbers_and_totals(engine: Engine):
    with session_scope(engine) as session:
        every = find_units(session, UnitFilter(), limit=100)
        assert [u.id for u in find_units(session, UnitFilter(), limit=3, offset=3)] == [u.id for u in every[3:6]]
        assert count_units(session, UnitFilter(language="hi", q="budget")).total == 2


def test_the_bulk_form_links_to_the_preview_with_the_filters(browser: TestClient, keys: Keys):
    signed_in(browser, keys.reviewer)
    page = browser.get("/review", params={"language": "hi", "q": "budget"}).text
    assert "Approve all clean machine translations" not in page  # no one-click bulk approval any more
    bulk = page.split('<form id="bulk" method="post" action="/review/bulk/preview">')[1].split("</form>")[0]
    assert len(re.findall(r'<input type="checkbox" name="unit" value="\d+"', bulk)) == 2
    assert '<input type="hidden" name="language" value="hi">' in bulk and 'name="q" value="budget"' in bulk
    assert "Preview approving selected" in bulk
    assert '<button type="submit" form="bulk-filter" class="approve">Preview approving all clean units' in bulk
    whole = page.split('<form id="bulk-filter" method="post" action="/review/bulk/preview">')[1].split("</form>")[0]
    for name, value in (("scope", "filter"), ("clean", "1"), ("action", "approve"), ("status", "machine_translated")):
        assert f'name="{name}" value="{value}"' in whole


def test_next_follows_the_queue_and_an_action_moves_on(browser: TestClient, keys: Keys, engine: Engine):
    signed_in(browser, keys.reviewer)
    queue = browser.get("/review", params={"language": "hi", "q": "शिष्टाचार"}).text
    first, second = queue_ids(queue)
    page = browser.get(f"/review/units/{first}", params={"language": "hi", "q": "शिष्टाचार"}).text
    assert "1 of 2 in this queue" in page
    assert f'href="/review/units/{second}?language=hi&amp;q=%E0' in page and 'id="previous"' not in page

    action = re.search(r'<form method="post" action="([^"]+)" id="review-form">', page)
    assert action
    moved = browser.post(action.group(1).replace("&amp;", "&"), data={"action": "approve", "csrf": csrf_of(page)})
    assert moved.status_code == 303
    assert moved.headers["location"].startswith(f"/review/units/{second}?language=hi&q=")
    after = browser.get(moved.headers["location"]).text
    assert f"Approved unit {first}; the translation is now in the memory." in after
    assert f'href="/review/units/{first}?' in after and 'id="previous"' in after  # back to the one just approved
    assert 'id="end"' in after  # the last of the queue

    last = browser.post(moved.headers["location"].split("&done")[0], data={"action": "reject", "csrf": csrf_of(after)})
    assert last.headers["location"].startswith("/review?language=hi&q=")
    assert "That was the last unit matching these filters." in browser.get(last.headers["location"]).text
    with session_scope(engine) as session:
        neighbours = unit_neighbours(session, first, UnitFilter(language="hi", status="machine_translated"))
    assert neighbours.position is None  # approved: no longer a machine translation, but still placed


def test_next_in_popularity_order(engine: Engine):
    with session_scope(engine) as session:
        unit_filter = UnitFilter(language="hi", order=UnitOrder.POPULARITY)
        ordered = [u.id for u in find_units(session, unit_filter)]
        steps = [unit_neighbours(session, unit, unit_filter) for unit in ordered]
    assert [s.next for s in steps] == [*ordered[1:], None]
    assert [s.previous for s in steps] == [None, *ordered[:-1]]
    assert [s.position for s in steps] == list(range(1, len(ordered) + 1))


def test_an_untranslated_unit_is_typed_and_approved_in_one_step(browser: TestClient, keys: Keys, engine: Engine):
    signed_in(browser, keys.reviewer)
    tamil = unit_of(engine, "do_clean", language="ta")
    page = browser.get(f"/review/units/{tamil}", params={"language": "ta", "status": "untranslated"}).text
    assert 'id="approve">Approve &amp; next</button>' in page
    empty = browser.post(f"/review/units/{tamil}", data={"action": "approve", "text": " ", "csrf": csrf_of(page)})
    assert empty.status_code == 422 and "type a translation" in empty.text
    done = browser.post(
        f"/review/units/{tamil}?language=ta&status=untranslated",
        data={"action": "approve", "text": "முன் மேசையில் பரிவு", "csrf": csrf_of(page)},
    )
    assert done.status_code == 303 and "done=approve" in done.headers["location"]
    with session_scope(engine) as session:
        unit = get_unit(session, tamil)
    assert (unit.status, unit.text) == ("approved", "முன் மேசையில் பரிவு")
    assert [h.action for h in unit.history][-2:] == ["edited", "approved"]


def test_a_refused_approval_keeps_the_typed_text(browser: TestClient, keys: Keys, engine: Engine):
    signed_in(browser, keys.reviewer)
    clean = unit_of(engine, "do_clean")
    page = browser.get(f"/review/units/{clean}").text
    refused = browser.post(
        f"/review/units/{clean}", data={"action": "approve", "text": "सहानुभूति 2024", "csrf": csrf_of(page)}
    )
    assert refused.status_code == 409
    assert ">सहानुभूति 2024</textarea>" in refused.text and 'id="override"' in refused.text


def test_the_shortcuts_script_is_served_and_allowed_by_the_csp(browser: TestClient, keys: Keys, engine: Engine):
    signed_in(browser, keys.reviewer)
    page = browser.get(f"/review/units/{unit_of(engine, 'do_clean')}")
    assert '<script src="/static/review.js" defer></script>' in page.text
    assert "<script>" not in page.text  # nothing inline
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    script = browser.get("/static/review.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert 'id="shortcuts"' in page.text and "<kbd>Ctrl</kbd>+<kbd>Enter</kbd>" in page.text
    assert re.search(r'<textarea name="text" id="text"[^>]* autofocus', page.text)


def test_the_api_lists_units_by_text_field_and_order(browser: TestClient, keys: Keys, engine: Engine):
    def ids(**params: str) -> list[int]:
        response = browser.get("/v1/translation/units", params=params, headers=keys.header("reviewer"))
        assert response.status_code == 200, response.text
        return [unit["id"] for unit in response.json()["items"]]

    assert sorted(ids(language="hi", q="budget")) == sorted(
        [unit_of(engine, "do_popular"), unit_of(engine, "do_popular", field="description")]
    )
    assert ids(language="hi", q="budget", field="name") == [unit_of(engine, "do_popular")]
    assert ids(language="hi", order="popularity", field="name")[:2] == [
        unit_of(engine, "do_popular"),
        unit_of(engine, "do_liked"),
    ]
    assert ids(language="hi", order="priority")[0] == unit_of(engine, "do_memory")
    refused = browser.get("/v1/translation/units", params={"order": "priority"}, headers=keys.header("reviewer"))
    assert refused.status_code == 422 and "give `language`" in refused.json()["detail"]
    unknown = browser.get("/v1/translation/units", params={"flag": "bogus"}, headers=keys.header("reviewer"))
    assert unknown.status_code == 422 and "unknown QA check 'bogus'" in unknown.json()["detail"]
