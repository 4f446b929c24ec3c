"""Recommendations over HTTP as the portal calls them, on the sample catalog (tag evidence; the semantic matcher
is the recommender's own concern and is tested there), and the reload after a bulk ingest."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from models import get_learner, ingest_file, make_engine, session_scope
from tests.api_helpers import Keys, make_keys, make_services
from tests.conftest import write_jsonl
from tests.test_ingest import LEARNER, ROLE, V6_COURSE
from translation import catalog_glossary

LEARNER_ID = "L000001"


@pytest.fixture(scope="module")
def sample(
    sample_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Keys, Engine]]:
    """A copy of the shared sample catalog (which stays read-only), with keys, served by one app."""
    copy = tmp_path_factory.mktemp("recommend") / "karmayogi.db"
    with sqlite3.connect(str(sample_engine.url.database)) as source, sqlite3.connect(str(copy)) as target:
        source.backup(target)
    engine = make_engine(f"sqlite:///{copy}")
    keys = make_keys(engine)
    with TestClient(create_app(services=make_services(engine, copy.parent))) as client:
        client.headers.update(keys.header("portal"))
        yield client, keys, engine
    engine.dispose()


@pytest.fixture(scope="module")
def client(sample: tuple[TestClient, Keys, Engine]) -> TestClient:
    return sample[0]


def test_a_learner_gets_k_courses_each_with_a_reason_naming_a_gap(client: TestClient, sample):
    engine = sample[2]
    with session_scope(engine) as session:
        learner = get_learner(session, LEARNER_ID)
        hindi = catalog_glossary(session).competency_names("hi")  # the learner reads Hindi first
    response = client.get(f"/v1/learners/{LEARNER_ID}/recommendations", params={"k": 5})

    assert response.status_code == 200
    body = response.json()
    assert body["learner_id"] == LEARNER_ID and body["mode"] == "gaps"
    assert len(body["items"]) == 5
    gap_names = {hindi.get(gap["competency_id"], gap["name"]) for gap in body["gaps"]}
    for item in body["items"]:
        assert item["course_id"] not in {*learner.completed, *learner.enrolled}
        assert item["explanation"]["gaps"], item
        assert any(name in item["reason"] for name in gap_names), item["reason"]
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)


def test_lang_puts_the_language_the_learner_reads_first(client: TestClient):
    hindi = client.get(f"/v1/learners/{LEARNER_ID}/recommendations", params={"k": 10, "lang": "hi"}).json()
    for item in hindi["items"]:
        if "hi" in item["languages"]:
            assert item["explanation"]["language"] == "hi"
    assert client.get(f"/v1/learners/{LEARNER_ID}/recommendations", params={"lang": "xx"}).status_code == 422


def test_an_inline_profile_is_recommended_for_and_its_levels_close_gaps(client: TestClient):
    gaps = client.get(f"/v1/learners/{LEARNER_ID}/gaps").json()
    role = gaps["roles"][0]
    first = gaps["gaps"][0]

    without = client.post("/v1/recommendations", json={"roles": [role], "k": 3}).json()
    held = {first["competency_id"]: first["required_level"]}
    with_level = client.post("/v1/recommendations", json={"roles": [role], "levels": held, "k": 3}).json()

    assert len(without["items"]) == 3 and without["learner_id"] == "inline-profile"
    assert first["competency_id"] in {g["competency_id"] for g in without["gaps"]}
    assert first["competency_id"] not in {g["competency_id"] for g in with_level["gaps"]}


def test_a_bad_inline_profile_names_the_field(client: TestClient):
    unknown_role = client.post("/v1/recommendations", json={"roles": ["ROLE-NOPE"]})
    assert unknown_role.status_code == 422 and unknown_role.json()["errors"][0]["field"] == "body.roles"

    bad_level = client.post("/v1/recommendations", json={"roles": ["ROLE-DOPT-SO"], "levels": {"XXX-01": 2}})
    assert bad_level.status_code == 422 and bad_level.json()["errors"][0]["field"] == "body.levels.XXX-01"

    out_of_range = client.post("/v1/recommendations", json={"roles": ["ROLE-DOPT-SO"], "levels": {"FUN-02-01": 9}})
    assert out_of_range.status_code == 422
    assert out_of_range.json()["errors"][0]["field"] == "body.levels.FUN-02-01"


def test_gaps_come_highest_priority_first_and_the_path_adds_up(client: TestClient):
    gaps = client.get(f"/v1/learners/{LEARNER_ID}/gaps").json()["gaps"]
    assert [g["priority"] for g in gaps] == sorted((g["priority"] for g in gaps), reverse=True)
    assert all(g["required_level"] > g["current_level"] for g in gaps)

    path = client.get(f"/v1/learners/{LEARNER_ID}/path").json()
    assert path["steps"]
    known = [step["duration_seconds"] for step in path["steps"] if step["duration_seconds"] is not None]
    assert path["total_duration_seconds"] == sum(known)
    assert [s["stage"] for s in path["steps"]] == sorted(s["stage"] for s in path["steps"])


def test_unknown_learners_are_404(client: TestClient):
    for route in ("recommendations", "gaps", "path"):
        response = client.get(f"/v1/learners/L999999/{route}")
        assert response.status_code == 404
        assert response.json()["errors"][0]["field"] == "path.learner_id"


def test_a_bulk_ingest_reloads_the_recommender_and_the_new_course_is_recommended(
    small_kcm_engine: Engine, tmp_path: Path
):
    ingest_file(small_kcm_engine, "roles", write_jsonl(tmp_path / "roles.jsonl", [ROLE]))
    ingest_file(small_kcm_engine, "courses", write_jsonl(tmp_path / "courses.jsonl", [V6_COURSE]))
    learner = LEARNER | {"competencies": [], "completed": []}
    ingest_file(small_kcm_engine, "learners", write_jsonl(tmp_path / "learners.jsonl", [learner]))
    keys = make_keys(small_kcm_engine)
    with TestClient(create_app(services=make_services(small_kcm_engine, tmp_path))) as client:
        before = client.get("/v1/learners/L000001/recommendations", headers=keys.header("portal")).json()
        assert [i["course_id"] for i in before["items"]] == [V6_COURSE["identifier"]]
        new = {
            "identifier": "do_drafting_3",
            "name": "Drafting letters unaided",
            "competencies": [{"competency_id": "FUN-02-01", "level": 1}],
        }
        response = client.post(
            "/v1/courses/bulk",
            content=write_jsonl(tmp_path / "new.jsonl", [new]).read_bytes(),
            headers=keys.header("content") | {"Content-Type": "application/x-ndjson"},
        )
        assert response.json()["created"] == 1

        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        after = client.get("/v1/learners/L000001/recommendations", headers=keys.header("portal")).json()

    assert "do_drafting_3" in [i["course_id"] for i in after["items"]]
