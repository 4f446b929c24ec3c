"""What counts as the user's mistake and what is a bug: only an `InvalidInputError` (and its children) is a 422
over HTTP and exit code 2 on the command line; any other exception, such as a numpy shape error, is a 500 whose
error id is also in the log, and exit code 1 with the traceback in the log."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

import api.cli.catalog
from api.app import create_app
from api.cli import app
from models import InvalidInputError, ingest_file
from models.sample_data import SAMPLE_FILES
from recommender import ProfileError, Recommender
from search import EvaluationInputError
from tests.api_helpers import make_keys, make_services
from translation import IllegalTransitionError

SHAPE_BUG = "shapes (3,) and (4,) not aligned: 3 (dim 0) != 4 (dim 0)"


def test_the_domain_input_errors_share_one_base():
    for error in (ProfileError, EvaluationInputError, IllegalTransitionError):
        assert issubclass(error, InvalidInputError)
    assert not issubclass(ValueError, InvalidInputError)


@pytest.fixture
def client(sqlite_engine: Engine, tmp_path: Path) -> TestClient:
    for kind, path in SAMPLE_FILES:
        if kind != "learners":
            ingest_file(sqlite_engine, kind, path)
    keys = make_keys(sqlite_engine)
    test_client = TestClient(create_app(services=make_services(sqlite_engine, tmp_path)), raise_server_exceptions=False)
    test_client.headers.update(keys.header("portal"))
    return test_client


def test_a_bug_is_a_500_naming_an_error_id_that_the_log_holds_with_its_traceback(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def broken(self: Recommender, *args: object, **kwargs: object) -> None:
        raise ValueError(SHAPE_BUG)

    monkeypatch.setattr(Recommender, "recommend", broken)
    with client, caplog.at_level(logging.ERROR, logger="karmayogi.api"):
        response = client.post("/v1/recommendations", json={"roles": ["ROLE-DOPT-SO"]})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    error_id = problem["error_id"]
    assert error_id in problem["detail"] and SHAPE_BUG not in response.text
    logged = [record for record in caplog.records if error_id in record.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert SHAPE_BUG in str(logged[0].exc_info[1])


def test_invalid_input_is_a_422_that_says_what_is_wrong(client: TestClient):
    with client:
        response = client.post("/v1/recommendations", json={"roles": ["ROLE-DOPT-SO"], "levels": {"NOPE-1": 2}})
    assert response.status_code in (404, 422), response.text
    assert "error_id" not in response.json()


@pytest.fixture
def karmayogi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setenv("KARMAYOGI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return lambda *args: runner.invoke(app, list(args))


def test_a_bug_on_the_command_line_exits_1_with_an_error_id_and_the_traceback_in_the_log(
    karmayogi: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def broken(*args: object) -> None:
        raise ValueError(SHAPE_BUG)

    monkeypatch.setattr(api.cli.catalog, "catalog_stats", broken)
    result = karmayogi("stats")
    assert result.exit_code == 1
    assert "internal error (ValueError)" in result.stderr and "Traceback" not in result.output
    error_id = result.stderr.split("error id ")[1].split(",")[0]
    log = (tmp_path / "home" / "logs" / "errors.log").read_text(encoding="utf-8")
    assert f"--- error {error_id}" in log and SHAPE_BUG in log and "Traceback" in log


def test_invalid_input_on_the_command_line_exits_2(karmayogi: Callable[..., Result], tmp_path: Path):
    # On an empty catalog too (which once crashed in numpy, and was reported as invalid input).
    result = karmayogi("recommend", "--role", "ROLE-X", "--level", "not-a-level", "--no-semantic")
    assert result.exit_code == 2, result.output
    assert "expected COMPETENCY_ID=LEVEL" in result.stderr
    assert not (tmp_path / "home" / "logs" / "errors.log").exists()


def test_a_usage_error_raised_inside_a_command_stays_a_usage_error(
    karmayogi: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
):
    # typer vendors click: its BadParameter is not click's, and must not be reported as a fault of ours.
    monkeypatch.delenv("KARMAYOGI_MT_MODEL", raising=False)
    result = karmayogi("translate", "--langs", "hi", "--engine", "ray")
    assert result.exit_code == 2, result.output
    assert "KARMAYOGI_MT_MODEL" in " ".join(result.output.split()) and "internal error" not in result.output
