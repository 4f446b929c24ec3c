"""Translation over HTTP as a content team uses it: jobs, the queue, review actions, memory, export."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from models import session_scope
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services, translated_catalog
from translation import MemoryEngine, load_memory, translation_language


@pytest.fixture
def keys(small_kcm_engine: Engine, tmp_path: Path) -> Keys:
    translated_catalog(small_kcm_engine, tmp_path)
    return make_keys(small_kcm_engine)


@pytest.fixture
def client(small_kcm_engine: Engine, keys: Keys, tmp_path: Path) -> Iterator[TestClient]:
    services = make_services(small_kcm_engine, tmp_path, mt=DictionaryEngine())
    with TestClient(create_app(services=services)) as test_client:
        test_client.headers.update(keys.header("reviewer"))
        yield test_client


def unit_of(client: TestClient, course_id: str, language: str = "hi") -> dict:
    found = client.get("/v1/translation/units", params={"language": language, "course_id": course_id}).json()
    assert len(found["items"]) == 1
    return found["items"][0]


def test_the_queue_filters_by_language_status_and_qa_flag(client: TestClient):
    hindi = client.get("/v1/translation/units", params={"language": "hi", "status": "machine_translated"}).json()
    assert {u["course_id"] for u in hindi["items"]} == {"do_memory", "do_clean", "do_flagged"}

    flagged = client.get("/v1/translation/units", params={"language": "hi", "flag": "numbers"}).json()
    assert [u["course_id"] for u in flagged["items"]] == ["do_flagged"]
    assert flagged["items"][0]["flags"][0] == {"check": "numbers", "severity": "error", "message": "missing 2024"}

    assert client.get("/v1/translation/units", params={"language": "ta"}).json()["items"] == []
    refused = client.get("/v1/translation/units", params={"status": "done"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "query.status"


def test_a_unit_shows_its_glossary_terms_memory_matches_and_history(client: TestClient):
    unit = unit_of(client, "do_memory")
    detail = client.get(f"/v1/translation/units/{unit['id']}").json()

    assert detail["engine"] == "memory" and detail["memory_score"] == 100.0
    best = {"source": "Noting and Drafting", "target": "टिप्पण और प्रारूपण", "score": 100.0, "warning": None}
    assert detail["memory_matches"][0] == best
    assert [t["source"] for t in detail["terms"]] == ["Noting and Drafting"]  # a KCM competency is a glossary term
    assert [h["action"] for h in detail["history"]] == ["created", "machine_translated"]


def test_approving_puts_the_text_in_the_memory_that_drafts_the_next_translation(
    client: TestClient, small_kcm_engine: Engine
):
    unit = unit_of(client, "do_clean")
    approved = client.post(f"/v1/translation/units/{unit['id']}/approve", json={"text": "सामने की मेज़ पर सहानुभूति"})

    assert approved.status_code == 200
    assert approved.json()["status"] == "approved" and approved.json()["reviewer"] == "reviewer"
    with session_scope(small_kcm_engine) as session:
        memory = MemoryEngine(load_memory(session, "hi"))
    hindi, english = translation_language("hi"), translation_language("en")
    assert memory.translate(["Empathy at the front desk"], english, hindi) == ["सामने की मेज़ पर सहानुभूति"]


def test_editing_sends_a_unit_to_review_with_fresh_flags_and_reject_keeps_the_note(client: TestClient):
    unit = unit_of(client, "do_flagged")
    edited = client.post(
        f"/v1/translation/units/{unit['id']}/edit", json={"text": "जीईएम पर सार्वजनिक खरीद 2024"}
    ).json()
    assert edited["status"] == "in_review"
    assert "numbers" not in [f["check"] for f in edited["flags"]]

    rejected = client.post(f"/v1/translation/units/{unit['id']}/reject", json={"note": "GeM is a name"}).json()
    assert rejected["status"] == "rejected" and rejected["note"] == "GeM is a name"


def test_an_action_the_status_does_not_allow_is_409_and_unknown_units_404(client: TestClient):
    unit = unit_of(client, "do_clean")
    client.post(f"/v1/translation/units/{unit['id']}/reject", json={})

    again = client.post(f"/v1/translation/units/{unit['id']}/approve")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "rejected" in again.json()["detail"]

    missing = client.get("/v1/translation/units/999999")
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "path.unit_id"
    blank = client.post(f"/v1/translation/units/{unit['id']}/edit", json={"text": "   "})
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "body.text"


def test_bulk_approve_takes_only_units_without_errors_or_warnings(client: TestClient):
    response = client.post("/v1/translation/units/bulk-approve", json={"language": "hi"})

    assert response.json()["approved"] == 2 and response.json()["batch_id"]  # a batch, undoable
    assert unit_of(client, "do_flagged")["status"] == "machine_translated"
    assert unit_of(client, "do_clean")["status"] == "approved"


def test_a_job_started_over_http_runs_in_the_background_and_reports_progress(client: TestClient):
    started = client.post("/v1/translation/jobs", json={"languages": ["ta"], "fields": ["name"]})
    assert started.status_code == 202
    status_url = started.json()["status_url"]

    deadline = time.monotonic() + 30
    while (job := client.get(status_url).json())["status"] != "finished" and time.monotonic() < deadline:
        time.sleep(0.1)

    assert job["status"] == "finished"
    assert job["report"]["units"] == 3 and job["report"]["engine"] == "test-dictionary"
    assert {u["course_id"] for u in client.get("/v1/translation/units", params={"language": "ta"}).json()["items"]} == {
        "do_memory",
        "do_clean",
        "do_flagged",
    }
    assert job["id"] in [j["id"] for j in client.get("/v1/translation/jobs").json()]


def test_a_job_over_unknown_courses_is_404(client: TestClient):
    response = client.post("/v1/translation/jobs", json={"languages": ["ta"], "course_ids": ["do_nope"]})
    assert response.status_code == 404


def test_export_as_xliff_and_csv(client: TestClient):
    xliff = client.get("/v1/translation/export", params={"language": "hi"})
    assert xliff.status_code == 200 and xliff.headers["content-type"].startswith("application/x-xliff+xml")
    assert "टिप्पण और प्रारूपण" in xliff.text and 'target-language="hi"' in xliff.text

    csv = client.get("/v1/translation/export", params={"language": "hi", "format": "csv", "status": "approved"})
    assert csv.text.splitlines() == ["key,language,status,source,target,flags"]
