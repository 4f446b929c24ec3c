"""Languages, sentence splitting, protection of URLs/numbers/placeholders, glossary and the QA checks."""

from __future__ import annotations

import threading

import pytest

from models import UnknownLanguageError
from translation import CHECKS, Glossary, Term, load_glossary, run_checks, translation_language, transliterate
from translation.checks import LengthRatioCheck, ScriptCheck
from translation.languages import IGOT_PORTAL_LANGUAGES, TRANSLATION_LANGUAGES, parse_languages
from translation.protect import protect, restore, to_native_digits
from translation.segments import join_chunks, split_text

GLOSSARY = Glossary(
    (
        Term("iGOT", do_not_translate=True),
        Term("Noting", {"hi": "टिप्पण"}, {"hi": ("नोटिंग",)}),
        Term("Section Officer", {"hi": "अनुभाग अधिकारी"}),
    )
)


# Languages


def test_every_scheduled_language_has_bcp47_and_engine_codes():
    assert len(TRANSLATION_LANGUAGES) == 23  # English and the 22 languages of the Eighth Schedule
    hindi = translation_language("hi")
    assert (hindi.bcp47, hindi.flores, hindi.nllb, hindi.marian, hindi.script) == (
        "hi",
        "hin_Deva",
        "hin_Deva",
        "hin",
        "Deva",
    )
    assert translation_language("kok").flores == "gom_Deva"  # IndicTrans2's code for Konkani
    assert translation_language("kok").nllb is None  # NLLB-200 has no Konkani
    assert translation_language("sat").bcp47 == "sat-Olck"
    for spelling in ("Hindi", "hin", "hin_Deva", "hi-IN", "HI"):
        assert translation_language(spelling).code == "hi"


def test_unknown_languages_are_rejected_with_the_supported_list():
    with pytest.raises(UnknownLanguageError, match=r"unknown language 'xx'; supported codes: en, as, bn"):
        translation_language("xx")
    with pytest.raises(UnknownLanguageError, match="'klingon'"):
        parse_languages("hi,klingon")


def test_language_lists_accept_the_igot_portal_subset():
    assert [language.code for language in parse_languages("hi, ta,hi")] == ["hi", "ta"]
    portal = [language.code for language in parse_languages("igot")]
    assert "en" not in portal and set(portal) == set(IGOT_PORTAL_LANGUAGES) - {"en"}
    assert {"hi", "bn", "ta", "te", "mr"} <= set(portal)


# Sentence splitting


def test_descriptions_split_into_sentences_and_reassemble_with_their_layout():
    text = "  First point. Second one, e.g. this!  Third?\n\nBy Dr. Rao: यह वाक्य है। दूसरा।\nLast line  "
    chunks = split_text(text)
    assert [c.text for c in chunks if c.translate] == [
        "First point.",
        "Second one, e.g. this!",
        "Third?",
        "By Dr. Rao: यह वाक्य है।",
        "दूसरा।",
        "Last line",
    ]
    assert join_chunks(chunks, [c.text for c in chunks if c.translate]) == text
    translated = join_chunks(chunks, [f"<{i}>" for i in range(6)])
    assert translated == "  <0> <1>  <2>\n\n<3> <4>\n<5>  "


def test_overlong_sentences_are_cut_at_clause_boundaries():
    clause = "the officer examines the file and records a note"
    sentence = ", ".join([clause] * 12) + "."
    chunks = split_text(sentence, max_chars=120)
    pieces = [c.text for c in chunks if c.translate]
    assert len(pieces) > 1 and all(len(piece) <= 120 for piece in pieces)
    assert all(piece.endswith((",", ".")) for piece in pieces)
    assert join_chunks(chunks, pieces) == sentence
    assert [c.text for c in split_text("x" * 50, max_chars=10)] == ["x" * 50]


def test_initials_and_numbers_do_not_end_sentences():
    assert [c.text for c in split_text("A. P. J. Abdul Kalam wrote it. Version 2.5 is out.") if c.translate] == [
        "A. P. J. Abdul Kalam wrote it.",
        "Version 2.5 is out.",
    ]


# Protection


SOURCE = (
    "See https://igotkarmayogi.gov.in/learn or mail help@igot.in by 12/10/2025: "
    "{name} gets <b>3.5%</b> on iGOT via RTI."
)


def test_protection_replaces_every_kind_of_span_and_restores_it():
    shielded = protect(SOURCE, keep=["iGOT"])
    assert [span.kind for span in shielded.spans] == [
        "url",
        "email",
        "date",
        "placeholder",
        "html",
        "number",
        "html",
        "term",
        "acronym",
    ]
    assert "https" not in shielded.text and "{name}" not in shielded.text and "RTI" not in shielded.text
    assert restore(shielded.text, shielded.spans).text == SOURCE


def test_tokens_mangled_by_a_model_are_still_restored():
    shielded = protect("Call 1800 or visit https://x.gov.in now", keep=[])
    mangled = shielded.text.replace("<0>", "< 0 >").replace("<1>", "&lt;१&gt;")  # spaces, escaping, native digits
    restored = restore(mangled + " <7>", shielded.spans)
    assert restored.text == "Call 1800 or visit https://x.gov.in now"
    assert restored.invented == ("<7>",) and restored.missing == ()


def test_dropped_tokens_are_reported_as_missing():
    shielded = protect("Rule 5 and Rule 6")
    restored = restore("नियम <0> और नियम", shielded.spans)
    assert [span.value for span in restored.missing] == ["6"]


def test_native_digits_apply_to_numbers_and_dates_but_never_to_urls():
    shielded = protect("5 modules from 01/04/2025 at https://a.in/v2")
    restored = restore(shielded.text, shielded.spans, native_digits="Deva").text
    assert restored == "५ modules from ०१/०४/२०२५ at https://a.in/v2"
    assert to_native_digits("2047", "Beng") == "২০৪৭" and to_native_digits("2047", "Latn") == "2047"


def test_protection_is_safe_across_threads():
    results: dict[int, str] = {}

    def work(n: int) -> None:
        text = f"Order {n} at https://x.in/{n} for {{user{n}}}"
        for _ in range(200):
            shielded = protect(text)
            results[n] = restore(shielded.text, shielded.spans).text

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: f"Order {n} at https://x.in/{n} for {{user{n}}}" for n in range(16)}


# Glossary


def test_the_shipped_glossary_names_kcm_competencies_from_the_catalog():
    from models import Competency

    kcm = [
        Competency(id="FUN-02-01", theme_id="FUN-02", area_id="FUN", name="Noting and Drafting", levels=_levels()),
        Competency(id="XYZ-01-01", theme_id="XYZ-01", area_id="XYZ", name="Quantum Filing", levels=_levels()),
    ]
    glossary = load_glossary(competencies=kcm)
    noting = next(t for t in glossary.terms if t.competency_id == "FUN-02-01")
    assert noting.source == "Noting and Drafting" and noting.approved("hi") == "टिप्पण और प्रारूपण"
    assert any(t.source == "Quantum Filing" and t.translations == {} for t in glossary.terms)
    assert "iGOT" in glossary.do_not_translate()
    # The longest term wins: "Noting and Drafting" is one match, not "Noting" plus "Drafting".
    found = glossary.find("A course on noting and drafting")
    assert [m.term.source for m in found] == ["course", "Noting and Drafting"]


def _levels() -> dict[int, str]:
    return {level: f"level {level}" for level in range(1, 6)}


def test_forbidden_renderings_in_machine_output_are_replaced_by_the_approved_term():
    assert GLOSSARY.apply("Noting for officers", "नोटिंग अधिकारियों के लिए", "hi") == "टिप्पण अधिकारियों के लिए"
    assert GLOSSARY.apply("Drafting for officers", "नोटिंग", "hi") == "नोटिंग"  # the term is not in the source


def test_proper_nouns_transliterate_into_the_target_script():
    assert transliterate("Karmayogi", "Deva") == "कर्मयोगि"
    assert transliterate("Karmayogi", "Taml").startswith("க")
    assert transliterate("Karmayogi", "Latn") == "Karmayogi"


# Quality checks: each one fires on a bad translation and stays quiet on a good one.

GOOD = {
    "source": "Read the GFR 2017 at https://doe.gov.in for {name}.",
    "target": "{name} के लिए https://doe.gov.in पर GFR 2017 पढ़ें।",
}
CASES = [
    ("placeholders", "Hello {name}, see <b>this</b>.", "नमस्ते, <b>यह</b> देखें।", "नमस्ते {name}, <b>यह</b> देखें।"),
    ("urls", "Visit https://igot.gov.in today.", "आज https://igot.gov देखें।", "आज https://igot.gov.in देखें।"),
    ("numbers", "The course has 5 modules.", "इस पाठ्यक्रम में 6 मॉड्यूल हैं।", "इस पाठ्यक्रम में ५ मॉड्यूल हैं।"),
    ("do-not-translate", "Learn on iGOT about RTI.", "आईगॉट पर आरटीआई के बारे में जानें।", "iGOT पर RTI के बारे में जानें।"),
    ("script", "Office procedure basics", "Office procedure मूल बातें", "कार्यालय प्रक्रिया की मूल बातें"),
    (
        "output-language",
        "How to apply under the Right to Information Act",
        "माहितीचा अधिकार कायद्यांतर्गत अर्ज कसा करावा",  # Marathi, in the same script
        "सूचना का अधिकार अधिनियम के तहत आवेदन कैसे करें",
    ),
    (
        "numerals",
        "The course has 5 modules and 12 lessons.",
        "इस पाठ्यक्रम में 5 मॉड्यूल और १२ पाठ हैं।",
        "इस पाठ्यक्रम में ५ मॉड्यूल और १२ पाठ हैं।",
    ),
    ("untranslated", "Stress management", "Stress Management", "तनाव प्रबंधन"),
    (
        "length-ratio",
        "An introduction to public procurement",
        "परिचय",
        "सार्वजनिक खरीद का परिचय",
    ),
    ("glossary-missing", "Noting for a Section Officer", "नोट्स अनुभाग अधिकारी", "टिप्पण अनुभाग अधिकारी"),
    ("glossary-forbidden", "Noting basics", "नोटिंग की मूल बातें (टिप्पण)", "टिप्पण की मूल बातें"),
    ("end-whitespace", "Time management", "समय प्रबंधन ", "समय प्रबंधन"),
    ("end-punctuation", "Manage your time.", "अपने समय का प्रबंधन करें", "अपने समय का प्रबंधन करें।"),
]


def test_every_registered_check_has_a_case_here():
    assert {case[0] for case in CASES} == set(CHECKS)
    for check in CHECKS.values():
        assert check.id and check.description and check.severity in ("error", "warning", "info")


@pytest.mark.parametrize(("check_id", "source", "bad", "good"), CASES, ids=[case[0] for case in CASES])
def test_check_fires_on_the_bad_translation_and_not_on_the_good_one(check_id, source, bad, good):
    check = CHECKS[check_id]
    fired = [flag for flag in run_checks(source, bad, "hi", GLOSSARY, checks=[check])]
    assert [flag.check for flag in fired] == [check_id]
    assert fired[0].severity == check.severity and fired[0].message
    assert run_checks(source, good, "hi", GLOSSARY, checks=[check]) == []


def test_a_good_translation_gets_no_flag_from_any_check():
    assert run_checks(GOOD["source"], GOOD["target"], "hi", GLOSSARY) == []


def test_check_messages_say_what_is_wrong():
    (numbers,) = run_checks("Rules of 2017 and 2019", "2017 के नियम और 2020", "hi", GLOSSARY, checks=[CHECKS["numbers"]])
    assert numbers.message == "missing 2019; not in source 2020"
    (script,) = run_checks("Hello there", "Hello there", "ta", GLOSSARY, checks=[ScriptCheck(min_share=0.5)])
    assert "Taml" in script.message
    too_short_to_judge = run_checks("Hi", "नमस्ते बहुत बहुत बहुत बहुत", "hi", GLOSSARY, checks=[LengthRatioCheck()])
    assert too_short_to_judge == []
