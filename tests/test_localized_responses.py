"""Localized responses: each course's `display` (native, approved translation, original) read fresh per response,
and the reason in the learner's language from the message catalog (Hindi; English for languages without one), over
real HTTP on SQLite and PostgreSQL, and in the CLI."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from api.app import create_app
from models import ingest_file, session_scope
from models.display import approved_texts, course_displays
from models.tables import CourseRow
from recommender.explain import Explanation, GapEvidence, Signal
from recommender.messages import LOCALE_DIR, catalog_path, message_languages, reason_language
from tests.api_helpers import DictionaryEngine, Keys, make_keys, make_services
from tests.conftest import FIXTURES, write_jsonl
from tests.test_ingest import ROLE
from translation import approve_unit, reject_unit, run_translation_job
from translation.review import find_unit

NOTING = "Noting and Drafting"
NOTING_HI = "टिप्पण और प्रारूपण पर पाठ्यक्रम"
DESCRIPTION = "How to write a note on a file."
DESCRIPTION_HI = "फ़ाइल पर टिप्पणी कैसे लिखें।"
COURSES = [
    {  # English; its Hindi name gets approved, its description stays a machine draft
        "identifier": "do_noting",
        "name": NOTING,
        "description": DESCRIPTION,
        "languages": ["en"],
        "rating": 4.4,
        "rating_count": 1377,
        "competencies": [{"competency_id": "FUN-02-01", "level": 3}],
    },
    {  # offered in Hindi: native for a Hindi reader
        "identifier": "do_hindi",
        "name": "टिप्पण लेखन",
        "description": "फ़ाइल पर टिप्पण।",
        "languages": ["hi"],
        "competencies": [{"competency_id": "FUN-02-01", "level": 3}],
    },
    {  # English, never translated: the original for a Hindi reader
        "identifier": "do_memo",
        "name": "Drafting Office Memoranda",
        "description": "Office memoranda, step by step.",
        "languages": ["en"],
        "competencies": [{"competency_id": "FUN-02-01", "level": 3}],
    },
]
LEARNERS = [
    {"id": "L-HI", "roles": ["ROLE-DOPT-SO"], "preferred_languages": ["hi", "en"],
     "competencies": [{"competency_id": "FUN-02-01", "level": 2, "source": "assessed"}]},
    {"id": "L-TA", "roles": ["ROLE-DOPT-SO"], "preferred_languages": ["ta", "en"],
     "competencies": [{"competency_id": "FUN-02-01", "level": 2, "source": "assessed"}]},
]  # fmt: skip
MT = {NOTING: NOTING_HI, DESCRIPTION: DESCRIPTION_HI, "Drafting Office Memoranda": "कार्यालय ज्ञापन"}


def load_catalog(engine: Engine, folder: Path) -> None:
    """The small KCM, a role, three courses, two learners, and Hindi machine drafts of do_noting's two fields."""
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    ingest_file(engine, "roles", write_jsonl(folder / "roles.jsonl", [ROLE]))
    ingest_file(engine, "courses", write_jsonl(folder / "courses.jsonl", COURSES))
    ingest_file(engine, "learners", write_jsonl(folder / "learners.jsonl", LEARNERS))
    run_translation_job(engine, ["hi"], ["name", "description"], course_ids=["do_noting"], mt=DictionaryEngine(MT))


def approve(engine: Engine, course_id: str, field: str, language: str = "hi") -> None:
    """As a reviewer does it (the review workflow's own function)."""
    with session_scope(engine) as session:
        unit = find_unit(session, course_id, field, language)
        assert unit is not None and unit.status == "machine_translated", unit
        approve_unit(session, unit.id, "reviewer", override_reason="the test's dictionary drafts stand for any text")


@pytest.fixture
def catalog(engine: Engine, tmp_path: Path) -> Engine:
    load_catalog(engine, tmp_path)
    return engine


@pytest.fixture
def served(catalog: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Keys]]:
    keys = make_keys(catalog)
    with TestClient(create_app(services=make_services(catalog, tmp_path / "home"))) as client:
        client.headers.update(keys.header("portal"))
        yield client, keys


def by_id(items: list[dict]) -> dict[str, dict]:
    return {item["course_id"]: item for item in items}


# --- the rule, on the database -------------------------------------------------------------------------------


def test_a_field_counts_on_its_own_and_only_approved_text_of_the_present_source_is_shown(catalog: Engine):
    ids = ["do_noting", "do_hindi", "do_memo"]
    with session_scope(catalog) as session:
        before = course_displays(session, ids, ["hi", "en"])
    assert before["do_noting"].source == "native" and before["do_noting"].language == "en"  # drafts do not count
    assert before["do_hindi"].model_dump() == {
        "name": "टिप्पण लेखन",
        "description": "फ़ाइल पर टिप्पण।",
        "language": "hi",
        "source": "native",
        "translated_fields": [],
    }

    approve(catalog, "do_noting", "name")
    with session_scope(catalog) as session:
        hindi = course_displays(session, ids, ["hi", "en"])
        tamil = course_displays(session, ids, ["ta"])
        nothing = course_displays(session, ids, [])
    assert hindi["do_noting"].model_dump() == {
        "name": NOTING_HI,
        "description": DESCRIPTION,  # still a machine draft: the original text
        "language": "hi",
        "source": "translation",
        "translated_fields": ["name"],
    }
    assert (hindi["do_memo"].source, hindi["do_memo"].language) == ("native", "en")  # English comes second
    assert {d.source for d in tamil.values()} == {"original"}
    assert (tamil["do_hindi"].language, tamil["do_noting"].language, tamil["do_noting"].name) == ("hi", "en", NOTING)
    assert {d.source for d in nothing.values()} == {"original"}

    approve(catalog, "do_noting", "description")
    with session_scope(catalog) as session:
        both = course_displays(session, ["do_noting"], ["hi"])["do_noting"]
    assert (both.description, both.translated_fields) == (DESCRIPTION_HI, ["name", "description"])

    # The English name is edited: the approved Hindi name was made from the old text and is not shown.
    with session_scope(catalog) as session:
        session.execute(update(CourseRow).where(CourseRow.identifier == "do_noting").values(name="Noting, Drafting"))
    with session_scope(catalog) as session:
        stale = course_displays(session, ["do_noting"], ["hi"])["do_noting"]
        assert approved_texts(session, ["do_noting", "do_unknown"], ["hi"]).keys() == {"do_noting"}
    assert (stale.name, stale.description, stale.translated_fields) == (
        "Noting, Drafting",
        DESCRIPTION_HI,
        ["description"],
    )

    with session_scope(catalog) as session:
        unit = find_unit(session, "do_noting", "description", "hi")
        assert unit is not None
        reject_unit(session, unit.id, "reviewer", "wrong register")
    with session_scope(catalog) as session:
        assert course_displays(session, ["do_noting"], ["hi"])["do_noting"].source == "original"


# --- over HTTP ----------------------------------------------------------------------------------------------------


def test_an_approval_shows_in_a_hindi_learners_recommendations_at_the_next_request(served, catalog: Engine):
    client, _ = served
    before = by_id(client.get("/v1/learners/L-HI/recommendations").json()["items"])
    assert before["do_noting"]["display"]["name"] == NOTING
    assert before["do_noting"]["display"]["source"] == "native"

    approve(catalog, "do_noting", "name")  # no reload, no restart

    body = client.get("/v1/learners/L-HI/recommendations").json()
    items = by_id(body["items"])
    noting = items["do_noting"]
    assert noting["name"] == NOTING  # the original field stays as stored
    assert noting["display"] == {
        "name": NOTING_HI,
        "description": DESCRIPTION,
        "language": "hi",
        "source": "translation",
        "translated_fields": ["name"],
    }
    assert (items["do_hindi"]["display"]["source"], items["do_hindi"]["display"]["language"]) == ("native", "hi")
    assert (items["do_memo"]["display"]["source"], items["do_memo"]["display"]["language"]) == ("native", "en")
    # The reason is Hindi, with the glossary's Hindi competency name and numbers for the hi locale.
    assert noting["reason"].startswith("टिप्पण और प्रारूपण 2→3 (स्तर 3 पर टैग किया गया)"), noting["reason"]
    assert "1,377 शिक्षार्थियों ने 4.4 रेटिंग दी" in noting["reason"]
    assert "हिन्दी में" in items["do_hindi"]["reason"]
    # The structured reasons stay as they are.
    assert noting["explanation"]["gaps"][0]["competency"] == "Noting and Drafting"

    english = by_id(client.get("/v1/learners/L-HI/recommendations", params={"lang": "en"}).json()["items"])
    assert english["do_noting"]["display"]["source"] == "native"
    assert english["do_noting"]["reason"].startswith("Noting and Drafting 2→3 (tagged at level 3)")
    assert "rated 4.4 by 1,377" in english["do_noting"]["reason"]


def test_a_tamil_reader_gets_english_reasons_and_original_texts(served, catalog: Engine):
    client, _ = served
    approve(catalog, "do_noting", "name")
    items = by_id(client.get("/v1/learners/L-TA/recommendations").json()["items"])
    assert items["do_noting"]["display"]["source"] == "native"  # Tamil: nothing; English, its second language
    assert items["do_noting"]["reason"].startswith("Noting and Drafting 2→3 (tagged at level 3)")
    inline = client.post(
        "/v1/recommendations",
        json={"roles": ["ROLE-DOPT-SO"], "levels": {"FUN-02-01": 2}, "preferred_languages": ["ta"], "k": 5},
    ).json()
    shown = by_id(inline["items"])
    assert shown["do_noting"]["display"]["source"] == "original"
    assert shown["do_hindi"]["display"]["language"] == "hi"
    assert shown["do_noting"]["reason"].endswith("not in your preferred languages; rated 4.4 by 1,377")
    hindi = client.post("/v1/recommendations", json={"roles": ["ROLE-DOPT-SO"], "preferred_languages": ["ta", "hi"]})
    assert by_id(hindi.json()["items"])["do_noting"]["display"]["name"] == NOTING_HI
    assert "स्तर 3 पर टैग किया गया" in by_id(hindi.json()["items"])["do_noting"]["reason"]  # the first with a catalog


def test_paths_and_the_catalog_carry_the_display(served, catalog: Engine):
    client, _ = served
    approve(catalog, "do_noting", "name")
    path = client.get("/v1/learners/L-HI/path").json()
    assert path["steps"] and all("display" in step for step in path["steps"])
    for step in path["steps"]:
        if step["course_id"] == "do_noting":
            assert step["display"]["name"] == NOTING_HI
    assert path["total_duration_seconds"] >= 0
    assert set(path["steps"][0]["closes"][0]) == {"competency_id", "competency", "level"}

    one = client.get("/v1/courses/do_noting", params={"lang": "hi"}).json()
    assert (one["name"], one["display"]["name"], one["display"]["source"]) == (NOTING, NOTING_HI, "translation")
    plain = client.get("/v1/courses/do_noting").json()["display"]
    assert (plain["name"], plain["language"], plain["source"]) == (NOTING, "en", "original")
    page = by_id_courses(client.get("/v1/courses", params={"lang": "hi"}).json()["items"])
    assert page["do_noting"]["display"]["source"] == "translation"
    assert page["do_hindi"]["display"]["source"] == "native"
    assert page["do_memo"]["display"]["source"] == "original"


def by_id_courses(items: list[dict]) -> dict[str, dict]:
    return {item["course_id"]: item for item in items}


# --- the CLI --------------------------------------------------------------------------------------------------


def test_the_cli_shows_display_names_and_hindi_reasons(catalog: Engine, tmp_path: Path, monkeypatch):
    approve(catalog, "do_noting", "name")
    monkeypatch.setenv("DATABASE_URL", catalog.url.render_as_string(hide_password=False))
    monkeypatch.setenv("KARMAYOGI_HOME", str(tmp_path / "cli-home"))
    from api.cli import app

    def karmayogi(*args: str):
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result

    learner = karmayogi("recommend", "--learner", "L-HI", "--no-semantic").output
    assert NOTING_HI in learner and NOTING in learner  # the display name, the original below it
    assert "टिप्पण और प्रारूपण 2→3 (स्तर 3 पर टैग किया गया)" in learner
    inline = karmayogi("recommend", "--role", "ROLE-DOPT-SO", "--level", "FUN-02-01=2", "--language", "hi",
                       "--no-semantic", "--json").stdout  # fmt: skip
    items = by_id(json.loads(inline)["items"])
    assert items["do_noting"]["display"]["name"] == NOTING_HI
    assert "स्तर 3 पर टैग किया गया" in items["do_noting"]["reason"]
    english = karmayogi("recommend", "--learner", "L-HI", "--language", "en", "--no-semantic").output
    assert "tagged at level 3" in english and NOTING_HI not in english
    tamil = karmayogi("recommend", "--learner", "L-TA", "--no-semantic").output
    assert "tagged at level 3" in tamil
    path = json.loads(karmayogi("path", "--learner", "L-HI", "--no-semantic", "--json").stdout)
    assert all("display" in step for step in path["steps"])


# --- the message catalog ----------------------------------------------------------------------------------------


def test_every_catalog_translates_every_message_of_the_code_with_the_same_placeholders():
    extracted = {
        message if isinstance(message, str) else message[0]
        for _, message, _, _ in extract_from_file("python", Path("recommender/explain.py"))
    }
    with (LOCALE_DIR / "reasons.pot").open("rb") as handle:
        template = {
            message.id if isinstance(message.id, str) else message.id[0] for message in read_po(handle) if message.id
        }
    assert template == extracted, "regenerate recommender/locale/reasons.pot with pybabel extract"
    assert {"en", "hi"} <= message_languages()
    for language in message_languages() - {"en"}:
        with catalog_path(language).open("rb") as handle:
            catalog = read_po(handle, locale=language)
        messages = [message for message in catalog if message.id]
        assert {m.id if isinstance(m.id, str) else m.id[0] for m in messages} == template, language
        for message in messages:
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = [message.string] if isinstance(message.string, str) else list(message.string)
            assert all(strings), (language, message.id)
            wanted = placeholders(ids[0])
            assert all(placeholders(text) == wanted for text in strings), (language, message.id)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_reasons_fall_back_to_english_and_format_numbers_for_the_locale():
    explanation = Explanation(
        gaps=(GapEvidence("FUN-02-01", "Noting and Drafting", 1, 2, "semantic", None, 0.6234, 0.4, 0.2),),
        signals=(
            Signal("popular_in_department", "taken by 1 in DoPT", 1, "DoPT"),
            Signal("highly_rated", "highly rated (4.3 adjusted)", 4.31),
        ),
        language="ta",
        language_source="translated",
        rating=3.5,
        rating_count=123456,
    )
    english = "Noting and Drafting 1→2 (semantic match 0.62); taken by 1 in DoPT; highly rated (4.3 adjusted); "
    assert explanation.summary() == english + "in Tamil (approved translation); rated 3.5 by 1,23,456"
    assert explanation.summary("ta") == explanation.summary("en")
    assert explanation.summary("hi") == (
        "Noting and Drafting 1→2 (अर्थ से मिलान 0.62); DoPT में 1 व्यक्ति ने लिया; उच्च रेटिंग (4.3, समायोजित); "
        "तमिल में (स्वीकृत अनुवाद); 1,23,456 शिक्षार्थियों ने 3.5 रेटिंग दी"
    )
    assert reason_language(["ta", "hi", "en"]) == "hi"
    assert reason_language(["ta", "en", "hi"]) == "en"
    assert reason_language(["ta"]) == "en"
