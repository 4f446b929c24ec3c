"""Bulk review with care (issue 15, item 4), over HTTP: select by filter or by id → preview (nothing changes) →
apply as one batch in one transaction → undo that batch; every unit's history names the batch; error flags are
never approved in bulk; undo leaves units changed since, and puts the memory back as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from api.app import create_app
from models import session_scope
from models.tables import TranslationMemoryRow
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services
from translation import run_translation_job

# Twelve clean titles (the dictionary translates them) and one it cannot (an error flag: its number is lost).
TITLES = {f"Office Skills {name}": f"कार्यालय कौशल {hindi}" for name, hindi in [
    ("Basics", "मूल बातें"), ("for Clerks", "लिपिकों के लिए"), ("at Work", "काम पर"), ("Refresher", "पुनश्चर्या"),
    ("in Practice", "व्यवहार में"), ("Essentials", "अनिवार्य"), ("Primer", "प्रवेशिका"), ("Workshop", "कार्यशाला"),
    ("Handbook", "पुस्तिका"), ("Overview", "अवलोकन"), ("Toolkit", "साधन"), ("Guide", "मार्गदर्शिका"),
]}  # fmt: skip
FLAGGED = "Office Skills 2025"


@pytest.fixture
def client(small_kcm_engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Engine]]:
    import json

    from models import ingest_file

    courses = [{"identifier": f"do_bulk_{n}", "name": name} for n, name in enumerate([*TITLES, FLAGGED])]
    (tmp_path / "courses.jsonl").write_text("".join(json.dumps(c) + "\n" for c in courses), encoding="utf-8")
    ingest_file(small_kcm_engine, "courses", tmp_path / "courses.jsonl")
    run_translation_job(small_kcm_engine, ["hi"], ["name"], mt=DictionaryEngine(TITLES))
    keys: Keys = make_keys(small_kcm_engine)
    services = make_services(small_kcm_engine, tmp_path, mt=DictionaryEngine(TITLES))
    with TestClient(create_app(services=services)) as test_client:
        test_client.headers.update(keys.header("reviewer"))
        yield test_client, small_kcm_engine


def statuses(client: TestClient) -> dict[int, str]:
    items = client.get("/v1/translation/units", params={"language": "hi", "limit": 100}).json()["items"]
    return {unit["id"]: unit["status"] for unit in items}


def memory_size(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(TranslationMemoryRow)) or 0)


def test_preview_apply_and_undo_a_batch_chosen_by_filter(client):
    test_client, engine = client
    before, memory_before = statuses(test_client), memory_size(engine)
    assert len(before) == 13 and set(before.values()) == {"machine_translated"}
    chosen = {"action": "approve", "filter": {"language": "hi", "status": "machine_translated", "q": "office"}}

    preview = test_client.post("/v1/translation/units/bulk", json=chosen | {"dry_run": True}).json()
    assert len(preview["unit_ids"]) == 12 and preview["batch_id"] is None
    ((skipped_id, reason),) = [(s["id"], s["reason"]) for s in preview["skipped"]]
    assert "error flag" in reason
    assert statuses(test_client) == before  # a preview changes nothing

    applied = test_client.post("/v1/translation/units/bulk", json=chosen).json()
    assert applied["unit_ids"] == preview["unit_ids"] and applied["batch_id"]
    after = statuses(test_client)
    assert {after[i] for i in applied["unit_ids"]} == {"approved"} and after[skipped_id] == "machine_translated"
    assert memory_size(engine) == memory_before + 12
    history = test_client.get(f"/v1/translation/units/{applied['unit_ids'][0]}").json()["history"]
    assert (history[-1]["action"], history[-1]["batch_id"]) == ("approved", applied["batch_id"])
    batch = test_client.get(f"/v1/translation/batches/{applied['batch_id']}").json()
    assert batch["unit_ids"] == applied["unit_ids"] and batch["undone_at"] is None

    # One unit is changed by hand after the batch: undo leaves it, puts the other eleven back.
    test_client.post(f"/v1/translation/units/{applied['unit_ids'][0]}/reject", json={"note": "wrong register"})
    undone = test_client.post(f"/v1/translation/batches/{applied['batch_id']}/undo").json()
    assert (undone["restored"], undone["changed_since"]) == (11, 1)
    final = statuses(test_client)
    assert [final[i] for i in applied["unit_ids"][1:]] == ["machine_translated"] * 11
    assert final[applied["unit_ids"][0]] == "rejected"
    assert memory_size(engine) == memory_before + 1  # the rejected unit's approval stays in the memory, as it was
    last = test_client.get(f"/v1/translation/units/{applied['unit_ids'][1]}").json()["history"][-1]
    assert last["action"] == "undone" and applied["batch_id"] in last["note"]
    again = test_client.post(f"/v1/translation/batches/{applied['batch_id']}/undo")
    assert again.status_code == 422 and "already undone" in again.json()["detail"]


def test_a_batch_by_id_skips_what_it_may_not_do_and_unknown_batches_are_404(client):
    test_client, _ = client
    ids = sorted(statuses(test_client))
    rejected = test_client.post(
        "/v1/translation/units/bulk", json={"action": "reject", "unit_ids": ids[:3], "note": "tone"}
    ).json()
    assert len(rejected["unit_ids"]) == 3
    again = test_client.post("/v1/translation/units/bulk", json={"action": "approve", "unit_ids": ids[:3]}).json()
    assert again["unit_ids"] == [] and again["batch_id"] is None and len(again["skipped"]) == 3
    assert test_client.post("/v1/translation/units/bulk", json={"action": "approve"}).status_code == 422
    assert test_client.get("/v1/translation/batches/abc123").status_code == 404


def sign_in(test_client: TestClient, key: str) -> str:
    """Sign in to the review UI; returns the session's CSRF token for forms."""
    login = test_client.get("/review/login")
    token = login.text.split('name="csrf" value="')[1].split('"')[0]
    assert (
        test_client.post("/review/login", data={"key": key, "csrf": token}, follow_redirects=False).status_code == 303
    )
    queue = test_client.get("/review")
    return queue.text.split('name="csrf" value="')[1].split('"')[0]


def test_the_review_ui_previews_applies_and_undoes_a_batch(client):
    test_client, _ = client
    reviewer_key = test_client.headers.pop("Authorization").removeprefix("Bearer ")
    csrf = sign_in(test_client, reviewer_key)
    before = statuses_via_api(test_client, reviewer_key)
    form = {"csrf": csrf, "action": "approve", "scope": "filter", "language": "hi", "clean": "true"}
    preview = test_client.post("/review/bulk/preview", data=form)
    assert preview.status_code == 200 and "Approve 12 units?" in preview.text and "Left out (0)" not in preview.text
    assert statuses_via_api(test_client, reviewer_key) == before  # the preview changed nothing
    ids = [int(value) for value in preview.text.split('name="unit" value="')[1:] for value in [value.split('"')[0]]]
    applied = test_client.post(
        "/review/bulk/apply", data={"csrf": csrf, "action": "approve", "unit": ids}, follow_redirects=True
    )
    assert applied.status_code == 200 and "approved 12 units" in applied.text and 'id="undo"' in applied.text
    assert {statuses_via_api(test_client, reviewer_key)[i] for i in ids} == {"approved"}
    batch_url = str(applied.url)
    undone = test_client.post(f"{batch_url}/undo", data={"csrf": csrf}, follow_redirects=True)
    assert undone.status_code == 200 and 'id="undone"' in undone.text
    assert statuses_via_api(test_client, reviewer_key) == before
    assert test_client.post(f"{batch_url}/undo", data={"csrf": "wrong"}).status_code == 403


def statuses_via_api(test_client: TestClient, key: str) -> dict[int, str]:
    items = test_client.get(
        "/v1/translation/units", params={"language": "hi", "limit": 100}, headers={"Authorization": f"Bearer {key}"}
    ).json()["items"]
    return {unit["id"]: unit["status"] for unit in items}
