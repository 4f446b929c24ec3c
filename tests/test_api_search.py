"""Search over HTTP as the portal calls it, with the real encoders and a real FAISS index that the service
builds under its home at start-up: English, Hindi and cross-lingual queries, filters, similar courses."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from models import ingest_file, make_engine, upgrade
from models.sample_data import COURSES_FILE
from search import RetrievalConfig
from tests.api_helpers import make_keys, make_services
from tests.conftest import FIXTURES

pytestmark = pytest.mark.slow

TARGETS = {
    "noting": "Noting and Drafting: Basics",
    "rti": "Right to Information Act, 2005: Basics for All Employees",
    "shg": "स्वयं सहायता समूह और ग्रामीण आजीविका",
    "gem": "Procurement Essentials on GeM",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The target courses and 30 others of the sample catalog, small enough to encode quickly, over the small
    test KCM (their competency tags are dropped: search reads texts, and the recommender loaded beside the index
    then matches 5 competencies rather than the whole KCM)."""
    home = tmp_path_factory.mktemp("search")
    engine = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
    upgrade(engine)
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    records = [
        {key: value for key, value in json.loads(line).items() if not key.startswith("competenc")}
        for line in COURSES_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    targets = [r for r in records if r["name"] in TARGETS.values()]
    assert len(targets) == len(TARGETS), "the sample catalog lost a course these tests search for"
    subset = targets + [r for r in records if r not in targets][:30]
    (home / "courses.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in subset))
    ingest_file(engine, "courses", home / "courses.jsonl")
    keys = make_keys(engine)
    services = make_services(engine, home, search=RetrievalConfig())
    services.catalog.get()  # builds the index under `home`, as `karmayogi serve` does at start-up
    with TestClient(create_app(services=services)) as test_client:
        test_client.headers.update(keys.header("portal"))
        yield test_client
    engine.dispose()


def names(response: dict) -> list[str]:
    return [hit["name"] for hit in response["items"]]


def test_an_english_query_finds_the_course_first(client: TestClient):
    found = client.get("/v1/search", params={"q": "how to write notes and drafts on government files", "k": 3})
    assert found.status_code == 200
    assert names(found.json())[0] == TARGETS["noting"]
    assert found.json()["language"] == "en"


def test_search_is_cross_lingual(client: TestClient):
    hindi = client.get("/v1/search", params={"q": "सूचना का अधिकार अधिनियम के बारे में जानकारी", "k": 3}).json()
    assert hindi["language"] == "hi" and TARGETS["rti"] in names(hindi)

    tamil = client.get("/v1/search", params={"q": "தகவல் அறியும் உரிமைச் சட்டம்", "k": 3}).json()
    assert tamil["language"] == "ta" and TARGETS["rti"] in names(tamil)
    # 34 courses: chance puts the right one in the top 3 about one time in eleven.


def test_filters_by_language_and_duration(client: TestClient):
    hindi_only = client.get("/v1/search", params={"q": "rural livelihoods", "k": 5, "language": "hi"}).json()
    assert hindi_only["items"] and all("hi" in hit["languages"] for hit in hindi_only["items"])
    short = client.get("/v1/search", params={"q": "procurement", "max_duration_minutes": 60}).json()
    assert all(hit["duration_seconds"] is not None and hit["duration_seconds"] <= 3600 for hit in short["items"])


def test_similar_courses_leave_the_course_itself_out(client: TestClient):
    first = client.get("/v1/search", params={"q": "GeM procurement", "k": 1}).json()["items"][0]
    similar = client.get(f"/v1/courses/{first['course_id']}/similar", params={"k": 5}).json()
    assert similar["course_id"] == first["course_id"]
    assert len(similar["items"]) == 5 and first["course_id"] not in [hit["course_id"] for hit in similar["items"]]
    assert client.get("/v1/courses/do_nope/similar").status_code == 404


def test_bad_queries_name_the_parameter(client: TestClient):
    for params, field in [
        ({"q": "   "}, "query.q"),
        ({"q": "x", "k": 0}, "query.k"),
        ({"q": "x", "lang": "zz"}, "query.lang"),
    ]:
        response = client.get("/v1/search", params=params)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


def test_the_loaded_index_is_reported_ready_and_measured(client: TestClient):
    deadline = time.monotonic() + 30
    while (ready := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready.json()["checks"]["index"] == "ok"
    assert "karmayogi_index_vectors 34.0" in client.get("/metrics").text


def test_hits_are_displayed_in_the_readers_language(client: TestClient):
    """The query's language first, then `language`; an approval shows at the next search (see
    tests/test_localized_responses.py for the rule itself)."""
    from models import session_scope
    from tests.api_helpers import DictionaryEngine
    from translation import approve_unit, run_translation_job
    from translation.review import find_unit

    english = client.get("/v1/search", params={"q": "right to information act", "k": 3, "lang": "en"}).json()
    rti = next(hit for hit in english["items"] if hit["name"] == TARGETS["rti"])
    assert (rti["display"]["language"], rti["display"]["source"]) == ("en", "native")
    engine = client.app.state.services.engine
    run_translation_job(engine, ["hi"], ["name"], course_ids=[rti["course_id"]], mt=DictionaryEngine())
    with session_scope(engine) as session:
        unit = find_unit(session, rti["course_id"], "name", "hi")
        assert unit is not None
        approved = approve_unit(
            session, unit.id, "reviewer", override_reason="the test's draft stands for any text"
        ).text

    query = {"q": "सूचना का अधिकार अधिनियम के बारे में जानकारी", "k": 5}
    hindi = client.get("/v1/search", params=query).json()
    shown = {hit["course_id"]: hit for hit in hindi["items"]}
    assert shown[rti["course_id"]]["display"]["name"] == approved
    assert shown[rti["course_id"]]["name"] == TARGETS["rti"]
    for hit in hindi["items"]:
        if hit["course_id"] != rti["course_id"]:
            expected = "native" if "hi" in hit["languages"] else "original"
            assert hit["display"]["source"] == expected, hit
    similar = client.get(f"/v1/courses/{rti['course_id']}/similar", params={"k": 5, "lang": "hi"}).json()
    assert all(hit["display"]["source"] in {"native", "translation", "original"} for hit in similar["items"])
    assert all(hit["display"]["source"] == "original" for hit in client.get(
        f"/v1/courses/{rti['course_id']}/similar", params={"k": 3}).json()["items"])  # fmt: skip


def test_searches_side_by_side_answer_as_they_do_one_at_a_time(client: TestClient):
    # No lock around a whole search any more: English and Hindi queries from eight threads at once (each encoder
    # still takes one call at a time) must rank exactly as the same queries sent one after another.
    from concurrent.futures import ThreadPoolExecutor

    queries = ["office procedure", "सूचना का अधिकार", "public procurement on GeM", "ग्रामीण आजीविका", "noting"] * 5

    def ranked(query: str) -> list[tuple[str, float]]:
        response = client.get("/v1/search", params={"q": query, "k": 8})
        assert response.status_code == 200, response.text
        return [(hit["course_id"], hit["score"]) for hit in response.json()["items"]]

    alone = {query: ranked(query) for query in dict.fromkeys(queries)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(ranked, queries))
    # Concurrent English queries share MiniLM calls (embeddings/batching.py): a vector then differs from the lone
    # one by float32 rounding (about 1e-7), which may move a score's fourth decimal; the ranking stays.
    assert [[course for course, _ in hits] for hits in together] == [
        [course for course, _ in alone[query]] for query in queries
    ]
    for hits, query in zip(together, queries, strict=True):
        assert [score for _, score in hits] == pytest.approx([score for _, score in alone[query]], abs=2e-4)
