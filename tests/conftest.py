"""Shared fixtures: real databases (a SQLite file and a PostgreSQL schema) and the sample catalog."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner, Result

from models import ingest_file, make_engine, upgrade
from models.sample_data import SAMPLE_FILES

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FIXTURES = Path(__file__).with_name("fixtures")
Run = Callable[..., Result]
POSTGRES_URL = os.environ.get("KARMAYOGI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'karmayogi.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the `test` database, dropped afterwards. PostgreSQL runs on every machine here:
    a missing server is a failure, not a skip."""
    schema = f"kt_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    db = make_engine(database_url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    db = make_engine(sqlite_url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def small_kcm_engine(sqlite_engine: Engine) -> Engine:
    """A SQLite database holding the small test KCM (tests/fixtures/kcm_small.json)."""
    ingest_file(sqlite_engine, "competencies", FIXTURES / "kcm_small.json")
    return sqlite_engine


@pytest.fixture(scope="session")
def sample_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The whole sample catalog from data/, loaded once per test session. Treat it as read-only."""
    db = make_engine(f"sqlite:///{tmp_path_factory.mktemp('sample') / 'karmayogi.db'}")
    upgrade(db)
    for kind, path in SAMPLE_FILES:
        ingest_file(db, kind, path)
    yield db
    db.dispose()


def write_jsonl(path: Path, records: list[Any]) -> Path:
    """One record per line; strings are written as they are (to make malformed lines)."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def karmayogi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Runs `karmayogi ARGS` against a fresh KARMAYOGI_HOME (SQLite), as a separate invocation would."""
    from api.cli import app

    monkeypatch.setenv("KARMAYOGI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return lambda *args: CliRunner().invoke(app, list(args))
