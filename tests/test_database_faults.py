"""Database faults against the real service (`karmayogi serve`, one worker), as the probe of issue 14 made them:

- PostgreSQL behind a TCP proxy (tests/fault_proxy.py) that drops the connections (the server is gone), stalls
  them (no byte gets through, no error either) and restores them;
- a SQLite database whose write lock another process holds (`BEGIN IMMEDIATE`).

Every request answers within its timeout with a 503 problem+json carrying `Retry-After` (the review UI: a page with
that status), `/readyz` says the database is down with a 503, `/metrics` keeps answering 200, nothing is a 500 and
nothing hangs; when the database is back, the service answers 200 again within a second, by itself.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from models import ingest_file, make_engine, upgrade
from models.sample_data import COMPETENCIES_FILE, COURSES_FILE, ROLES_FILE
from tests.api_helpers import Keys, make_keys
from tests.fault_proxy import FaultProxy
from tests.served import Served, serve

PROBLEM = "application/problem+json"
# The service's limits in this module, small so that a fault shows quickly (the defaults are 5 s, 5 s and 30 s).
CONNECT_TIMEOUT = 2
STATEMENT_TIMEOUT = 2.0
BUSY_TIMEOUT = 1.0
# The longest a request may take while the database is faulty: a pooled connection's liveness check gives up
# after 2 s, then a new connection after CONNECT_TIMEOUT; the rest is slack for a loaded machine.
FAULT_ANSWER_SECONDS = 2 + CONNECT_TIMEOUT + 3
RECOVERY_SECONDS = 1.0
NEW_COURSE = {"identifier": "do_written_while_down", "name": "Written while the database was down", "languages": ["en"]}


@dataclass
class Service:
    served: Served
    keys: Keys

    def get(self, path: str, holder: str | None = "portal", timeout: float = 30) -> tuple[httpx.Response, float]:
        headers = self.keys.header(holder) if holder else {}
        started = time.monotonic()
        response = httpx.get(self.served.base + path, headers=headers, timeout=timeout)
        return response, time.monotonic() - started

    def post(self, path: str, body: object, holder: str = "admin") -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = httpx.post(self.served.base + path, json=body, headers=self.keys.header(holder), timeout=30)
        return response, time.monotonic() - started

    def ingest(self, *courses: dict[str, object]) -> tuple[httpx.Response, float]:
        body = "\n".join(json.dumps(course) for course in courses) + "\n"
        headers = self.keys.header("content") | {"Content-Type": "application/x-ndjson"}
        started = time.monotonic()
        response = httpx.post(self.served.base + "/v1/courses/bulk", content=body, headers=headers, timeout=30)
        return response, time.monotonic() - started


def load_catalog(url: str) -> Keys:
    engine = make_engine(url)
    upgrade(engine)
    for kind, path in (("competencies", COMPETENCIES_FILE), ("roles", ROLES_FILE), ("courses", COURSES_FILE)):
        ingest_file(engine, kind, path)  # type: ignore[arg-type]
    keys = make_keys(engine)
    engine.dispose()
    return keys


def settings(home: Path, **more: str) -> dict[str, str]:
    return {
        "KARMAYOGI_HOME": str(home),
        "KARMAYOGI_SEMANTIC": "false",
        "KARMAYOGI_SECRET_KEY": "database-faults-test-secret",
        "KARMAYOGI_DB_CONNECT_TIMEOUT_SECONDS": str(CONNECT_TIMEOUT),
        "KARMAYOGI_DB_STATEMENT_TIMEOUT_SECONDS": str(STATEMENT_TIMEOUT),
        "KARMAYOGI_DB_BUSY_TIMEOUT_SECONDS": str(BUSY_TIMEOUT),
        **more,
    }


def wait_ready(service: Service, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if service.get("/readyz", holder=None)[0].status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"never ready:\n{service.served.log.read_text()[-3000:]}")


def assert_unavailable(response: httpx.Response, took: float) -> None:
    print(f"  {response.request.method} {response.request.url.path}: {response.status_code} in {took:.2f} s")
    assert response.status_code == 503, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"] == "urn:karmayogi:problem:database-unavailable"
    assert int(response.headers["retry-after"]) > 0
    assert took < FAULT_ANSWER_SECONDS, f"answered after {took:.1f} s"


def recovery_seconds(service: Service) -> float:
    """How long after now `GET /v1/courses` answers 200 again (the database has just come back)."""
    back = time.monotonic()
    while time.monotonic() - back < 30:
        response, _ = service.get("/v1/courses?limit=1", timeout=10)
        if response.status_code == 200:
            print(f"  recovered {time.monotonic() - back:.3f} s after the database came back")
            return time.monotonic() - back
        assert response.status_code == 503, response.text[:500]
        time.sleep(0.05)
    raise AssertionError("the service did not recover within 30 s")


def probe_while_down(service: Service) -> None:
    """What a client, a load balancer and a scraper see while the database cannot be used."""
    assert_unavailable(*service.get("/v1/courses?limit=1"))
    assert_unavailable(*service.get("/v1/learners/L000001/recommendations?k=3"))
    assert_unavailable(*service.post("/v1/keys", {"name": "while-down", "scopes": ["recommend:read"]}))
    assert_unavailable(*service.ingest(NEW_COURSE))
    ready, took = service.get("/readyz", holder=None)
    print(f"  GET /readyz: {ready.status_code} in {took:.2f} s")
    assert ready.status_code == 503 and took < FAULT_ANSWER_SECONDS, (ready.status_code, took)
    assert ready.json()["checks"]["database"].startswith("unreachable")
    metrics, took = service.get("/metrics", holder=None)
    print(f"  GET /metrics: {metrics.status_code} in {took:.2f} s")
    assert metrics.status_code == 200 and took < FAULT_ANSWER_SECONDS, (metrics.status_code, took)
    page, took = service.get("/review/login", holder=None)
    assert page.status_code in (200, 503) and took < FAULT_ANSWER_SECONDS, (page.status_code, took)
    login = httpx.post(
        service.served.base + "/review/login", data={"key": service.keys.reviewer, "csrf": "x"}, timeout=30
    )
    assert login.status_code < 500 or login.status_code == 503, login.status_code


@pytest.fixture
def postgres_service(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Service, FaultProxy]]:
    keys = load_catalog(postgres_url)
    url = make_url(postgres_url)
    with FaultProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
        environment = settings(tmp_path / "home", DATABASE_URL=proxied)
        with serve(environment, log=tmp_path / "server.log") as served:
            service = Service(served, keys)
            wait_ready(service)
            yield service, proxy


@pytest.mark.postgres
@pytest.mark.parametrize("fault", ["drop", "stall"])
def test_postgres_lost_then_back(postgres_service: tuple[Service, FaultProxy], fault: str) -> None:
    """`drop`: the server is gone (connections reset, new ones refused); `stall`: no byte gets through and no
    error says so."""
    service, proxy = postgres_service
    assert service.get("/v1/courses?limit=1")[0].status_code == 200
    getattr(proxy, fault)()
    probe_while_down(service)
    proxy.forward()
    assert recovery_seconds(service) <= RECOVERY_SECONDS
    assert service.get("/readyz", holder=None)[0].status_code == 200
    log = service.served.log.read_text()
    assert "Traceback" not in log and " 500" not in log, log[-3000:]


def test_sqlite_write_lock_held_by_another_writer(tmp_path: Path) -> None:
    home = tmp_path / "home"
    database = home / "karmayogi.db"
    keys = load_catalog(f"sqlite:///{database}")
    with serve(settings(home), log=tmp_path / "server.log") as served:
        service = Service(served, keys)
        wait_ready(service)
        writer = sqlite3.connect(database, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            # Reads go on (WAL); a write waits for the lock as long as the busy timeout, then is a 503.
            assert service.get("/v1/courses?limit=1")[0].status_code == 200
            response, took = service.post("/v1/keys", {"name": "while-locked", "scopes": ["recommend:read"]})
            assert_unavailable(response, took)
            assert took >= BUSY_TIMEOUT * 0.9, f"gave up after {took:.2f} s, before the busy timeout"
            assert_unavailable(*service.ingest(NEW_COURSE))
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        created, _ = service.post("/v1/keys", {"name": "after-the-lock", "scopes": ["recommend:read"]})
        assert created.status_code == 201, created.text
    with sqlite3.connect(database) as check:
        assert check.execute("SELECT count(*) FROM courses WHERE identifier = 'do_written_while_down'").fetchone() == (
            0,
        )
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log and " 500" not in log, log[-3000:]
