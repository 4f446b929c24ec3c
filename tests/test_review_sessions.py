"""Review-UI sessions held on the server (issue 14, D10): logout, key revocation and expiry end a session and a
replayed cookie is refused; tokens compared as bytes and path ids validated (D5); errors as pages (D12)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from api.app import create_app
from api.auth import revoke_key
from api.ui_session import COOKIE
from models import ingest_file, session_scope
from models.tables import ReviewSessionRow
from tests.api_helpers import Keys, make_keys, make_services, translated_catalog
from tests.conftest import FIXTURES


@pytest.fixture
def keys(engine: Engine, tmp_path: Path) -> Keys:
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    translated_catalog(engine, tmp_path)
    return make_keys(engine)


@pytest.fixture
def browser(engine: Engine, keys: Keys, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(services=make_services(engine, tmp_path))
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def sign_in(browser: TestClient, key: str) -> str:
    """Signs in and returns the session cookie."""
    response = browser.post("/review/login", data={"key": key, "csrf": csrf_of(browser.get("/review/login").text)})
    assert response.status_code == 303, response.text
    return browser.cookies[COOKIE]


def replay(browser: TestClient, cookie: str, path: str = "/review") -> int:
    """A request from a second client holding a copy of the cookie."""
    with TestClient(browser.app, follow_redirects=False) as thief:
        # As a browser would send it, byte for byte (a cookie may hold any Latin-1 byte).
        return thief.get(path, headers={"Cookie": f"{COOKIE}={cookie}".encode("latin-1")}).status_code


def sessions(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(ReviewSessionRow)) or 0


def is_page(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    return response.text


def test_a_cookie_kept_after_logout_is_refused(browser: TestClient, keys: Keys, engine: Engine):
    cookie = sign_in(browser, keys.reviewer)
    assert replay(browser, cookie) == 200 and sessions(engine) == 1
    browser.post("/review/logout", data={"csrf": csrf_of(browser.get("/review").text)})
    assert sessions(engine) == 0
    assert replay(browser, cookie) == 303  # to the sign-in page
    forms = TestClient(browser.app, follow_redirects=False, cookies={COOKIE: cookie})
    assert forms.post("/review/bulk/preview", data={"language": "hi", "csrf": "x"}).status_code == 401


def test_logout_needs_the_csrf_token(browser: TestClient, keys: Keys, engine: Engine):
    cookie = sign_in(browser, keys.reviewer)
    assert browser.post("/review/logout", data={"csrf": "forged"}).status_code == 403
    assert replay(browser, cookie) == 200 and sessions(engine) == 1


def test_revoking_the_key_ends_its_sessions(browser: TestClient, keys: Keys, engine: Engine):
    cookie = sign_in(browser, keys.reviewer)
    other = sign_in(TestClient(browser.app, follow_redirects=False), keys.admin)
    with session_scope(engine) as session:
        revoke_key(session, keys.reviewer)
    assert replay(browser, cookie) == 303
    assert replay(browser, other) == 200 and sessions(engine) == 1  # another key's session holds


def test_an_expired_session_is_refused_and_cleared(browser: TestClient, keys: Keys, engine: Engine):
    cookie = sign_in(browser, keys.reviewer)
    with session_scope(engine) as session:
        session.execute(update(ReviewSessionRow).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert replay(browser, cookie) == 303
    sign_in(TestClient(browser.app, follow_redirects=False), keys.reviewer)
    assert sessions(engine) == 1  # the expired one went when the next reviewer signed in


def test_a_session_lasts_session_hours(engine: Engine, keys: Keys, tmp_path: Path):
    app = create_app(services=make_services(engine, tmp_path, session_hours=2.0))
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, keys.reviewer)
    with session_scope(engine) as session:
        row = session.scalars(select(ReviewSessionRow)).one()
        lasts = row.expires_at - row.created_at
    assert timedelta(hours=2) - timedelta(seconds=1) <= lasts <= timedelta(hours=2)


@pytest.mark.parametrize(
    "cookie",
    ["", "nodot", "e30.0000", "é.é", "eyJ0IjoieCIsImUiOjF9.deadbeef", "\x7f.\x7f", "a" * 4000 + ".b"],
)
def test_forged_or_garbled_cookies_are_no_session(browser: TestClient, cookie: str):
    assert replay(browser, cookie) == 303


def test_a_cookie_signed_with_another_secret_is_refused(browser: TestClient, keys: Keys, engine: Engine, tmp_path):
    cookie = sign_in(browser, keys.reviewer)
    other = create_app(services=make_services(engine, tmp_path, secret_key="another-secret"))
    with TestClient(other, follow_redirects=False, cookies={COOKIE: cookie}) as client:
        assert client.get("/review").status_code == 303


# --- D5: tokens compared as bytes, ids validated ----------------------------------------------------------


def test_non_ascii_csrf_tokens_are_refused_not_500(browser: TestClient, keys: Keys):
    form = browser.get("/review/login")
    assert "form expired" in is_page(browser.post("/review/login", data={"key": keys.reviewer, "csrf": "é"}), 403)
    assert csrf_of(form.text)
    sign_in(browser, keys.reviewer)
    response = browser.post("/review/units/1", data={"action": "approve", "csrf": "ééé"})
    assert "security token" in is_page(response, 403)
    is_page(browser.post("/review/logout", data={"csrf": "é"}), 403)


@pytest.mark.parametrize("unit", ["99999999999999999999", "2147483648", "0", "-1", "abc", "1.5"])
def test_unit_ids_out_of_range_or_not_numbers_are_422_pages(browser: TestClient, keys: Keys, unit: str):
    sign_in(browser, keys.reviewer)
    assert "path.unit_id" in is_page(browser.get(f"/review/units/{unit}"), 422)
    token = csrf_of(browser.get("/review").text)
    is_page(browser.post(f"/review/units/{unit}", data={"action": "approve", "csrf": token}), 422)


# --- D12: the review UI answers errors with pages ---------------------------------------------------------


def test_unknown_units_pages_and_filters_are_pages(browser: TestClient, keys: Keys):
    sign_in(browser, keys.reviewer)
    is_page(browser.get("/review/units/999999"), 404)
    token = csrf_of(browser.get("/review").text)
    is_page(browser.post("/review/units/999999", data={"action": "approve", "csrf": token}), 404)
    assert "query.lang" in is_page(browser.get("/review/insights", params={"lang": "zz"}), 422)
    is_page(browser.get("/review/nowhere"), 404)
    is_page(browser.get("/review/"), 404)  # no redirect that would echo the Host header
    assert browser.get("/v1/nowhere").headers["content-type"].startswith("application/problem+json")


def test_a_form_field_with_a_nul_is_a_422_page_naming_it(browser: TestClient, keys: Keys):
    sign_in(browser, keys.reviewer)
    token = csrf_of(browser.get("/review").text)
    response = browser.post("/review/units/1", data={"action": "edit", "text": "a\x00b", "csrf": token})
    assert "body.text: contains a NUL character" in is_page(response, 422)
