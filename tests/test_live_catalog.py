"""A live service: with two real uvicorn workers on SQLite and on PostgreSQL, a course ingested over HTTP, a
Hindi title approved by a reviewer and a course retired reach every worker within seconds, without a restart,
and `/readyz` stays 200 throughout."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from models import ingest_file, latest_sequence, session_scope
from models.sample_data import COURSES_FILE
from search import RetrievalConfig, build_course_index
from tests.api_helpers import Keys, make_keys
from tests.conftest import FIXTURES, write_jsonl
from tests.test_ingest import PLAIN_COURSE, V6_COURSE

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
SEARCH = RetrievalConfig(multilingual_encoder=None)  # what KARMAYOGI_SEARCH_MULTILINGUAL_ENCODER=none serves
ROLE = "ROLE-DOPT-SO"
BEEKEEPING = {
    "identifier": "do_live_beekeeping",
    "name": "Beekeeping and Honey Production for Self-Help Groups",
    "description": "Apiculture for rural livelihoods: hives, colonies, honey extraction and marketing.",
    "languages": ["en"],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[tuple[str, Keys, Engine]]:
    """`karmayogi serve --workers 2` over a catalog of 32 courses, its index already built."""
    # The small test KCM (a few competencies, so that a worker's start-up is quick), its roles, two tagged
    # courses and 30 sample courses without their tags.
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    ingest_file(engine, "roles", FIXTURES / "roles_small.jsonl")
    untagged = [
        {key: value for key, value in json.loads(line).items() if not key.startswith("competenc")}
        for line in itertools.islice(COURSES_FILE.open(encoding="utf-8"), 30)
    ]
    ingest_file(engine, "courses", write_jsonl(tmp_path / "courses.jsonl", [V6_COURSE, PLAIN_COURSE, *untagged]))
    home = tmp_path / "home"
    build_course_index(engine, home, SEARCH)
    keys = make_keys(engine)
    port = free_port()
    environment = os.environ | {
        "KARMAYOGI_HOME": str(home),
        "DATABASE_URL": database_url,
        "KARMAYOGI_SEARCH_MULTILINGUAL_ENCODER": "none",
        "KARMAYOGI_SECRET_KEY": "test-secret",
        "HF_HUB_OFFLINE": "1",
    }
    command = [str(Path(sys.executable).with_name("karmayogi")), "serve", "--workers", "2", "--port", str(port)]
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        ready = until_every_worker(
            base, lambda response: response.status_code == 200, "/readyz", timeout=180, strict=False
        )
        assert len(ready) == 2, "both workers should come up: " + (tmp_path / "serve.log").read_text()[-3000:]
        yield base, keys, engine
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def until_every_worker(
    base: str,
    done: Callable[[httpx.Response], bool],
    path: str,
    *,
    method: str = "GET",
    timeout: float = 30,
    strict: bool = True,
    **request: Any,  # passed on to httpx.request
) -> dict[str, float]:
    """Ask on fresh connections (so that the kernel spreads them over the workers) until two workers have each
    answered `done`; returns, per worker, the seconds it took. With `strict`, every answer on the way must be a
    success (a worker serving its previous state still answers 200)."""
    started = time.monotonic()
    seen: dict[str, float] = {}
    while len(seen) < 2 and time.monotonic() - started < timeout:
        try:
            response = httpx.request(method, base + path, timeout=10, **request)
        except httpx.TransportError:
            time.sleep(0.2)  # not listening yet
            continue
        worker = response.headers.get("x-karmayogi-worker", "?")
        if strict:
            assert response.status_code == 200, response.text
        if done(response) and worker not in seen:
            seen[worker] = time.monotonic() - started
        time.sleep(0.02)
    return seen


def ids(response: httpx.Response) -> list[str]:
    return [item["course_id"] for item in response.json()["items"]]


def test_an_ingest_an_approval_and_a_retirement_reach_every_worker(served):
    base, keys, engine = served
    portal, content, reviewer = keys.header("portal"), keys.header("content"), keys.header("reviewer")
    query = {"q": "beekeeping honey production", "k": 3}

    # A new course, over HTTP: searchable on both workers.
    ingested = httpx.post(
        f"{base}/v1/courses/bulk",
        content=json.dumps(BEEKEEPING) + "\n",
        headers=content | {"Content-Type": "application/x-ndjson"},
        timeout=30,
    )
    assert ingested.status_code == 200 and ingested.json()["created"] == 1
    found = until_every_worker(
        base, lambda r: ids(r)[:1] == [BEEKEEPING["identifier"]], "/v1/search", params=query, headers=portal
    )
    assert len(found) == 2, f"the new course reached {len(found)} worker(s)"

    # A reviewer approves the Hindi title of a recommended English course: both workers rank it as available
    # in Hindi (an approved translation) for a Hindi reader.
    profile = {"roles": [ROLE], "preferred_languages": ["hi"], "k": 10}
    first = httpx.post(f"{base}/v1/recommendations", json=profile, headers=portal, timeout=30).json()
    course = next(item["course_id"] for item in first["items"] if item["explanation"]["language"] is None)
    job = httpx.post(
        f"{base}/v1/translation/jobs",
        json={"languages": ["hi"], "fields": ["name"], "course_ids": [course]},
        headers=reviewer,
        timeout=30,
    )
    assert job.status_code == 202, job.text
    unit = wait_for_unit(base, course, reviewer)
    httpx.post(f"{base}/v1/translation/units/{unit}/edit", json={"text": "हिंदी शीर्षक"}, headers=reviewer, timeout=30)
    # The title stands for any reviewed text: a QA flag it may raise on this course is overridden.
    override = {"override_reason": "a placeholder title for the test"}
    approved = httpx.post(f"{base}/v1/translation/units/{unit}/approve", json=override, headers=reviewer, timeout=30)
    assert approved.status_code == 200, approved.text

    def translated(response: httpx.Response) -> bool:
        item = next((i for i in response.json()["items"] if i["course_id"] == course), None)
        return item is not None and item["explanation"]["language_source"] == "translated"

    reached = until_every_worker(base, translated, "/v1/recommendations", method="POST", json=profile, headers=portal)
    assert len(reached) == 2, f"the approval reached {len(reached)} worker(s)"

    # Retiring the new course: gone from search on both workers; its record stays, marked retired.
    assert httpx.delete(f"{base}/v1/courses/{BEEKEEPING['identifier']}", headers=content).status_code == 204
    gone = until_every_worker(
        base, lambda r: BEEKEEPING["identifier"] not in ids(r), "/v1/search", params=query, headers=portal
    )
    assert len(gone) == 2, f"the retirement reached {len(gone)} worker(s)"
    record = httpx.get(f"{base}/v1/courses/{BEEKEEPING['identifier']}", headers=portal).json()
    assert record["status"] == "retired"

    # Every worker now serves the feed's last change, and says so.
    with session_scope(engine) as session:
        last = latest_sequence(session)
    caught_up = until_every_worker(base, lambda r: r.json()["catalog"]["applied_sequence"] == last, "/readyz")
    assert len(caught_up) == 2


def wait_for_unit(base: str, course: str, reviewer: dict[str, str]) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        units = httpx.get(
            f"{base}/v1/translation/units", params={"language": "hi", "course_id": course}, headers=reviewer
        ).json()["items"]
        if units:
            return int(units[0]["id"])
        time.sleep(0.2)
    raise AssertionError("the translation job made no unit")


def test_retiring_a_course_keeps_its_record_and_ingesting_it_as_active_brings_it_back(karmayogi, tmp_path: Path):
    from tests.conftest import FIXTURES as fixtures

    assert karmayogi("db", "upgrade").exit_code == 0
    assert karmayogi("ingest", "competencies", str(fixtures / "kcm_small.json")).exit_code == 0
    file = write_jsonl(tmp_path / "c.jsonl", [V6_COURSE, PLAIN_COURSE])
    assert karmayogi("ingest", "courses", str(file)).exit_code == 0
    retired = karmayogi("courses", "retire", V6_COURSE["identifier"])
    assert retired.exit_code == 0 and "retired" in retired.output
    assert "already retired" in karmayogi("courses", "retire", V6_COURSE["identifier"]).output
    shown = json.loads(karmayogi("courses", "show", V6_COURSE["identifier"], "--json").stdout)
    assert shown["status"] == "retired"
    assert json.loads(karmayogi("stats", "--json").stdout)["courses"] == 1  # the active ones
    back = write_jsonl(tmp_path / "back.jsonl", [V6_COURSE | {"status": "Live"}])  # iGOT's word for active
    assert "1 updated" in karmayogi("ingest", "courses", str(back)).output
    assert json.loads(karmayogi("stats", "--json").stdout)["courses"] == 2
    unknown = write_jsonl(tmp_path / "draft.jsonl", [PLAIN_COURSE | {"status": "Draft"}])
    rejected = karmayogi("ingest", "courses", str(unknown))
    assert rejected.exit_code == 2 and "status" in rejected.output
