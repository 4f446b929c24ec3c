"""Approval rules, draft sources and the history's text, over HTTP as a reviewer meets them (issue 15, items 1, 5
and 6): an error flag blocks approval, an override needs a reason that the history keeps and the memory remembers
(its later matches and drafts carry a warning); warnings do not block; a memory draft says it is one; each history
entry shows the text before and after, word by word."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.app import create_app
from models import session_scope
from models.tables import TranslationMemoryRow
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services, translated_catalog
from translation import run_translation_job


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


def unit_of(client: TestClient, course_id: str) -> dict:
    (unit,) = client.get("/v1/translation/units", params={"language": "hi", "course_id": course_id}).json()["items"]
    return unit


def test_an_error_flag_blocks_approval_until_a_reason_overrides_it(client: TestClient, small_kcm_engine: Engine):
    flagged = unit_of(client, "do_flagged")  # "Public Procurement on GeM in 2024" drafted without the year
    assert [f["severity"] for f in flagged["flags"]].count("error") >= 1

    blocked = client.post(f"/v1/translation/units/{flagged['id']}/approve")
    assert blocked.status_code == 409
    problem = blocked.json()
    assert problem["type"] == "urn:karmayogi:problem:approval-blocked"
    assert problem["errors"][0]["field"] == "body.override_reason"
    assert "numbers" in problem["errors"][0]["reason"]
    assert unit_of(client, "do_flagged")["status"] == "machine_translated"  # nothing changed

    reason = "the year is given in the course's description"
    approved = client.post(f"/v1/translation/units/{flagged['id']}/approve", json={"override_reason": reason})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    history = client.get(f"/v1/translation/units/{flagged['id']}").json()["history"]
    assert history[-1]["action"] == "approved" and history[-1]["actor"] == "reviewer"
    assert reason in history[-1]["note"] and "numbers" in history[-1]["note"]
    with session_scope(small_kcm_engine) as session:
        origin = session.scalar(
            select(TranslationMemoryRow.origin).where(TranslationMemoryRow.source_text == flagged["source_text"])
        )
    assert origin == "approved-override"


def test_an_overridden_approval_warns_wherever_it_is_reused(client: TestClient, small_kcm_engine: Engine, tmp_path):
    flagged = unit_of(client, "do_flagged")
    client.post(f"/v1/translation/units/{flagged['id']}/approve", json={"override_reason": "checked by hand"})

    # Another course with the same title: the memory drafts it, and the draft carries the warning.
    lines = '{"identifier": "do_again", "name": "Public Procurement on GeM in 2024"}\n'
    (tmp_path / "again.jsonl").write_text(lines, encoding="utf-8")
    from models import ingest_file

    ingest_file(small_kcm_engine, "courses", tmp_path / "again.jsonl")
    run_translation_job(small_kcm_engine, ["hi"], ["name"], course_ids=["do_again"], mt=DictionaryEngine())
    again = unit_of(client, "do_again")
    assert again["draft_source"] == "memory"
    assert {"check": "memory-warning", "severity": "warning"}.items() <= again["flags"][-1].items()
    detail = client.get(f"/v1/translation/units/{again['id']}").json()
    assert detail["memory_matches"][0]["warning"] == "approved over an error flag: check it before reuse"


def test_a_fixed_text_is_checked_afresh_and_warnings_do_not_block(client: TestClient):
    flagged = unit_of(client, "do_flagged")
    fixed = client.post(f"/v1/translation/units/{flagged['id']}/approve", json={"text": "2024 में GeM पर सार्वजनिक खरीद"})
    assert fixed.status_code == 200, fixed.text
    assert not [f for f in fixed.json()["flags"] if f["severity"] == "error"]

    clean = unit_of(client, "do_clean")
    assert client.post(f"/v1/translation/units/{clean['id']}/approve").status_code == 200


def test_a_memory_draft_says_so_and_a_machine_draft_names_its_engine(client: TestClient):
    memory, machine = unit_of(client, "do_memory"), unit_of(client, "do_clean")
    assert (memory["draft_source"], memory["engine"]) == ("memory", "memory")
    assert (machine["draft_source"], machine["engine"]) == ("machine", "test-dictionary")


def test_the_history_shows_each_change_word_by_word(client: TestClient):
    unit = unit_of(client, "do_clean")  # drafted "फ्रंट डेस्क पर सहानुभूति"
    edited = client.post(f"/v1/translation/units/{unit['id']}/edit", json={"text": "सामने की मेज़ पर सहानुभूति"})
    assert edited.status_code == 200, edited.text
    history = client.get(f"/v1/translation/units/{unit['id']}").json()["history"]
    edit = history[-1]
    assert edit["action"] == "edited"
    assert (edit["before"], edit["text"]) == ("फ्रंट डेस्क पर सहानुभूति", "सामने की मेज़ पर सहानुभूति")
    assert [(part["op"], part["text"]) for part in edit["diff"]] == [
        ("delete", "फ्रंट डेस्क "),
        ("insert", "सामने की मेज़ "),
        ("equal", "पर सहानुभूति"),
    ]


def test_the_review_page_blocks_an_error_and_takes_an_override_reason(client: TestClient, keys: Keys):
    flagged = unit_of(client, "do_flagged")
    client.headers.clear()
    login = client.get("/review/login")
    csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
    signed_in = client.post("/review/login", data={"key": keys.reviewer, "csrf": csrf}, follow_redirects=True)
    assert signed_in.status_code == 200
    page = client.get(f"/review/units/{flagged['id']}")
    assert 'id="blocked"' in page.text and 'name="override"' in page.text
    form_csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    refused = client.post(f"/review/units/{flagged['id']}", data={"action": "approve", "csrf": form_csrf})
    assert refused.status_code == 409 and "block approval" in refused.text
    done = client.post(
        f"/review/units/{flagged['id']}",
        data={"action": "approve", "override": "the year is in the description", "csrf": form_csrf},
        follow_redirects=True,
    )
    assert done.status_code == 200 and f"Approved unit {flagged['id']}" in done.text  # on the next unit now
    history = client.get(f"/review/units/{flagged['id']}")
    assert "the year is in the description" in history.text


def test_an_import_cannot_approve_a_text_with_an_error_flag(small_kcm_engine: Engine, keys: Keys):
    import csv
    import io

    from models import IngestRejectedError
    from translation import export_units, import_units

    with session_scope(small_kcm_engine) as session:
        exported = export_units(session, "hi", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8"))))
    for row in rows:
        row["status"] = "approved"  # a translator marks every unit approved, the flagged one unchanged
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    flagged_line = 2 + next(i for i, row in enumerate(rows) if "2024" in row["source"])
    with session_scope(small_kcm_engine) as session, pytest.raises(IngestRejectedError) as rejected:
        import_units(session, out.getvalue().encode("utf-8"), "csv", "hi.csv", reviewer="translator")
    (problem,) = rejected.value.problems
    assert (problem.line, problem.field) == (flagged_line, "target")
    assert "block approval" in problem.reason and "numbers" in problem.reason
