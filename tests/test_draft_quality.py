"""How good the drafts were (issue 15, item 11): a seeded review (one memory draft approved as it was, one machine
draft edited then approved, one rejected, at known times) gives exact figures per language × field × engine, over
the API and on the review page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.app import create_app
from models import session_scope
from models.tables import TranslationHistoryRow, TranslationUnitRow
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services, translated_catalog
from translation import approve_unit, edit_unit, reject_unit

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
# Seconds from each unit's draft to the reviewer's decision.
WAITS = {"do_memory": 30, "do_clean": 200, "do_flagged": 100}
EDITED = "सामने की मेज़ पर सहानुभूति"  # the reviewer's text for the draft "फ्रंट डेस्क पर सहानुभूति"


def seed_review(engine: Engine) -> None:
    with session_scope(engine) as session:
        ids = {row.course_id: row.id for row in session.scalars(select(TranslationUnitRow))}
        approve_unit(session, ids["do_memory"], "asha")
        edit_unit(session, ids["do_clean"], EDITED, "asha")
        approve_unit(session, ids["do_clean"], "asha")
        reject_unit(session, ids["do_flagged"], "ravi", "the year is missing")
    with session_scope(engine) as session:
        for course, unit_id in ids.items():
            for entry in session.scalars(select(TranslationHistoryRow).where(TranslationHistoryRow.unit_id == unit_id)):
                if entry.action == "machine_translated":
                    entry.at = START
                elif entry.action in ("approved", "rejected"):
                    entry.at = START + timedelta(seconds=WAITS[course])
                elif entry.action == "edited":
                    entry.at = START + timedelta(seconds=WAITS[course] / 2)


@pytest.fixture
def client(small_kcm_engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Keys]]:
    translated_catalog(small_kcm_engine, tmp_path)
    keys = make_keys(small_kcm_engine)
    seed_review(small_kcm_engine)
    services = make_services(small_kcm_engine, tmp_path, mt=DictionaryEngine())
    with TestClient(create_app(services=services)) as test_client:
        yield test_client, keys


EXPECTED = [
    {
        "language": "hi",
        "field": "name",
        "engine": "memory",
        "units": 1,
        "decided": 1,
        "approved": 1,
        "rejected": 0,
        "edited": 0,
        "approval_rate": 1.0,
        "rejection_rate": 0.0,
        "edited_share": 0.0,
        "chrf": 100.0,
        "edit_distance": 0.0,
        "median_review_seconds": 30.0,
    },
    {
        "language": "hi",
        "field": "name",
        "engine": "test-dictionary",
        "units": 2,
        "decided": 2,
        "approved": 1,
        "rejected": 1,
        "edited": 1,
        "approval_rate": 0.5,
        "rejection_rate": 0.5,
        "edited_share": 1.0,
        "chrf": 42.9569,  # sacrebleu chrF++ of the draft against EDITED, to the API's 4 decimals
        "edit_distance": 12.0,  # characters (code points) changed
        "median_review_seconds": 150.0,  # the median of 200 s and 100 s
    },
]


def test_the_draft_quality_route_gives_the_exact_figures_of_a_seeded_review(client):
    test_client, keys = client
    response = test_client.get("/v1/translation/quality", params={"language": "hi"}, headers=keys.header("reviewer"))
    assert response.status_code == 200, response.text
    assert response.json() == EXPECTED
    assert (
        test_client.get("/v1/translation/quality", params={"language": "ta"}, headers=keys.header("reviewer")).json()
        == []
    )
    assert test_client.get("/v1/translation/quality", headers=keys.header("portal")).status_code == 403


def test_the_draft_quality_page_shows_the_same_figures(client):
    test_client, keys = client
    login = test_client.get("/review/login")
    csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
    test_client.post("/review/login", data={"key": keys.reviewer, "csrf": csrf})
    page = test_client.get("/review/quality?language=hi")
    assert page.status_code == 200
    table = page.text.split('id="quality"')[1]
    for figure in ("test-dictionary", "50%", "100%", "43.0", "12.0", "150 s", "30 s"):
        assert figure in table, figure
