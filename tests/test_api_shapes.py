"""The shapes of the API's responses and requests, as an integrator meets them (issue 17, item 1): UTF-8 JSON as
is, floats at the stated precision, one name for a course's id, labelled objects, every schema property and
parameter described, unknown body fields refused, list parameters repeated or comma-separated, and providers and
departments found by short name or in any case. Real HTTP against an app on a real database and a real index."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.json_response import FLOAT_DECIMALS, PRECISION
from api.name_filters import matching_names, name_keys
from models import ingest_file, make_engine, upgrade
from models.sample_data import COURSES_FILE
from search import RetrievalConfig
from tests.api_helpers import Keys, make_keys, make_services
from tests.conftest import FIXTURES, write_jsonl
from tests.test_ingest import ROLE

ISTM = "Institute of Secretariat Training and Management (ISTM)"
NIC = "National Informatics Centre (NIC)"
# A role in a department that carries a short name, beside the plain "Department of Personnel and Training".
REVENUE_ROLE = ROLE | {
    "id": "ROLE-CBDT-ITO",
    "designation": "Income Tax Officer",
    "department": "Central Board of Direct Taxes (CBDT)",
    "ministry": "Ministry of Finance",
}
LEARNER = {"id": "L-SHAPES", "roles": ["ROLE-DOPT-SO"], "preferred_languages": ["hi", "en"]}
HINDI_PROBLEM_ID = "सूचना"
Served = tuple[TestClient, Keys, list[dict[str, Any]]]


def _subset() -> list[dict[str, Any]]:
    """ISTM's and NIC's courses and ten Hindi ones from the sample catalog, without their competency tags (the
    small test KCM has five competencies; the recommender then finds courses by their texts, with similarities)."""
    records = [json.loads(line) for line in COURSES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    by = [r for r in records if {ISTM, NIC} & set(r.get("organisation", r.get("organisations", [])))]
    hindi = [r for r in records if "Hindi" in r.get("language", []) and r not in by][:10]
    return [{k: v for k, v in r.items() if not k.startswith("competenc")} for r in by[:40] + hindi]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("shapes")
    engine: Engine = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
    upgrade(engine)
    courses = _subset()
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    ingest_file(engine, "roles", write_jsonl(home / "roles.jsonl", [ROLE, REVENUE_ROLE]))
    ingest_file(engine, "courses", write_jsonl(home / "courses.jsonl", courses))
    ingest_file(engine, "learners", write_jsonl(home / "learners.jsonl", [LEARNER]))
    keys = make_keys(engine)
    # A real index, English encoder only to keep start-up short: semantic evidence brings similarities.
    services = make_services(engine, home, search=RetrievalConfig(multilingual_encoder=None))
    services.catalog.get()
    with TestClient(create_app(services=services)) as client:
        client.headers.update(keys.header("admin"))
        yield client, keys, courses
    engine.dispose()


@pytest.fixture(scope="module")
def client(served: Served) -> TestClient:
    return served[0]


# --- UTF-8 ----------------------------------------------------------------------------------------------------


def test_devanagari_arrives_as_utf8_in_results_and_in_problems(client: TestClient) -> None:
    page = client.get("/v1/courses", params={"language": "hi", "limit": 5})
    assert page.status_code == 200 and page.headers["content-type"] == "application/json"
    hindi_name = page.json()["items"][0]["name"]
    assert re.search("[\u0900-\u097f]", hindi_name)
    assert hindi_name.encode("utf-8") in page.content
    assert b"\\u" not in page.content

    problem = client.get(f"/v1/courses/{HINDI_PROBLEM_ID}")
    assert problem.status_code == 404 and problem.headers["content-type"] == "application/problem+json"
    assert HINDI_PROBLEM_ID.encode("utf-8") in problem.content and b"\\u" not in problem.content

    invalid = client.post("/v1/recommendations", json={"roles": ["ROLE-DOPT-SO"], "रंग": 1})
    assert invalid.status_code == 422 and invalid.headers["content-type"] == "application/problem+json"
    assert "body.रंग".encode() in invalid.content and b"\\u" not in invalid.content


# --- floats ---------------------------------------------------------------------------------------------------


def floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for item in value.values() for f in floats(item)]
    if isinstance(value, list):
        return [f for item in value for f in floats(item)]
    return []


LONG_FLOAT = re.compile(rb"\d\.\d{%d,}" % (FLOAT_DECIMALS + 1))


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", f"/v1/learners/{LEARNER['id']}/recommendations", {"k": 10}),
        ("POST", "/v1/recommendations", {"roles": ["ROLE-DOPT-SO"], "levels": {"FUN-02-01": 1}, "k": 10}),
        ("GET", f"/v1/learners/{LEARNER['id']}/gaps", {}),
        ("GET", f"/v1/learners/{LEARNER['id']}/path", {}),  # levels and seconds: whole numbers only
        ("GET", "/v1/search", {"q": "noting and drafting on files", "k": 10}),
        ("GET", "/v1/courses", {"limit": 50}),
    ],
)
def test_no_float_is_longer_than_the_stated_precision(
    client: TestClient, method: str, path: str, params: dict[str, Any]
) -> None:
    response = client.post(path, json=params) if method == "POST" else client.get(path, params=params)
    assert response.status_code == 200, response.text
    found = floats(response.json())
    assert found or path.endswith("/path"), "the response should carry scores or ratings"
    assert all(value == round(value, FLOAT_DECIMALS) for value in found)
    assert not LONG_FLOAT.search(response.content), LONG_FLOAT.search(response.content)


def test_recommendations_carry_rounded_similarities_and_factors(client: TestClient) -> None:
    body = client.get(f"/v1/learners/{LEARNER['id']}/recommendations", params={"k": 5}).json()
    evidence = [gap for item in body["items"] for gap in item["explanation"]["gaps"]]
    assert evidence and all(gap["evidence"] == "semantic" for gap in evidence)
    similarities = [gap["similarity"] for gap in evidence]
    assert all(0 < s <= 1 and s == round(s, FLOAT_DECIMALS) for s in similarities)
    # Scores are distinct enough at this precision that their order shows.
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)


# --- one name for a course's id, labelled objects ------------------------------------------------------------


def test_every_response_names_a_course_course_id(client: TestClient) -> None:
    page = client.get("/v1/courses", params={"limit": 3}).json()["items"]
    assert all(item["course_id"] == item["identifier"] for item in page)  # `identifier`: deprecated alias
    one = client.get(f"/v1/courses/{page[0]['course_id']}").json()
    assert one["course_id"] == page[0]["course_id"]
    similar = client.get(f"/v1/courses/{page[0]['course_id']}/similar", params={"k": 3}).json()
    assert similar["course_id"] == page[0]["course_id"] and all("course_id" in hit for hit in similar["items"])

    schemas = create_app().openapi()["components"]["schemas"]
    for name, schema in schemas.items():
        properties = schema.get("properties", {})
        if "identifier" in properties:
            assert properties["identifier"].get("deprecated") is True, name
            assert "course_id" in properties, name


def test_a_path_closes_labelled_levels_and_no_schema_is_a_positional_list(client: TestClient) -> None:
    path = client.get(f"/v1/learners/{LEARNER['id']}/path").json()
    assert path["steps"]
    for step in path["steps"]:
        for closed in step["closes"]:
            assert set(closed) == {"competency_id", "competency", "level"}
            assert closed["competency_id"] == "FUN-02-01" and closed["level"] in (1, 2, 3)
    for uncovered in path["uncovered"]:
        assert set(uncovered) == {"competency_id", "level"}
    document = json.dumps(create_app().openapi())
    assert "prefixItems" not in document  # no tuple anywhere: every item is an object with named fields


# --- the document ---------------------------------------------------------------------------------------------


def _properties(schemas: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    def walk(where: str, schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        for name, prop in schema.get("properties", {}).items():
            yield f"{where}.{name}", prop
            yield from walk(f"{where}.{name}", prop)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                yield from walk(where, schema[key])
        for option in schema.get("anyOf", []) + schema.get("allOf", []):
            yield from walk(where, option)

    for name, schema in schemas.items():
        yield from walk(name, schema)


def _is_number(schema: dict[str, Any]) -> bool:
    def types(s: dict[str, Any]) -> set[str]:
        found = {s["type"]} if isinstance(s.get("type"), str) else set()
        for key in ("items", "additionalProperties"):
            if isinstance(s.get(key), dict):
                found |= types(s[key])
        for option in s.get("anyOf", []):
            found |= types(option)
        return found

    return "number" in types(schema)


def test_every_schema_property_and_every_parameter_is_described() -> None:
    document = create_app().openapi()
    properties = list(_properties(document["components"]["schemas"]))
    assert len(properties) > 200
    undocumented = [where for where, prop in properties if not prop.get("description")]
    assert undocumented == []
    # A number's description states the precision it is sent at: the response class's, but for /readyz, which
    # rounds its seconds to 3 places itself.
    numbers = {where: prop["description"] for where, prop in properties if _is_number(prop)}
    assert len(numbers) >= 10
    own = {"CatalogState.behind_seconds": "rounded to 3 decimal places"}
    assert [where for where, text in numbers.items() if own.get(where, PRECISION) not in text] == []
    assert PRECISION in document["info"]["description"]

    parameters = [
        (f"{method.upper()} {path}", parameter)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
    ]
    assert len(parameters) > 50
    assert [f"{where} {p['name']}" for where, p in parameters if not p.get("description")] == []


def test_every_json_request_body_refuses_fields_it_does_not_declare() -> None:
    document = create_app().openapi()
    schemas = document["components"]["schemas"]
    bodies = [
        content["application/json"]["schema"]
        for operations in document["paths"].values()
        for operation in operations.values()
        if "application/json" in (content := operation.get("requestBody", {}).get("content", {}))
    ]
    assert len(bodies) >= 6
    for body in bodies:
        for option in body.get("anyOf", [body]):
            if "$ref" in option:
                name = option["$ref"].rsplit("/", 1)[-1]
                assert schemas[name].get("additionalProperties") is False, name


# --- requests -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/recommendations", {"roles": ["ROLE-DOPT-SO"], "colour": "blue"}),
        ("/v1/translation/jobs", {"languages": ["hi"], "colour": "blue"}),
        ("/v1/translation/units/bulk-approve", {"language": "hi", "colour": "blue"}),
        ("/v1/keys", {"name": "portal", "scopes": ["recommend:read"], "colour": "blue"}),
    ],
)
def test_an_unknown_body_field_is_a_422_naming_it(client: TestClient, path: str, body: dict[str, Any]) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:karmayogi:problem:validation"
    assert [e["field"] for e in problem["errors"]] == ["body.colour"]
    assert "body.colour" in problem["detail"]


def test_list_parameters_take_repeats_and_commas_alike(client: TestClient) -> None:
    repeated = client.get("/v1/search", params=[("q", "office procedure"), ("language", "hi"), ("language", "en")])
    commas = client.get("/v1/search", params={"q": "office procedure", "language": "hi,en"})
    assert repeated.status_code == commas.status_code == 200
    assert repeated.json()["items"] == commas.json()["items"]

    statuses = "approved,machine_translated"
    both = client.get("/v1/translation/export", params={"language": "hi", "format": "csv", "status": statuses})
    again = client.get(
        "/v1/translation/export",
        params=[("language", "hi"), ("format", "csv"), ("status", "approved"), ("status", "machine_translated")],
    )
    assert both.status_code == again.status_code == 200 and both.content == again.content
    wrong = client.get("/v1/translation/export", params={"language": "hi", "status": "approved,nonsense"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"].startswith("query.status")


# --- providers and departments by short name or in any case ---------------------------------------------------


def _by(courses: list[dict[str, Any]], provider: str) -> set[str]:
    return {c["identifier"] for c in courses if provider in c.get("organisation", c.get("organisations", []))}


@pytest.mark.parametrize("asked", ["ISTM", "istm", ISTM.upper(), f"  {ISTM.lower()} "])
def test_courses_by_a_providers_short_name_or_its_name_in_any_case(served: Served, asked: str) -> None:
    client, _, courses = served
    expected = _by(courses, ISTM)
    page = client.get("/v1/courses", params={"provider": asked, "limit": 100}).json()
    assert page["total"] == len(expected) > 0
    assert {item["course_id"] for item in page["items"]} == expected


def test_several_providers_and_an_unknown_one(served: Served) -> None:
    client, _, courses = served
    expected = _by(courses, ISTM) | _by(courses, NIC)
    assert len(expected) <= 100
    for params in ([("provider", "ISTM,nic")], [("provider", "ISTM"), ("provider", "NIC")]):
        page = client.get("/v1/courses", params=[*params, ("limit", "100")]).json()
        assert {item["course_id"] for item in page["items"]} == expected
    assert client.get("/v1/courses", params={"provider": "NOBODY"}).json()["total"] == 0


def test_search_filters_by_a_providers_short_name(served: Served) -> None:
    client = served[0]
    hits = client.get("/v1/search", params={"q": "noting and drafting", "provider": "ISTM", "k": 20}).json()["items"]
    assert hits and all(ISTM in hit["organisations"] for hit in hits)
    assert client.get("/v1/search", params={"q": "noting", "provider": "NOBODY"}).json()["items"] == []


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("cbdt", ["ROLE-CBDT-ITO"]),
        ("central board of direct taxes (cbdt)", ["ROLE-CBDT-ITO"]),
        ("DEPARTMENT OF PERSONNEL AND TRAINING", ["ROLE-DOPT-SO"]),
        ("Department of Revenue", []),
    ],
)
def test_roles_by_a_departments_short_name_or_its_name_in_any_case(
    client: TestClient, asked: str, expected: list[str]
) -> None:
    page = client.get("/v1/roles", params={"department": asked}).json()
    assert [role["id"] for role in page["items"]] == expected
    ministry = client.get("/v1/roles", params={"ministry": "ministry of finance"}).json()
    assert [role["id"] for role in ministry["items"]] == ["ROLE-CBDT-ITO"]


def test_a_name_matches_whole_before_it_is_split_at_commas() -> None:
    stored = ["YASHADA, Pune", ISTM, "Pune"]
    assert matching_names(["yashada, pune"], stored) == {"YASHADA, Pune"}
    assert matching_names(["ISTM, pune"], stored) == {ISTM, "Pune"}
    assert name_keys("Department of Revenue (Central Board of Direct Taxes)") == {
        "department of revenue (central board of direct taxes)"
    }  # a parenthesised phrase is part of the name, not a short name
    assert name_keys("Bureau of Police Research and Development (BPR&D)") >= {"bpr&d"}
