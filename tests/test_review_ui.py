"""The review UI over HTTP: sign-in, refusals, CSRF, escaping of untrusted course text, review actions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.auth import revoke_key
from models import ingest_file, session_scope
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services, translated_catalog
from translation import run_translation_job

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def keys(small_kcm_engine: Engine, tmp_path: Path) -> Keys:
    translated_catalog(small_kcm_engine, tmp_path)
    (tmp_path / "hostile.jsonl").write_text(json.dumps({"identifier": "do_hostile", "name": HOSTILE}) + "\n")
    ingest_file(small_kcm_engine, "courses", tmp_path / "hostile.jsonl")
    run_translation_job(small_kcm_engine, ["hi"], ["name"], mt=DictionaryEngine({}))
    return make_keys(small_kcm_engine)


@pytest.fixture
def browser(small_kcm_engine: Engine, keys: Keys, tmp_path: Path) -> Iterator[TestClient]:
    services = make_services(small_kcm_engine, tmp_path)
    with TestClient(create_app(services=services), follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def sign_in(browser: TestClient, key: str) -> TestClient:
    form = browser.get("/review/login")
    response = browser.post("/review/login", data={"key": key, "csrf": csrf_of(form.text)})
    assert response.status_code == 303, response.text
    return browser


def unit_id(browser: TestClient, course_id: str) -> int:
    queue = browser.get("/review", params={"language": "hi", "status": ""}).text
    match = re.search(rf'href="/review/units/(\d+)\?[^"]*">\d+</a></td>\s*<td><span class="mono">{course_id}<', queue)
    assert match, f"{course_id} is in the queue"
    return int(match.group(1))


def test_pages_need_a_signed_in_reviewer(browser: TestClient):
    for path in ("/review", "/review/units/1"):
        response = browser.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/review/login"
    assert browser.post("/review/units/1", data={"action": "approve", "csrf": "x"}).status_code == 401
    assert browser.post("/review/bulk/preview", data={"language": "hi", "csrf": "x"}).status_code == 401


def test_only_review_keys_sign_in(browser: TestClient, keys: Keys):
    form = browser.get("/review/login")
    token = csrf_of(form.text)

    assert browser.post("/review/login", data={"key": "kyk_nope_nope", "csrf": token}).status_code == 401
    portal = browser.post("/review/login", data={"key": keys.portal, "csrf": token})
    assert portal.status_code == 403 and "translate:review" in portal.text
    forged = TestClient(browser.app, follow_redirects=False).post(
        "/review/login", data={"key": keys.reviewer, "csrf": token}
    )
    assert forged.status_code == 403  # a token without its cookie: a cross-site sign-in attempt


def test_the_session_cookie_is_http_only_strict_and_holds_no_key(browser: TestClient, keys: Keys):
    form = browser.get("/review/login")
    response = browser.post("/review/login", data={"key": keys.reviewer, "csrf": csrf_of(form.text)})

    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert keys.reviewer.split("_", 2)[2] not in cookie


def test_untrusted_course_text_is_escaped_everywhere(browser: TestClient, keys: Keys):
    sign_in(browser, keys.reviewer)
    queue = browser.get("/review", params={"language": "hi", "status": ""})
    hostile = unit_id(browser, "do_hostile")
    unit = browser.get(f"/review/units/{hostile}")

    for page in (queue, unit):
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]


def test_approving_in_the_form_needs_the_csrf_token(browser: TestClient, keys: Keys):
    sign_in(browser, keys.reviewer)
    clean = unit_id(browser, "do_clean")
    page = browser.get(f"/review/units/{clean}").text

    forged = browser.post(f"/review/units/{clean}", data={"action": "approve", "text": "x", "csrf": "forged"})
    assert forged.status_code == 403

    approved = browser.post(f"/review/units/{clean}", data={"action": "approve", "text": "", "csrf": csrf_of(page)})
    assert approved.status_code == 303
    after = browser.get(approved.headers["location"]).text
    assert f"Approved unit {clean}; the translation is now in the memory." in after
    assert '<span class="status approved">approved</span>' in browser.get(f"/review/units/{clean}").text


def test_a_disallowed_action_is_explained_on_the_page(browser: TestClient, keys: Keys):
    sign_in(browser, keys.reviewer)
    clean = unit_id(browser, "do_clean")
    token = csrf_of(browser.get(f"/review/units/{clean}").text)
    browser.post(f"/review/units/{clean}", data={"action": "reject", "note": "no", "csrf": token})

    again = browser.post(f"/review/units/{clean}", data={"action": "approve", "text": "", "csrf": token})

    assert again.status_code == 409
    assert "is rejected: cannot approve it" in again.text


def test_bulk_approve_from_the_queue_goes_through_a_preview(browser: TestClient, keys: Keys):
    sign_in(browser, keys.reviewer)
    token = csrf_of(browser.get("/review", params={"language": "hi"}).text)
    form = {"language": "hi", "status": "machine_translated", "scope": "filter", "clean": "1", "csrf": token}

    preview = browser.post("/review/bulk/preview", data=form | {"action": "approve"})
    assert preview.status_code == 200 and "Approve 2 units?" in preview.text
    ids = re.findall(r'name="unit" value="(\d+)"', preview.text)
    applied = browser.post("/review/bulk/apply", data={"action": "approve", "unit": ids, "csrf": token})

    assert applied.status_code == 303
    assert "approved 2 units" in browser.get(applied.headers["location"]).text


def test_revoking_the_key_ends_the_session(browser: TestClient, keys: Keys, small_kcm_engine: Engine):
    sign_in(browser, keys.reviewer)
    assert browser.get("/review").status_code == 200
    with session_scope(small_kcm_engine) as session:
        revoke_key(session, keys.reviewer)
    assert browser.get("/review").status_code == 303


def test_signing_out_forgets_the_session(browser: TestClient, keys: Keys):
    sign_in(browser, keys.reviewer)
    token = csrf_of(browser.get("/review").text)
    browser.post("/review/logout", data={"csrf": token})
    assert browser.get("/review").status_code == 303
