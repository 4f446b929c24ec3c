"""The catalog over HTTP as the portal and content teams use it, and the service's errors and limits."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from models import ingest_file
from tests.api_helpers import Keys, make_keys, make_services
from tests.conftest import write_jsonl
from tests.test_ingest import PLAIN_COURSE, ROLE, V5_COURSE, V6_COURSE, snapshot

PROBLEM = "application/problem+json"


def jsonl(*records: dict) -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()


@pytest.fixture
def keys(small_kcm_engine: Engine) -> Keys:
    return make_keys(small_kcm_engine)


@pytest.fixture
def client(small_kcm_engine: Engine, keys: Keys, tmp_path: Path) -> Iterator[TestClient]:
    services = make_services(small_kcm_engine, tmp_path, max_body_bytes=2048, max_ingest_bytes=8192)
    with TestClient(create_app(services=services), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def loaded(client: TestClient, keys: Keys, small_kcm_engine: Engine, tmp_path: Path) -> TestClient:
    ingest_file(small_kcm_engine, "roles", write_jsonl(tmp_path / "roles.jsonl", [ROLE]))
    response = client.post(
        "/v1/courses/bulk",
        content=jsonl(V6_COURSE, V5_COURSE, PLAIN_COURSE),
        headers=keys.header("content") | {"Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 3, "updated": 0, "unchanged": 0, "skipped": []}
    return client


def test_courses_are_listed_in_pages_with_a_total(loaded: TestClient, keys: Keys):
    first = loaded.get("/v1/courses", params={"limit": 2}, headers=keys.header("portal")).json()
    second = loaded.get("/v1/courses", params={"limit": 2, "offset": 2}, headers=keys.header("portal")).json()

    assert first["total"] == second["total"] == 3
    ids = [c["identifier"] for c in first["items"] + second["items"]]
    assert ids == sorted({V6_COURSE["identifier"], V5_COURSE["identifier"], PLAIN_COURSE["identifier"]})


def test_courses_filter_by_language_and_competency(loaded: TestClient, keys: Keys):
    tamil = loaded.get("/v1/courses", params={"language": "ta"}, headers=keys.header("portal")).json()
    assert [c["identifier"] for c in tamil["items"]] == [PLAIN_COURSE["identifier"]]
    assert tamil["total"] == 1

    drafting = loaded.get("/v1/courses", params={"competency": "FUN-02-01"}, headers=keys.header("portal")).json()
    assert V6_COURSE["identifier"] in [c["identifier"] for c in drafting["items"]]
    assert PLAIN_COURSE["identifier"] not in [c["identifier"] for c in drafting["items"]]


def test_one_course_comes_back_with_its_competencies(loaded: TestClient, keys: Keys):
    course = loaded.get(f"/v1/courses/{V6_COURSE['identifier']}", headers=keys.header("portal")).json()
    assert course["name"] == V6_COURSE["name"]
    assert course["competencies"] == [{"competency_id": "FUN-02-01", "level": 2}]


def test_roles_and_competencies_are_browsable_and_filterable(loaded: TestClient, keys: Keys):
    roles = loaded.get("/v1/roles", params={"competency": "FUN-02-01"}, headers=keys.header("portal")).json()
    assert [r["id"] for r in roles["items"]] == [ROLE["id"]]
    role = loaded.get(f"/v1/roles/{ROLE['id']}", headers=keys.header("portal")).json()
    assert role["competencies"][0]["competency_id"] == "FUN-02-01"

    behavioural = loaded.get("/v1/competencies", params={"area": "BEH"}, headers=keys.header("portal")).json()
    assert {c["id"] for c in behavioural["items"]} == {"BEH-01-01", "BEH-01-02"}
    found = loaded.get("/v1/competencies", params={"q": "drafting"}, headers=keys.header("portal")).json()
    assert [c["id"] for c in found["items"]] == ["FUN-02-01"]
    assert loaded.get("/v1/competencies/FUN-03-01", headers=keys.header("portal")).json()["levels"]["3"] == "Runs bids"


def test_unknown_ids_are_404_problems_naming_the_path_field(loaded: TestClient, keys: Keys):
    for path, field in [
        ("/v1/courses/do_nope", "path.identifier"),
        ("/v1/roles/ROLE-NOPE", "path.role_id"),
        ("/v1/competencies/XXX-01", "path.competency_id"),
    ]:
        response = loaded.get(path, headers=keys.header("portal"))
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["status"] == 404 and problem["instance"] == path
        assert problem["errors"][0]["field"] == field


def test_an_oversized_page_is_refused_naming_the_parameter(loaded: TestClient, keys: Keys):
    response = loaded.get("/v1/courses", params={"limit": 101, "language": "klingon"}, headers=keys.header("portal"))

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert {e["field"] for e in response.json()["errors"]} == {"query.limit", "query.language"}


def test_a_bulk_body_with_a_bad_line_is_rejected_whole_listing_line_and_field(
    loaded: TestClient, keys: Keys, small_kcm_engine: Engine
):
    before = snapshot(small_kcm_engine)
    new = PLAIN_COURSE | {"identifier": "do_new", "name": "A new course"}
    bad = V6_COURSE | {"identifier": "do_bad", "duration": "-5400"}

    response = loaded.post(
        "/v1/courses/bulk",
        content=jsonl(new, bad),
        headers=keys.header("content") | {"Content-Type": "application/x-ndjson"},
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    errors = response.json()["errors"]
    assert errors == [{"field": "duration", "reason": "negative duration '-5400'", "line": 2, "record_id": "do_bad"}]
    assert "nothing was written" in response.json()["detail"]
    assert snapshot(small_kcm_engine) == before


def test_skip_invalid_writes_the_good_lines_and_reports_the_rest(loaded: TestClient, keys: Keys):
    new = PLAIN_COURSE | {"identifier": "do_new", "name": "A new course"}
    response = loaded.post(
        "/v1/courses/bulk",
        params={"skip_invalid": "true"},
        content=jsonl(new, {"identifier": "do_bad"}),
        headers=keys.header("content") | {"Content-Type": "application/x-ndjson"},
    )

    assert response.status_code == 200
    assert response.json()["created"] == 1
    assert response.json()["skipped"] == ["line 2: name: Field required"]
    assert loaded.get("/v1/courses/do_new", headers=keys.header("portal")).status_code == 200


def test_csv_bodies_are_ingested_and_resending_changes_nothing(loaded: TestClient, keys: Keys):
    body = b"identifier,name,languages,competencies\ndo_csv1,Public Procurement on GeM,hi|en,FUN-03-01:2\n"
    headers = keys.header("content") | {"Content-Type": "text/csv; charset=utf-8"}

    assert loaded.post("/v1/courses/bulk", content=body, headers=headers).json()["created"] == 1
    assert loaded.post("/v1/courses/bulk", content=body, headers=headers).json()["unchanged"] == 1
    course = loaded.get("/v1/courses/do_csv1", headers=keys.header("portal")).json()
    assert course["languages"] == ["hi", "en"]


def test_bulk_ingest_names_what_is_wrong_with_the_body_itself(loaded: TestClient, keys: Keys):
    as_json = loaded.post(
        "/v1/courses/bulk", content=b"{}", headers=keys.header("content") | {"Content-Type": "application/json"}
    )
    assert as_json.status_code == 415
    assert as_json.json()["errors"][0]["field"] == "header.content-type"

    empty = loaded.post(
        "/v1/courses/bulk", content=b"\n", headers=keys.header("content") | {"Content-Type": "application/x-ndjson"}
    )
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "body"


def test_bodies_over_the_limit_are_refused_with_413_before_anything_is_written(
    loaded: TestClient, keys: Keys, small_kcm_engine: Engine
):
    before = snapshot(small_kcm_engine)
    many = [PLAIN_COURSE | {"identifier": f"do_{i}", "name": f"Course {i}"} for i in range(100)]

    bulk = loaded.post(
        "/v1/courses/bulk",
        content=jsonl(*many),
        headers=keys.header("content") | {"Content-Type": "application/x-ndjson"},
    )
    assert bulk.status_code == 413
    assert bulk.headers["content-type"] == PROBLEM
    assert "8192 bytes" in bulk.json()["detail"]

    # Chunked, without Content-Length: counted as it arrives.
    chunked = loaded.post(
        "/v1/keys",
        content=iter([b'{"name": "', b"x" * 3000, b'", "scopes": ["admin"]}']),
        headers=keys.header("admin") | {"Content-Type": "application/json"},
    )
    assert chunked.status_code == 413
    assert snapshot(small_kcm_engine) == before


def test_unexpected_failures_answer_500_without_internals(
    loaded: TestClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
):
    def broken(*_args: object) -> None:
        raise RuntimeError("SELECT secret FROM api_keys WHERE 1=1 -- /srv/app/models/catalog.py")

    monkeypatch.setattr("api.routers.catalog.get_course", broken)

    response = loaded.get(f"/v1/courses/{V6_COURSE['identifier']}", headers=keys.header("portal"))

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "SELECT" not in response.text and "catalog.py" not in response.text and "Traceback" not in response.text


def test_a_single_valued_parameter_given_twice_is_refused(client: TestClient, keys: Keys):
    response = client.get("/v1/courses?limit=5&limit=50", headers=keys.header("portal"))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "query.limit", "reason": "given more than once; expected one value"}]


def test_unknown_routes_and_methods_are_problems_too(client: TestClient, keys: Keys):
    missing = client.get("/v1/nothing-here", headers=keys.header("portal"))
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    wrong_method = client.delete("/v1/courses", headers=keys.header("portal"))
    assert wrong_method.status_code == 405 and wrong_method.headers["content-type"] == PROBLEM


def test_readiness_says_what_is_missing_then_ready_once_the_recommender_is_loaded(client: TestClient, keys: Keys):
    assert client.get("/healthz").json() == {"status": "ok"}
    deadline = time.monotonic() + 30
    while (empty := client.get("/readyz")).json()["checks"]["index"] == "loading" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert empty.status_code == 503
    assert empty.json()["checks"]["index"] == "the catalog has no courses yet: ingest some"
    refused = client.post("/v1/recommendations", json={"roles": ["ROLE-X"]}, headers=keys.header("portal"))
    assert refused.status_code == 503 and "no courses" in refused.json()["detail"]

    client.post(
        "/v1/courses/bulk",
        content=jsonl(PLAIN_COURSE),
        headers=keys.header("content") | {"Content-Type": "application/x-ndjson"},
    )
    while (ready := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    body = ready.json()
    assert body["ready"] is True and body["checks"] == {"database": "ok", "index": "ok"}
    catalog = body["catalog"]
    assert catalog["courses"] == 1 and catalog["applied_sequence"] == catalog["catalog_sequence"]


def test_metrics_count_requests_by_route_template(loaded: TestClient, keys: Keys):
    loaded.get(f"/v1/courses/{V6_COURSE['identifier']}", headers=keys.header("portal"))

    metrics = loaded.get("/metrics").text

    assert 'karmayogi_http_requests_total{method="GET",route="/v1/courses/{identifier}",status="200"} 1.0' in metrics
    assert 'karmayogi_http_requests_total{method="POST",route="/v1/courses/bulk",status="200"} 1.0' in metrics
    assert "karmayogi_http_request_duration_seconds_bucket" in metrics
    assert V6_COURSE["identifier"] not in metrics


def test_every_route_field_and_error_is_in_the_openapi_document(client: TestClient):
    document = client.get("/openapi.json").json()

    course_list = document["paths"]["/v1/courses"]["get"]
    assert {p["name"] for p in course_list["parameters"]} >= {"language", "competency", "offset", "limit"}
    limit = next(p for p in course_list["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 100
    for status in ("401", "403", "422"):
        assert PROBLEM in course_list["responses"][status]["content"]
    bulk = document["paths"]["/v1/courses/bulk"]["post"]
    assert set(bulk["requestBody"]["content"]) == {"application/x-ndjson", "application/jsonl", "text/csv"}
    assert {"413", "415"} <= set(bulk["responses"])
    assert set(document["components"]["securitySchemes"]) == {"HTTPBearer", "APIKeyHeader"}
