"""Access control: every /v1 route refuses a request without a key (401) and with the wrong scope (403)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from models import ingest_file, make_engine, upgrade
from tests.api_helpers import Keys, make_keys, make_services
from tests.conftest import FIXTURES

# Who may call each route. A new /v1 route must be added here, or the completeness test fails.
READERS = {"portal", "admin"}
REVIEWERS = {"reviewer", "admin"}
ACCESS: dict[tuple[str, str], set[str]] = {
    ("GET", "/v1/courses"): READERS,
    ("GET", "/v1/courses/{identifier}"): READERS,
    ("GET", "/v1/competencies"): READERS,
    ("GET", "/v1/competencies/{competency_id}"): READERS,
    ("GET", "/v1/roles"): READERS,
    ("GET", "/v1/roles/{role_id}"): READERS,
    ("GET", "/v1/learners/{learner_id}/recommendations"): READERS,
    ("POST", "/v1/recommendations"): READERS,
    ("GET", "/v1/learners/{learner_id}/gaps"): READERS,
    ("GET", "/v1/learners/{learner_id}/path"): READERS,
    ("GET", "/v1/search"): READERS,
    ("GET", "/v1/courses/{identifier}/similar"): READERS,
    ("POST", "/v1/courses/bulk"): {"content", "admin"},
    ("DELETE", "/v1/courses/{identifier}"): {"content", "admin"},
    ("GET", "/v1/keys"): {"admin"},
    ("POST", "/v1/keys"): {"admin"},
    ("DELETE", "/v1/keys/{key_id}"): {"admin"},
    **{
        route: REVIEWERS
        for route in [
            ("POST", "/v1/translation/jobs"),
            ("GET", "/v1/translation/jobs"),
            ("GET", "/v1/translation/jobs/{job_id}"),
            ("GET", "/v1/translation/units"),
            ("GET", "/v1/translation/units/{unit_id}"),
            ("POST", "/v1/translation/units/{unit_id}/edit"),
            ("POST", "/v1/translation/units/{unit_id}/approve"),
            ("POST", "/v1/translation/units/{unit_id}/reject"),
            ("POST", "/v1/translation/units/bulk-approve"),
            ("GET", "/v1/translation/export"),
            ("GET", "/v1/translation/quality"),
            ("POST", "/v1/translation/units/bulk"),
            ("GET", "/v1/translation/batches/{batch_id}"),
            ("POST", "/v1/translation/batches/{batch_id}/undo"),
            ("GET", "/v1/insights/coverage"),
            ("GET", "/v1/insights/coverage.png"),
            ("GET", "/v1/insights/translate-priorities"),
            ("GET", "/v1/insights/readiness"),
        ]
    },
}
HOLDERS = ("portal", "content", "reviewer", "admin")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    """One small database for the module: the requests here refuse, or fail validation, before changing it."""
    home = tmp_path_factory.mktemp("auth")
    engine = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
    upgrade(engine)
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    yield engine, home
    engine.dispose()


@pytest.fixture(scope="module")
def keys(database: tuple[Engine, Path]) -> Keys:
    return make_keys(database[0])


@pytest.fixture(scope="module")
def client(database: tuple[Engine, Path], keys: Keys) -> Iterator[TestClient]:
    with TestClient(create_app(services=make_services(*database))) as test_client:
        yield test_client


def _concrete(path: str) -> str:
    return path.replace("{unit_id}", "1").replace("{", "").replace("}", "")


def test_the_access_table_covers_every_v1_route(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, ops in paths.items() if path.startswith("/v1") for method in ops}
    assert routes == set(ACCESS)


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_without_a_key_every_v1_route_answers_401(client: TestClient, method: str, path: str):
    response = client.request(method, _concrete(path))

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_keys_without_the_scope_are_refused_with_403(client: TestClient, keys: Keys, method: str, path: str):
    for holder in HOLDERS:
        response = client.request(method, _concrete(path), headers=keys.header(holder))
        if holder in ACCESS[(method, path)]:
            assert response.status_code not in (401, 403), (holder, response.text)
        else:
            assert response.status_code == 403, holder
            assert ACCESS_SCOPE_WORDING in response.json()["detail"]


ACCESS_SCOPE_WORDING = "this route needs the"


def test_a_made_up_or_tampered_key_is_401(client: TestClient, keys: Keys):
    tampered = keys.admin[:-4] + ("AAAA" if not keys.admin.endswith("AAAA") else "BBBB")
    for presented in ("nonsense", "kyk_000000000000_x", tampered):
        assert client.get("/v1/courses", headers={"Authorization": f"Bearer {presented}"}).status_code == 401
    assert client.get("/v1/courses", headers={"X-API-Key": keys.portal}).status_code == 200


def test_an_admin_creates_and_revokes_keys_and_a_revoked_key_stops_working(client: TestClient, keys: Keys):
    body = {"name": "state portal", "scopes": ["recommend:read"]}
    created = client.post("/v1/keys", json=body, headers=keys.header("admin"))
    assert created.status_code == 201
    new_key = created.json()["key"]
    assert client.get("/v1/courses", headers={"Authorization": f"Bearer {new_key}"}).status_code == 200

    listed = client.get("/v1/keys", headers=keys.header("admin")).json()
    assert "state portal" in [k["name"] for k in listed]
    assert new_key not in json.dumps(listed)

    revoked = client.delete(f"/v1/keys/{created.json()['id']}", headers=keys.header("admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/v1/courses", headers={"Authorization": f"Bearer {new_key}"}).status_code == 401


def test_unknown_scopes_are_refused_naming_the_field(client: TestClient, keys: Keys):
    response = client.post("/v1/keys", json={"name": "x", "scopes": ["root"]}, headers=keys.header("admin"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.scopes.0"


def test_keys_are_stored_hashed_never_in_plain_text(database: tuple[Engine, Path], keys: Keys):
    with database[0].connect() as connection:
        stored = json.dumps([list(map(str, row)) for row in connection.execute(text("SELECT * FROM api_keys"))])
    for key in (keys.portal, keys.content, keys.reviewer, keys.admin):
        assert key not in stored
        assert key.split("_", 2)[2] not in stored


def test_the_cli_creates_lists_and_revokes_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KARMAYOGI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def karmayogi(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args))
        return result.exit_code, result.stdout

    assert karmayogi("db", "upgrade")[0] == 0
    code, out = karmayogi("keys", "create", "portal", "--scope", "recommend:read", "--json")
    assert code == 0
    created = json.loads(out)
    assert created["key"].startswith("kyk_") and created["scopes"] == ["recommend:read"]

    code, out = karmayogi("keys", "list", "--json")
    assert code == 0 and created["id"] in [k["id"] for k in json.loads(out)]
    assert created["key"] not in out

    assert karmayogi("keys", "revoke", created["id"])[0] == 0
    assert created["id"] not in [k["id"] for k in json.loads(karmayogi("keys", "list", "--json")[1])]
    assert created["id"] in [k["id"] for k in json.loads(karmayogi("keys", "list", "--all", "--json")[1])]

    assert karmayogi("keys", "create", "x", "--scope", "root")[0] == 2
    assert karmayogi("keys", "revoke", "ffffffffffff")[0] == 3
