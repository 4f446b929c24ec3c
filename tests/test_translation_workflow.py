"""The review workflow, bulk jobs (including an interrupted one), the memory and XLIFF/CSV/TMX round trips,
on real databases."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from models import IngestRejectedError, NotFoundError, ingest_file, session_scope
from models.tables import TranslationHistoryRow, TranslationJobRow, TranslationMemoryRow, TranslationUnitRow
from translation import (
    Glossary,
    IllegalTransitionError,
    Term,
    TranslationMemory,
    UnknownUnitError,
    approve_unit,
    bulk_approve_clean,
    edit_unit,
    export_memory,
    export_units,
    get_unit,
    import_memory,
    import_units,
    list_units,
    load_memory,
    memory_matches,
    reject_unit,
    run_translation_job,
    seed_memory,
)
from translation.languages import TranslationLanguage
from translation.store import read_parallel_file, remember

COURSES = [
    {"identifier": "do_memory", "name": "Noting and Drafting", "description": "This course explains the basics."},
    {"identifier": "do_numbers", "name": "GFR 2017 for Section Officers", "description": ""},
    {"identifier": "do_hindi", "name": "सरकारी कार्यालयों में टिप्पण", "languages": ["hi"]},
]
for number in range(1, 8):
    COURSES.append({"identifier": f"do_bulk_{number}", "name": f"Office Skills Part {number}", "description": ""})


class FakeEngine:
    """Stands in for a model: a fixed Hindi rendering that carries every protected token across."""

    name = "fake-mt"
    wants_protected_text = True

    def __init__(self) -> None:
        self.calls = 0

    def translate(
        self, segments: Sequence[str], source: TranslationLanguage, target: TranslationLanguage
    ) -> list[str | None]:
        self.calls += 1
        return [" ".join(["अनुवादित", "पाठ", *re.findall(r"<\d+>", segment)]) + "।" for segment in segments]


def load_courses(engine: Engine, folder: Path, courses: list[dict] = COURSES) -> None:
    path = folder / "courses.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in courses), encoding="utf-8")
    ingest_file(engine, "courses", path)


def units(engine: Engine) -> list[TranslationUnitRow]:
    with session_scope(engine) as session:
        return list(session.scalars(select(TranslationUnitRow).order_by(TranslationUnitRow.id)))


def unit_for(engine: Engine, course_id: str, field: str = "name", language: str = "hi") -> int:
    return next(u.id for u in units(engine) if (u.course_id, u.field, u.language) == (course_id, field, language))


@pytest.fixture
def catalog(sqlite_engine: Engine, tmp_path: Path) -> Engine:
    load_courses(sqlite_engine, tmp_path)
    with session_scope(sqlite_engine) as session:
        remember(session, "Noting and Drafting", "टिप्पण और प्रारूपण", "hi", origin="seed")
    return sqlite_engine


def test_units_are_stored_and_read_back_on_sqlite_and_postgresql(engine: Engine, tmp_path: Path):
    load_courses(engine, tmp_path)
    with session_scope(engine) as session:
        remember(session, "Noting and Drafting", "टिप्पण और प्रारूपण", "hi", origin="seed")
    report = run_translation_job(engine, ["hi", "ta"], ["name", "description"], mt=FakeEngine(), batch_size=4)

    # 9 English courses: 9 names + 1 description, in two languages; the Hindi course is not a source.
    assert (report.created, report.not_english, report.from_memory, report.machine_translated) == (20, 2, 1, 19)
    with session_scope(engine) as session:
        hindi = list_units(session, language="hi")
        assert len(hindi) == 10 and {u.status for u in hindi} == {"machine_translated"}
        memory_unit = next(u for u in hindi if u.course_id == "do_memory" and u.field == "name")
        assert (memory_unit.text, memory_unit.engine, memory_unit.memory_score) == ("टिप्पण और प्रारूपण", "memory", 100.0)
        numbers = next(u for u in hindi if u.course_id == "do_numbers")
        assert numbers.text == "अनुवादित पाठ GFR 2017।"  # the acronym and the number came through the model
        assert numbers.engine == "fake-mt"
        tamil = list_units(session, language="ta", flag="script")
        assert tamil and all(any(f["check"] == "script" for f in u.flags) for u in tamil)  # Hindi text is no Tamil
        detail = get_unit(session, memory_unit.id)
        assert [h.action for h in detail.history] == ["created", "machine_translated"]
        approved = approve_unit(session, memory_unit.id, "asha")
        assert approved.status == "approved" and approved.reviewer == "asha"
    with session_scope(engine) as session:
        assert [h.action for h in get_unit(session, memory_unit.id).history][-1] == "approved"
        job = session.scalars(select(TranslationJobRow)).one()
        assert job.status == "finished" and job.report["created"] == 20


def test_a_job_interrupted_after_some_batches_finishes_every_unit_exactly_once(catalog: Engine):
    batches = 0

    def crash_after_two_batches(_: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise KeyboardInterrupt  # like Ctrl-C; a kill -9 leaves the same state: committed batches only

    with pytest.raises(KeyboardInterrupt):
        run_translation_job(catalog, ["hi"], ["name"], mt=FakeEngine(), batch_size=3, progress=crash_after_two_batches)
    assert len(units(catalog)) == 6  # two committed batches of three

    report = run_translation_job(catalog, ["hi"], ["name"], mt=FakeEngine(), batch_size=3)
    assert report.resumed and (report.already_done, report.created) == (6, 3)
    keys = [(u.course_id, u.field, u.language) for u in units(catalog)]
    assert len(keys) == len(set(keys)) == 9
    with session_scope(catalog) as session:
        jobs = list(session.scalars(select(TranslationJobRow)))
        assert [job.status for job in jobs] == ["finished"]  # the resumed job is the same job
        history = session.scalar(select(func.count()).select_from(TranslationHistoryRow))
        assert history == 9 * 2  # created + machine_translated, never twice

    again = run_translation_job(catalog, ["hi"], ["name"], mt=FakeEngine(), batch_size=3)
    assert not again.resumed and again.already_done == 9 and again.created == 0


def test_without_a_model_memory_matches_are_drafts_and_the_rest_is_queued(catalog: Engine):
    report = run_translation_job(catalog, ["hi"], ["name", "description"])
    assert (report.from_memory, report.machine_translated, report.queued) == (1, 0, 9)
    with session_scope(catalog) as session:
        assert len(list_units(session, "hi", "untranslated")) == 9

    # A model configured later picks up the queue; the memory draft is left alone.
    engine = FakeEngine()
    later = run_translation_job(catalog, ["hi"], ["name", "description"], mt=engine)
    assert (later.already_done, later.machine_translated, later.queued) == (1, 9, 0)


def test_fuzzy_memory_matches_are_used_when_asked_and_carry_their_score(catalog: Engine, tmp_path: Path):
    load_courses(catalog, tmp_path, [{"identifier": "do_fuzzy", "name": "Noting & Drafting"}])
    report = run_translation_job(catalog, ["hi"], ["name"], course_ids=["do_fuzzy"], fuzzy_min_score=85)
    assert report.fuzzy == 1
    with session_scope(catalog) as session:
        (unit,) = list_units(session, "hi", course_id="do_fuzzy")
        assert unit.engine == "memory-fuzzy" and 85 <= unit.memory_score < 100 and unit.text == "टिप्पण और प्रारूपण"
    with pytest.raises(NotFoundError, match="do_missing"):
        run_translation_job(catalog, ["hi"], ["name"], course_ids=["do_missing"])
    with pytest.raises(ValueError, match=r"unknown field.*keywords.*translatable fields: name, description"):
        run_translation_job(catalog, ["hi"], ["keywords"])


def test_a_changed_english_source_makes_units_stale_and_keeps_the_approved_text(catalog: Engine, tmp_path: Path):
    run_translation_job(catalog, ["hi"], ["name"], mt=FakeEngine())
    unit_id = unit_for(catalog, "do_bulk_1")
    with session_scope(catalog) as session:
        approve_unit(session, unit_id, "asha", text="कार्यालय कौशल भाग 1")
    load_courses(catalog, tmp_path, [{"identifier": "do_bulk_1", "name": "Office Skills Part 1 (revised)"}])

    report = run_translation_job(catalog, ["hi"], ["name"], mt=FakeEngine())
    assert report.stale == 1 and report.already_done == 8
    with session_scope(catalog) as session:
        unit = get_unit(session, unit_id)
        assert unit.status == "machine_translated" and unit.source_text == "Office Skills Part 1 (revised)"
        assert unit.edited is None and unit.reviewer is None
        old = [h for h in unit.history if h.action == "source_changed"]
        assert old[0].text == "कार्यालय कौशल भाग 1" and old[0].status == "approved"
        assert old[0].source_text == "Office Skills Part 1"
        # The approved translation of the old source stays in the memory too.
        assert load_memory(session, "hi").lookup("Office Skills Part 1").target == "कार्यालय कौशल भाग 1"


def test_review_actions_follow_the_status_rules(catalog: Engine):
    run_translation_job(catalog, ["hi"], ["name"])  # no model: one memory draft, the rest untranslated
    queued = unit_for(catalog, "do_bulk_2")
    drafted = unit_for(catalog, "do_memory")
    glossary = Glossary((Term("Office", {"hi": "कार्यालय"}),))
    with session_scope(catalog) as session:
        with pytest.raises(IllegalTransitionError, match=r"is untranslated: cannot approve it.*in_review"):
            approve_unit(session, queued, "asha")
        with pytest.raises(UnknownUnitError, match="unknown translation unit '999999'"):
            get_unit(session, 999999)
        with pytest.raises(ValueError, match="empty"):
            edit_unit(session, queued, "  ", "ravi")

        edited = edit_unit(session, queued, "दफ़्तर कौशल भाग 2", "ravi", glossary=glossary)
        assert edited.status == "in_review" and edited.text == "दफ़्तर कौशल भाग 2"
        assert [f["check"] for f in edited.flags] == ["glossary-missing"]  # checks run again on a person's text
        rejected = reject_unit(session, queued, "asha", note="use कार्यालय")
        assert (rejected.status, rejected.note) == ("rejected", "use कार्यालय")
        with pytest.raises(IllegalTransitionError):
            reject_unit(session, queued, "asha")
        assert edit_unit(session, queued, "कार्यालय कौशल भाग 2", "ravi", glossary=glossary).flags == []
        approve_unit(session, queued, "asha")
        approve_unit(session, drafted, "asha")
        actions = [h.action for h in get_unit(session, queued).history]
        assert actions == ["created", "edited", "rejected", "edited", "approved"]
    with session_scope(catalog) as session:
        memory = load_memory(session, "hi")
        assert memory.lookup("office skills  part 2").target == "कार्यालय कौशल भाग 2"  # approval feeds the memory
        assert memory_matches(session, "Office Skills Part 9", "hi")[0].target == "कार्यालय कौशल भाग 2"


def test_bulk_approval_takes_only_clean_machine_translations(catalog: Engine):
    run_translation_job(catalog, ["hi"], ["name"], mt=FakeEngine())
    with session_scope(catalog) as session:
        flagged = {u.id for u in list_units(session, "hi") if any(f["severity"] != "info" for f in u.flags)}
        approved = bulk_approve_clean(session, "hi", "asha").applied
        statuses = {u.id: u.status for u in list_units(session, "hi")}
    assert approved == len(statuses) - len(flagged) > 0
    assert all(statuses[i] == "machine_translated" for i in flagged)


def test_memory_exact_and_fuzzy_matches():
    memory = TranslationMemory([("Noting and Drafting", "टिप्पण और प्रारूपण"), ("Time Management", "समय प्रबंधन")])
    assert memory.lookup("  noting AND drafting ").score == 100.0
    assert memory.lookup("Noting") is None
    (fuzzy,) = memory.matches("Noting and Drafting Basics", limit=1, min_score=70)
    assert fuzzy.target == "टिप्पण और प्रारूपण" and 70 <= fuzzy.score < 100
    assert memory.matches("Disaster Management", min_score=90) == []
    memory.add("Time management", "समय का प्रबंधन")  # the newest approval wins
    assert len(memory) == 2 and memory.lookup("Time Management").target == "समय का प्रबंधन"


def test_the_shipped_reviewed_pairs_seed_the_memory_once(sqlite_engine: Engine, tmp_path: Path):
    from translation.store import SEED_FILES

    with session_scope(sqlite_engine) as session:
        added = seed_memory(session, SEED_FILES["hi"])
        assert added > 150 and seed_memory(session, SEED_FILES["hi"]) == 0
        assert load_memory(session, "hi").lookup("Right to Information Act, 2005").target.endswith("2005")
    bad = tmp_path / "bad.tsv"
    bad.write_text("en\thi\nGood line\tअच्छा\nno tab here\n\tखाली\n", encoding="utf-8")
    with pytest.raises(IngestRejectedError) as rejected:
        read_parallel_file(bad)
    assert [str(p) for p in rejected.value.problems] == [
        f"{bad}:3: line: expected two non-empty cells separated by a tab",
        f"{bad}:4: line: expected two non-empty cells separated by a tab",
    ]


# Exchange with translation tools


def _snapshot(engine: Engine) -> list[tuple]:
    return [(u.id, u.status, u.draft, u.edited, len(u.history)) for u in units(engine)]


def test_xliff_export_edit_import_round_trip(catalog: Engine, tmp_path: Path):
    run_translation_job(catalog, ["hi"], ["name"], mt=FakeEngine())
    with session_scope(catalog) as session:
        approve_unit(session, unit_for(catalog, "do_memory"), "asha")
        xliff = export_units(session, "hi", "xliff").decode()
    assert 'target-language="hi"' in xliff and 'id="do_bulk_3|name"' in xliff
    assert "टिप्पण और प्रारूपण" in xliff and 'approved="yes"' in xliff

    # A translator fixes two units in their tool; one of them is also marked approved there.
    edited = xliff.replace(">अनुवादित पाठ 1।</target>", ">कार्यालय कौशल भाग 1</target>")
    unit_block = re.search(r'<trans-unit[^>]*id="do_bulk_4\|name".*?</trans-unit>', edited, re.S).group()
    approved_block = unit_block.replace('approved="no"', 'approved="yes"').replace(
        ">अनुवादित पाठ 4।</target>", ">कार्यालय कौशल भाग 4</target>"
    )
    edited = edited.replace(unit_block, approved_block)
    with session_scope(catalog) as session:
        report = import_units(session, edited.encode(), "xliff", "work.xlf", reviewer="translator-1")
    assert (report.edited, report.approved) == (2, 1)
    with session_scope(catalog) as session:
        first = list_units(session, "hi", status="in_review")
        assert [(u.course_id, u.text, u.reviewer) for u in first] == [
            ("do_bulk_1", "कार्यालय कौशल भाग 1", "translator-1")
        ]
        fourth = get_unit(session, unit_for(catalog, "do_bulk_4"))
        assert (fourth.status, fourth.text) == ("approved", "कार्यालय कौशल भाग 4")
        assert load_memory(session, "hi").lookup("Office Skills Part 4").target == "कार्यालय कौशल भाग 4"


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda x: x.replace("</body>", ""), r"work\.xlf:\d+: xml: "),
        (lambda x: x.replace('id="do_bulk_3|name"', 'id="do_nowhere|name"'), r"no hi unit 'do_nowhere\|name'"),
        (lambda x: x.replace("<source>Office Skills Part 5</source>", "<source>Other</source>"), "source changed"),
        (lambda x: x.replace('target-language="hi"', 'target-language="xx"'), "unknown language 'xx'"),
    ],
    ids=["malformed", "unknown-unit", "stale-source", "bad-language"],
)
def test_a_bad_xliff_file_is_rejected_whole_and_nothing_changes(catalog: Engine, damage, problem):
    run_translation_job(catalog, ["hi"], ["name"], mt=FakeEngine())
    with session_scope(catalog) as session:
        xliff = export_units(session, "hi", "xliff").decode()
    # Every unit edited, then one thing broken: not even the good edits may land.
    broken = damage(re.sub(r"अनुवादित पाठ (\d)।</target>", r"नया अनुवाद \1</target>", xliff))
    before = _snapshot(catalog)
    with session_scope(catalog) as session, pytest.raises(IngestRejectedError) as rejected:
        import_units(session, broken.encode(), "xliff", "work.xlf", reviewer="translator-1")
    assert re.search(problem, "\n".join(str(p) for p in rejected.value.problems))
    assert _snapshot(catalog) == before


def test_csv_round_trip_and_a_bad_csv_is_rejected(catalog: Engine):
    run_translation_job(catalog, ["hi"], ["name"], mt=FakeEngine())
    with session_scope(catalog) as session:
        data = export_units(session, "hi", "csv").decode()
    lines = data.splitlines()
    assert lines[0] == "key,language,status,source,target,flags"
    fixed = "\n".join([lines[0], *[line.replace("अनुवादित पाठ", "कार्यालय कौशल") for line in lines[1:]]])
    with session_scope(catalog) as session:
        assert import_units(session, fixed.encode(), "csv", "work.csv", reviewer="t1").edited == 8
    before = _snapshot(catalog)
    bad = fixed.replace("do_bulk_2|name", "do_bulk_2|keywords")
    with session_scope(catalog) as session, pytest.raises(IngestRejectedError) as rejected:
        import_units(session, bad.encode(), "csv", "work.csv", reviewer="t1")
    assert str(rejected.value.problems[0]).startswith("work.csv:") and "do_bulk_2|keywords" in str(
        rejected.value.problems[0]
    )
    assert _snapshot(catalog) == before


def test_tmx_round_trip_of_the_memory(catalog: Engine, sqlite_url: str, tmp_path: Path):
    with session_scope(catalog) as session:
        remember(session, "Time Management", "समय प्रबंधन", "hi", origin="approved")
        tmx = export_memory(session, "hi")
    assert b'xml:lang="hi"' in tmx and "समय प्रबंधन".encode() in tmx
    with session_scope(catalog) as session:
        session.query(TranslationMemoryRow).delete()
    with session_scope(catalog) as session:
        assert import_memory(session, tmx, "memory.tmx").memory_entries == 2
        assert load_memory(session, "hi").lookup("Time Management").target == "समय प्रबंधन"
        bad = tmx.replace(b'xml:lang="hi"', b'xml:lang="xx"', 1)
        with pytest.raises(IngestRejectedError, match="1 problem"):
            import_memory(session, bad, "memory.tmx")


def test_segments_an_engine_leaves_empty_stay_untranslated():
    class Silent(FakeEngine):
        def translate(self, segments, source, target):
            return [None if "follows" in s else "अनुवादित पाठ" for s in segments]

    from translation import TranslationPipeline

    drafts = TranslationPipeline("hi", mt=Silent()).translate(["Office Skills. Part 2 follows.", "Office Skills"])
    assert drafts[0].text is None and drafts[0].engine is None
    assert (drafts[1].text, drafts[1].mt_segments) == ("अनुवादित पाठ", 1)
