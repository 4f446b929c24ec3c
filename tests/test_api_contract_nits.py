"""Contract nits of issue 14 (D12, D11): body fields named as sent, strict JSON numbers, translation targets,
malformed JSON located, no Host header echoed into a redirect, and the CLI against a database it cannot reach."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from models import ingest_file
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services, translated_catalog
from tests.conftest import Run, write_jsonl
from tests.test_ingest import ROLE

PROBLEM = "application/problem+json"


@pytest.fixture
def keys(small_kcm_engine: Engine, tmp_path: Path) -> Keys:
    translated_catalog(small_kcm_engine, tmp_path)
    ingest_file(small_kcm_engine, "roles", write_jsonl(tmp_path / "roles.jsonl", [ROLE]))
    return make_keys(small_kcm_engine)


@pytest.fixture
def client(small_kcm_engine: Engine, keys: Keys, tmp_path: Path) -> Iterator[TestClient]:
    services = make_services(small_kcm_engine, tmp_path, mt=DictionaryEngine())
    with TestClient(create_app(services=services), raise_server_exceptions=False, follow_redirects=False) as client:
        client.headers.update(keys.header("admin"))
        yield client


def errors_of(response, status: int = 422) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return {error["field"]: error["reason"] for error in response.json()["errors"]}


def test_a_job_over_an_unknown_course_names_the_body_field_and_logs_no_exception(
    client: TestClient, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING):
        body = {"languages": ["hi"], "course_ids": ["do_clean", "do_nope"]}
        found = errors_of(client.post("/v1/translation/jobs", json=body), 404)
    assert found == {"body.course_ids.1": "unknown course 'do_nope'"}
    assert not [record for record in caplog.records if record.exc_info]


def test_english_is_no_translation_target(client: TestClient):
    assert "body.languages.0" in errors_of(client.post("/v1/translation/jobs", json={"languages": ["en"]}))
    assert "en" not in client.get("/openapi.json").json()["components"]["schemas"]["TargetLanguageCode"]["enum"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"roles": ["ROLE-DOPT-SO"], "k": "5"}, "body.k"),
        ({"roles": ["ROLE-DOPT-SO"], "k": True}, "body.k"),
        ({"roles": ["ROLE-DOPT-SO"], "k": 5.0}, "body.k"),
        ({"roles": ["ROLE-DOPT-SO"], "levels": {"FUN-02-01": "2"}}, "body.levels.FUN-02-01"),
    ],
)
def test_json_numbers_are_not_converted(client: TestClient, body: dict, field: str):
    assert field in errors_of(client.post("/v1/recommendations", json=body))


def test_a_json_number_and_a_query_string_number_are_accepted(client: TestClient):
    assert client.post("/v1/recommendations", json={"roles": ["ROLE-DOPT-SO"], "k": 5}).status_code == 200
    assert client.get("/v1/courses", params={"limit": "5"}).status_code == 200
    bulk = client.post("/v1/translation/units/bulk-approve", json={"language": "hi", "limit": "5"})
    assert "body.limit" in errors_of(bulk)


def test_malformed_json_is_named_body_with_its_line_and_column(client: TestClient):
    response = client.post(
        "/v1/recommendations", content=b'{"roles": ["R"],\n  "k": }', headers={"Content-Type": "application/json"}
    )
    found = errors_of(response)
    assert list(found) == ["body"]
    assert found["body"] == "malformed JSON: Expecting value at line 2, column 8"


def test_no_redirect_echoes_the_host_header(client: TestClient):
    response = client.get("/v1/courses/", headers={"Host": "evil.example"})
    assert response.status_code == 404 and "location" not in response.headers
    assert "evil.example" not in response.text


def test_the_command_line_against_an_unreachable_database_exits_4_in_one_line(
    karmayogi: Run, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/test")
    for command in (("stats",), ("db", "upgrade"), ("keys", "list")):
        result = karmayogi(*command)
        assert result.exit_code == 4, result.output
        (line,) = result.output.strip().splitlines()
        assert line.startswith("error: cannot use the database postgresql+psycopg://postgres:***@127.0.0.1:1/test: ")
        assert "refused" in line.lower() and "s3cret-pw" not in result.output


def test_the_command_line_against_an_unopenable_sqlite_file_exits_4(
    karmayogi: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    (tmp_path / "folder.db").mkdir()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'folder.db'}")
    result = karmayogi("stats")
    assert result.exit_code == 4, result.output
    assert "cannot use the database sqlite:///" in result.output and "unable to open database file" in result.output
