"""`karmayogi index build`, `search` and `eval retrieval` as a portal team uses them, with the real encoders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Run, write_jsonl

pytestmark = pytest.mark.slow

COURSES = [
    ("do_1", "Noting and Drafting in Government", "Writing notes on files and drafting letters.", ["FUN-02-01"]),
    ("do_2", "e-Office for Dealing Hands", "Creating and moving electronic files in e-Office.", ["FUN-02-02"]),
    ("do_3", "Procurement Essentials on GeM", "Buying goods and services on the Government e-Marketplace.", []),
    ("do_4", "Empathy at the Front Desk", "Listening to citizens and responding with care.", ["BEH-01-01"]),
    ("do_5", "Handling Public Grievances", "Registering, tracking and resolving grievances on CPGRAMS.", []),
    ("do_6", "सूचना का अधिकार अधिनियम", "सूचना का अधिकार अधिनियम, 2005 के अंतर्गत आवेदनों का निपटारा।", []),
]


def course_line(identifier: str, name: str, description: str, competencies: list[str], **extra) -> dict:
    language = ["hi"] if identifier == "do_6" else ["en"]
    return {
        "identifier": identifier,
        "name": name,
        "description": description,
        "languages": language,
        "duration_seconds": 3600,
        "organisations": ["ISTM"],
        "competencies": [{"competency_id": c} for c in competencies],
    } | extra


@pytest.fixture
def catalog(karmayogi: Run, tmp_path: Path) -> Path:
    courses = write_jsonl(tmp_path / "courses.jsonl", [course_line(*c) for c in COURSES])
    for args in (
        ("db", "upgrade"),
        ("ingest", "competencies", str(FIXTURES / "kcm_small.json")),
        ("ingest", "courses", str(courses)),
    ):
        assert karmayogi(*args).exit_code == 0
    return courses


def test_build_then_search_in_english_and_hindi_then_a_batch(karmayogi: Run, catalog: Path, tmp_path: Path):
    built = karmayogi("index", "build")
    assert built.exit_code == 0, built.output
    # Per English course: its passage with its tokens (one forward pass) and its sentences (title, description,
    # competencies: 2 or 3); per course: its multilingual passage.
    assert "indexed 6 courses in" in built.output and "27 texts encoded" in built.output
    found = karmayogi("search", "how to draft a note on a file", "--json", "--top-k", "3")
    assert found.exit_code == 0, found.output
    answer = json.loads(found.stdout)
    assert answer["query"] == "how to draft a note on a file"
    assert answer["results"][0]["identifier"] == "do_1" and len(answer["results"]) == 3
    hindi = json.loads(karmayogi("search", "सरकारी ई-मार्केटप्लेस पर खरीद", "--json", "--language", "en").stdout)
    assert hindi["results"][0]["identifier"] == "do_3"
    table = karmayogi("search", "grievances")
    assert table.exit_code == 0 and "Handling Public Grievances" in table.output
    queries = write_jsonl(tmp_path / "queries.txt", [])
    queries.write_text("electronic files\n\nbuying on GeM\n", encoding="utf-8")
    batch = karmayogi("search", "--batch", str(queries), "--json", "-k", "1")
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [(line["query"], line["results"][0]["identifier"]) for line in lines] == [
        ("electronic files", "do_2"),
        ("buying on GeM", "do_3"),
    ]


def test_a_changed_catalog_is_detected_and_a_rebuild_re_embeds_only_the_changed_course(
    karmayogi: Run, catalog: Path, tmp_path: Path
):
    assert karmayogi("search", "anything").exit_code == 4  # nothing built yet
    assert "karmayogi index build" in karmayogi("search", "anything").output
    assert karmayogi("index", "build", "--multilingual-encoder", "none").exit_code == 0
    edited = course_line("do_5", "Handling Public Grievances", "Resolving grievances on CPGRAMS within 30 days.", [])
    assert karmayogi("ingest", "courses", str(write_jsonl(tmp_path / "edit.jsonl", [edited]))).exit_code == 0
    stale = karmayogi("search", "grievances", "--multilingual-encoder", "none")
    assert stale.exit_code == 4 and "stale" in stale.output and "karmayogi index build" in stale.output
    rebuilt = karmayogi("index", "build", "--multilingual-encoder", "none")
    assert "2 texts encoded" in rebuilt.output  # the edited passage with its tokens, and its changed sentence
    other_encoder = karmayogi("search", "grievances", "--encoder", "e5", "--multilingual-encoder", "none")
    assert other_encoder.exit_code == 4 and "was built with dense encoder" in other_encoder.output


def test_eval_retrieval_ignores_skills_at_ingest_and_prints_every_method(karmayogi: Run, tmp_path: Path):
    rows = [
        {"identifier": f"c{n}", "name": name, "description": text, "organisation": "Uni", "skills": skills}
        for n, (name, text, skills) in enumerate(
            [
                ("Python for Everybody", "Variables, loops and functions in Python.", ["Python", "Programming"]),
                ("Data Analysis with Python", "Pandas and NumPy for data.", ["Python", "Data Analysis"]),
                ("Excel Skills", "Spreadsheets, formulas and pivot tables.", ["Data Analysis"]),
                ("Negotiation", "Preparing and closing a deal.", ["Communication"]),
                ("Public Speaking", "Speaking with confidence to an audience.", ["Communication"]),
                ("Java Programming", "Classes and objects in Java.", ["Programming"]),
            ]
        )
    ]
    result = karmayogi(
        "eval",
        "retrieval",
        "--courses",
        str(write_jsonl(tmp_path / "external.jsonl", rows)),
        "--min-courses",
        "2",
        "--multilingual-encoder",
        "none",
        "--json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["queries"] == 4
    methods = {m["method"]: m["scores"]["all"] for m in report["methods"]}
    assert {"BM25 (bm25s, English stopwords, Snowball stems)", "dense minilm", "RRF(BM25, minilm)"} <= set(methods)
    assert any(name.endswith("(default)") for name in methods)
    assert all(0.0 <= s["nDCG@10"] <= 1.0 and set(s) == {"nDCG@10", "Recall@10", "MRR"} for s in methods.values())
    assert methods["dense minilm"]["nDCG@10"] > 0.6
    missing = karmayogi("eval", "retrieval", "--courses", str(write_jsonl(tmp_path / "none.jsonl", rows[:1])))
    assert missing.exit_code == 2 and "no skill occurs in 5 or more courses" in missing.output
