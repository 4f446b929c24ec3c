"""A request's unit of work (api/deps.py `get_session`): opened on the event loop, ended in one worker-thread
trip; what a route wrote is committed when it returns and rolled back when it fails, a read-only route may end
its transaction early (`reads_done`), and no connection is left checked out. On SQLite and PostgreSQL."""

from __future__ import annotations

import types

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep, reads_done
from models import make_engine
from models.db import session_factory


@pytest.fixture
def db(database_url: str) -> Engine:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (n INTEGER)"))
    return engine


def _app(engine: Engine) -> FastAPI:
    app = FastAPI()
    app.state.services = types.SimpleNamespace(sessions=session_factory(engine))

    @app.post("/written")
    def written(session: SessionDep) -> dict[str, str]:
        session.execute(text("INSERT INTO notes VALUES (1)"))
        return {}

    @app.post("/written-then-refused")
    async def written_then_refused(session: SessionDep) -> dict[str, str]:
        def work() -> dict[str, str]:
            session.execute(text("INSERT INTO notes VALUES (2)"))
            raise HTTPException(409, "refused after writing")

        return await run_in_threadpool(work)

    @app.post("/written-then-broken")
    def written_then_broken(session: SessionDep) -> dict[str, str]:
        session.execute(text("INSERT INTO notes VALUES (3)"))
        raise RuntimeError("a bug after writing")

    @app.get("/read")
    async def read(session: SessionDep) -> dict[str, int]:
        def work() -> dict[str, int]:
            count = session.execute(text("SELECT count(*) FROM notes")).scalar_one()
            reads_done(session)
            return {"count": count}

        return await run_in_threadpool(work)

    @app.get("/read-then-broken")
    async def read_then_broken(session: SessionDep) -> dict[str, int]:
        def work() -> dict[str, int]:
            session.execute(text("SELECT 1"))
            reads_done(session)
            raise RuntimeError("a bug after reading")

        return await run_in_threadpool(work)

    return app


def test_a_request_commits_what_it_wrote_rolls_back_on_failure_and_returns_its_connection(db: Engine) -> None:
    client = TestClient(_app(db), raise_server_exceptions=False)
    assert client.post("/written").status_code == 200
    assert client.post("/written-then-refused").status_code == 409
    assert client.post("/written-then-broken").status_code == 500
    assert client.get("/read-then-broken").status_code == 500
    assert client.get("/read").json() == {"count": 1}  # only the write of the route that succeeded
    with db.connect() as connection:
        assert connection.execute(text("SELECT n FROM notes")).scalars().all() == [1]
    assert db.pool.checkedout() == 0  # type: ignore[attr-defined]
    db.dispose()
