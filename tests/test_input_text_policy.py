"""The input-text policy (issue 14, D2): a NUL character or a lone surrogate anywhere in what the service, the
review UI or the command line is given is invalid input naming the field (422 / exit 2), the same on SQLite and
PostgreSQL (which cannot store a NUL at all); and no log line carries a raw control character."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.log_policy import EscapeControlCharacters, log_config
from models import IngestRejectedError, ingest_file, session_scope
from models.text_policy import check_text, printable, text_problem, unsafe_texts
from tests.api_helpers import Keys, make_keys, make_services, translated_catalog
from tests.conftest import FIXTURES, Run, write_jsonl

PROBLEM = "application/problem+json"
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f\ud800-\udfff]")


@pytest.fixture
def catalog(engine: Engine, tmp_path: Path) -> Engine:
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    translated_catalog(engine, tmp_path)
    return engine


@pytest.fixture
def keys(catalog: Engine) -> Keys:
    return make_keys(catalog)


@pytest.fixture
def client(catalog: Engine, keys: Keys, tmp_path: Path) -> Iterator[TestClient]:
    services = make_services(catalog, tmp_path)
    with TestClient(create_app(services=services), raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


def refused_field(response, field: str, status: int = 422) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    fields = [error["field"] for error in response.json()["errors"]]
    assert field in fields, fields
    return response.json()["detail"]


def test_the_policy_names_nul_and_lone_surrogates_and_nothing_else():
    assert text_problem("ordinary text, हिन्दी, emoji 😀, tab\tand newline\n") is None
    assert "NUL" in (text_problem("a\x00b") or "") and "position 1" in (text_problem("a\x00b") or "")
    assert "U+D800" in (text_problem("a\ud800") or "")
    assert "U+DCFF" in (text_problem("\udcff") or "")  # what Python makes of a byte of argv that is not UTF-8
    with pytest.raises(ValueError, match="name: contains a NUL"):
        check_text("x\x00", "name")
    found = dict(unsafe_texts({"a": ["ok", {"b": "\x00"}], "c\ud800": 1}, ("body",)))
    assert set(found) == {("body", "a", 1, "b"), ("body", "c\\ud800")}


def test_a_deeply_nested_value_is_walked_without_recursion():
    value: object = "\x00"
    for _ in range(100_000):
        value = [value]
    assert len(list(unsafe_texts(value))) == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("get", "/v1/courses/%00", {}, "path.identifier"),
        ("get", "/v1/learners/%00/recommendations", {}, "path.learner_id"),
        ("get", "/v1/roles?department=%00", {}, "query.department"),
        ("get", "/v1/competencies?q=a%00", {}, "query.q"),
        ("post", "/v1/keys", {"json": {"name": "a\u0000b", "scopes": ["admin"]}}, "body.name"),
        (
            "post",
            "/v1/keys",
            {"content": b'{"name": "a\\ud800b", "scopes": ["admin"]}', "headers": {"Content-Type": "application/json"}},
            "body.name",
        ),
        ("post", "/v1/recommendations", {"json": {"roles": ["R"], "levels": {"FUN\u0000": 2}}}, "body.levels.FUN\\x00"),
    ],
)
def test_nul_and_lone_surrogates_are_422_naming_the_field(
    client: TestClient, keys: Keys, method: str, path: str, *, kwargs: dict, field: str
):
    kwargs = dict(kwargs)
    headers = keys.header("admin") | kwargs.pop("headers", {})
    refused_field(getattr(client, method)(path, headers=headers, **kwargs), field)


def test_a_unit_edit_with_a_nul_is_422_and_changes_nothing(client: TestClient, keys: Keys, catalog: Engine):
    headers = keys.header("reviewer")
    unit = client.get("/v1/translation/units", params={"language": "hi"}, headers=headers).json()["items"][0]
    response = client.post(f"/v1/translation/units/{unit['id']}/edit", json={"text": "a\u0000b"}, headers=headers)
    refused_field(response, "body.text")
    assert client.get(f"/v1/translation/units/{unit['id']}", headers=headers).json()["text"] == unit["text"]


def test_bulk_ingest_with_a_nul_names_the_line_and_field(client: TestClient, keys: Keys):
    body = json.dumps({"identifier": "do_ok", "name": "Fine"}) + "\n"
    body += json.dumps({"identifier": "do_nul", "name": "a\u0000b"}) + "\n"
    headers = keys.header("content") | {"Content-Type": "application/x-ndjson"}
    response = client.post("/v1/courses/bulk", content=body.encode(), headers=headers)
    assert response.status_code == 422, response.text
    assert [(e["line"], e["field"], e["record_id"]) for e in response.json()["errors"]] == [(2, "name", "do_nul")]
    csv_body = b"identifier,name\ndo_csv,a\x00b\n"
    response = client.post("/v1/courses/bulk", content=csv_body, headers=headers | {"Content-Type": "text/csv"})
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(2, "name")]


def test_the_review_sign_in_refuses_a_nul_as_a_page(client: TestClient):
    form = client.get("/review/login")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None, "the sign-in form carries its CSRF token"
    token = found.group(1)
    response = client.post("/review/login", data={"key": "kyk_\x00_x", "csrf": token})
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert "body.key" in response.text


def test_the_command_line_refuses_a_nul_in_a_file_naming_file_line_and_field(
    karmayogi: Run, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert karmayogi("db", "upgrade").exit_code == 0
    courses = write_jsonl(tmp_path / "courses.jsonl", [{"identifier": "do_1", "name": "a\u0000b"}])
    result = karmayogi("ingest", "courses", str(courses))
    assert result.exit_code == 2, result.output
    assert "courses.jsonl:1: name: contains a NUL character" in result.output
    assert "Traceback" not in result.output


def test_the_command_line_refuses_an_argument_that_is_not_utf8(karmayogi: Run):
    assert karmayogi("db", "upgrade").exit_code == 0
    result = karmayogi("courses", "show", "do_\udcff")  # how Python hands on the byte 0xff of a command line
    assert result.exit_code == 2, result.output
    assert "identifier: contains a lone surrogate U+DCFF" in result.output


def test_ingest_refuses_nul_the_same_on_both_databases(engine: Engine, tmp_path: Path):
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    role = {"id": "R1", "designation": "Officer", "department": "D\u0000", "competencies": []}
    with pytest.raises(IngestRejectedError) as rejected:
        ingest_file(engine, "roles", write_jsonl(tmp_path / "roles.jsonl", [role]))
    assert [str(p).split(": contains")[0] for p in rejected.value.problems] == ["roles.jsonl:1: department"]
    learner = '{"id": "L1", "interests": ["ok", "\\ud83d"]}'  # half of a surrogate pair, escaped in JSON
    with pytest.raises(IngestRejectedError) as rejected:
        ingest_file(engine, "learners", write_jsonl(tmp_path / "learners.jsonl", [learner]))
    assert rejected.value.problems[0].field == "interests[1]"
    with session_scope(engine) as session:
        assert session.execute(text("SELECT count(*) FROM roles")).scalar() == 0


# --- logs -----------------------------------------------------------------------------------------------


def formatted(record_logger: str, message: str, *args: object, exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(EscapeControlCharacters())
    logger = logging.getLogger(record_logger)
    logger.addHandler(handler)
    try:
        logger.error(message, *args, exc_info=(type(exc), exc, exc.__traceback__) if exc else None)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_logged_messages_arguments_and_tracebacks_carry_no_control_characters():
    try:
        raise ValueError("bad \x00 value \x1b[31m\ud800")
    except ValueError as error:
        caught = error
    text = formatted("karmayogi.test", "unhandled on GET %s\nforged line", "/v1/courses/\x00\r\n", exc=caught)
    assert not CONTROL.search(text), repr(text)
    first, *trace = text.rstrip("\n").split("\n")
    assert first == "ERROR unhandled on GET /v1/courses/\\x00\\r\\n\\nforged line"
    assert trace[0] == "Traceback (most recent call last):"  # frames keep their lines
    assert trace[-1] == "ValueError: bad \\x00 value \\x1b[31m\\ud800"
    assert printable("plain") == "plain"


def test_the_access_log_keeps_its_arguments(capsys: pytest.CaptureFixture[str]):
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "GET", "/a\x00", "1.1", 404),
        None,
    )
    EscapeControlCharacters().filter(record)
    assert AccessFormatter("%(message)s", use_colors=False).format(record) == '1.2.3.4:5 - "GET /a\\x00 HTTP/1.1" 404'


def test_serve_logs_the_service_through_the_filter(capsys: pytest.CaptureFixture[str]):
    previous = logging.getLogger("karmayogi").handlers[:], logging.getLogger("karmayogi").propagate
    logging.config.dictConfig(log_config())
    try:
        logging.getLogger("karmayogi.api").error("error x: unhandled on POST %s", "/review/\x00")
        logged = capsys.readouterr().err
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
        logging.getLogger("karmayogi").handlers[:] = previous[0]
        logging.getLogger("karmayogi").propagate = previous[1]
    assert "unhandled on POST /review/\\x00" in logged and "\x00" not in logged


def test_a_500_logged_by_the_service_is_escaped(client: TestClient, keys: Keys, monkeypatch: pytest.MonkeyPatch):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    from api.log_policy import install

    install()
    import api.routers.catalog as catalog_routes

    def broken(session: object, identifier: str) -> None:
        raise RuntimeError(f"cannot read {identifier}\x1b[2J")

    monkeypatch.setattr(catalog_routes, "get_course", broken)
    try:
        response = client.get("/v1/courses/do_%1B", headers=keys.header("portal"))
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.status_code == 500
    logged = stream.getvalue()
    assert "cannot read do_\\x1b\\x1b[2J" in logged and not CONTROL.search(logged)
