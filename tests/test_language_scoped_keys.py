"""Keys limited to languages (issue 15, item 7): a Hindi reviewer's key reviews Hindi and is refused Tamil with a
403 that names the language, over the API and in the review UI; listings show it only its languages; an admin key
and an unlimited key review every language; `keys create` and `POST /v1/keys` take the languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.auth import create_key
from models import session_scope
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services, translated_catalog
from translation import run_translation_job


@pytest.fixture
def setup(small_kcm_engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Keys, str]]:
    translated_catalog(small_kcm_engine, tmp_path)  # Hindi units
    run_translation_job(small_kcm_engine, ["ta"], ["name"], mt=DictionaryEngine())  # and Tamil ones
    keys = make_keys(small_kcm_engine)
    with session_scope(small_kcm_engine) as session:
        _, hindi_only = create_key(session, "hindi review team", ["translate:review"], ["hi", "mr"])
    services = make_services(small_kcm_engine, tmp_path, mt=DictionaryEngine())
    with TestClient(create_app(services=services)) as client:
        yield client, keys, hindi_only


def units(client: TestClient, key: str, **params: str) -> list[dict]:
    response = client.get("/v1/translation/units", params=params, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_hindi_key_reviews_hindi_and_is_refused_tamil_naming_the_language(setup):
    client, keys, hindi = setup
    bearer = {"Authorization": f"Bearer {hindi}"}
    tamil = units(client, keys.reviewer, language="ta")
    assert tamil, "the Tamil job made units"

    refused = client.get("/v1/translation/units", params={"language": "ta"}, headers=bearer)
    assert refused.status_code == 403 and "'ta'" in refused.json()["detail"] and "hi, mr" in refused.json()["detail"]
    for method, path, body in [
        ("GET", f"/v1/translation/units/{tamil[0]['id']}", None),
        ("POST", f"/v1/translation/units/{tamil[0]['id']}/edit", {"text": "ஏதோ"}),
        ("POST", f"/v1/translation/units/{tamil[0]['id']}/approve", {"override_reason": "x"}),
        ("POST", f"/v1/translation/units/{tamil[0]['id']}/reject", {}),
        ("POST", "/v1/translation/units/bulk-approve", {"language": "ta"}),
        ("GET", "/v1/translation/export?language=ta", None),
        ("POST", "/v1/translation/jobs", {"languages": ["hi", "ta"], "fields": ["name"]}),
    ]:
        response = client.request(method, path, json=body, headers=bearer)
        assert response.status_code == 403, (method, path, response.status_code, response.text)
        assert "'ta'" in response.json()["detail"]
    assert units(client, keys.reviewer, language="ta")[0]["status"] == "machine_translated"  # nothing changed

    # Its own language works, and a listing without a language shows only its languages.
    hindi_units = units(client, hindi, language="hi")
    assert hindi_units and {u["language"] for u in units(client, hindi)} == {"hi"}
    approved = client.post(f"/v1/translation/units/{hindi_units[0]['id']}/approve", headers=bearer, json={})
    assert approved.status_code in (200, 409), approved.text  # 409: an error flag, which is not a language refusal
    # An unlimited reviewer key and an admin key see every language.
    assert {u["language"] for u in units(client, keys.reviewer)} == {"hi", "ta"}
    assert {u["language"] for u in units(client, keys.admin)} == {"hi", "ta"}


def test_the_review_ui_refuses_another_language_with_a_page(setup):
    client, _keys, hindi = setup
    login = client.get("/review/login")
    csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/review/login", data={"key": hindi, "csrf": csrf}, follow_redirects=True).status_code == 200
    page = client.get("/review?language=ta")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "&#39;ta&#39;" in page.text or "'ta'" in page.text
    listed = client.get("/review?status=")
    assert listed.status_code == 200 and 'lang="ta"' not in listed.text


def test_keys_are_created_with_languages_over_http_and_on_the_command_line(setup, karmayogi):
    client, keys, _ = setup
    created = client.post(
        "/v1/keys",
        json={"name": "marathi team", "scopes": ["translate:review"], "languages": ["mr"]},
        headers=keys.header("admin"),
    )
    assert created.status_code == 201 and created.json()["languages"] == ["mr"]
    refused = client.post(
        "/v1/keys",
        json={"name": "x", "scopes": ["translate:review"], "languages": ["en"]},
        headers=keys.header("admin"),
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"].startswith("body.languages")

    assert karmayogi("db", "upgrade").exit_code == 0
    made = karmayogi("keys", "create", "tamil team", "--scope", "translate:review", "--languages", "ta")
    assert made.exit_code == 0, made.output
    listed = karmayogi("keys", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert '"ta"' in listed.output
