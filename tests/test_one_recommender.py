"""One factory builds the recommender over the stored catalog: the command line and the HTTP service rank a
learner identically, whether the course index was already built or each had to build it first."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.json_response import FLOAT_DECIMALS
from api.services import load_services
from api.settings import Settings
from models import make_engine
from search import index_path
from tests.api_helpers import make_keys

pytestmark = pytest.mark.slow
LEARNER = "L000001"
Ranking = list[tuple[str, float]]


def cli_ranking(home: Path) -> tuple[Ranking, str]:
    result = CliRunner().invoke(app, ["recommend", "--learner", LEARNER, "--json"], env={"KARMAYOGI_HOME": str(home)})
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)["items"]
    # The API sends scores at its stated precision (api.json_response); the CLI prints them as computed.
    return [(item["course_id"], round(item["score"], FLOAT_DECIMALS)) for item in items], result.stderr


def api_ranking(home: Path, database: Path) -> Ranking:
    """The service as `karmayogi serve` loads it (`load_services`), asked over HTTP."""
    engine = make_engine(f"sqlite:///{database}")
    keys = make_keys(engine)
    engine.dispose()
    services = load_services(Settings(home=home, service={"secret_key": "test-secret"}))  # type: ignore[arg-type]  # a dict section
    with TestClient(create_app(services=services)) as client:
        response = client.get(f"/v1/learners/{LEARNER}/recommendations", headers=keys.header("portal"))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert any(gap["evidence"] == "semantic" for item in items for gap in item["explanation"]["gaps"]), (
        "no text evidence: the index was not used"
    )
    return [(item["course_id"], round(item["score"], 6)) for item in items]


def test_the_cli_and_the_http_api_rank_a_learner_identically_with_and_without_a_built_index(
    sample_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    database = tmp_path / "karmayogi.db"
    with sqlite3.connect(str(sample_engine.url.database)) as source, sqlite3.connect(str(database)) as target:
        source.backup(target)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    # The measured default search without its multilingual part, which recommendations do not read: a quicker build.
    monkeypatch.setenv("KARMAYOGI_SEARCH_MULTILINGUAL_ENCODER", "none")
    home = tmp_path / "home"

    cli_without, said = cli_ranking(home)
    assert "building the course index" in said and index_path(home).is_file()
    cli_with, said = cli_ranking(home)
    assert "building" not in said
    api_with = api_ranking(home, database)

    fresh = tmp_path / "fresh"  # no index; the embedding cache copied over only to spare encoding it all again
    shutil.copytree(home / "cache", fresh / "cache")
    api_without = api_ranking(fresh, database)
    assert index_path(fresh).is_file()

    assert len(cli_without) == 10
    assert cli_without == cli_with == api_with == api_without
