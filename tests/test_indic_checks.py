"""The checks made for Indic text, in Hindi, Tamil and Bengali: the glossary check accepts a term with its case
endings, the numerals check keeps one digit system per text, and the output-language check tells languages that
share a script apart. Each fires on a bad translation and stays quiet on a good one."""

from __future__ import annotations

import pytest

from translation import CHECKS, Glossary, Term, run_checks
from translation.inflection import uses_term

GLOSSARY = Glossary(
    terms=(
        Term(source="administration", translations={"hi": "प्रशासन", "ta": "நிர்வாகம்", "bn": "প্রশাসন"}),
        Term(source="policy", translations={"hi": "नीति", "ta": "கொள்கை", "bn": "নীতি"}),
        Term(source="scheme", translations={"hi": "योजना", "ta": "திட்டம்", "bn": "প্রকল্প"}),
    )
)


def glossary_flags(source: str, target: str, language: str) -> list[str]:
    return [
        flag.message for flag in run_checks(source, target, language, GLOSSARY, checks=[CHECKS["glossary-missing"]])
    ]


@pytest.mark.parametrize(
    ("language", "source", "inflected"),
    [
        ("hi", "Policies of the administration", "प्रशासन की नीतियों का परिचय"),  # नीति + -ियों
        ("hi", "Benefits of government schemes", "सरकारी योजनाओं के लाभ"),  # योजना → योजनाओं
        ("ta", "Training in administration", "நிர்வாகத்தில் பயிற்சி"),  # நிர்வாகம் → நிர்வாகத்தில்
        ("ta", "About the scheme", "திட்டத்தைப் பற்றி"),  # திட்டம் → திட்டத்தை + ப்
        ("bn", "Policy of the administration", "প্রশাসনের নীতি"),  # প্রশাসন + -ের
        ("bn", "Understanding the policy", "নীতির ধারণা"),  # নীতি + -র
    ],
)
def test_a_glossary_term_with_its_case_ending_counts_as_used(language, source, inflected):
    assert glossary_flags(source, inflected, language) == []


@pytest.mark.parametrize(
    ("language", "source", "wrong"),
    [
        ("hi", "Policies of the administration", "शासन की नीतियों का परिचय"),  # another word for administration
        ("ta", "Training in administration", "மேலாண்மையில் பயிற்சி"),
        ("bn", "Policy of the administration", "প্রশাসনিক নিয়ম"),  # "administrative": a longer word, not an ending
    ],
)
def test_a_glossary_term_missing_or_only_begun_is_flagged(language, source, wrong):
    (message,) = glossary_flags(source, wrong, language)
    assert "approved term(s) not used" in message


def test_a_word_that_only_begins_with_the_term_is_not_the_term():
    assert not uses_term("कार्यालय प्रक्रिया", "कार्य", "hi")
    assert uses_term("कार्य की प्रक्रिया", "कार्य", "hi")
    assert uses_term("अनुभाग अधिकारियों के लिए", "अनुभाग अधिकारी", "hi")  # the last word of a phrase inflects


def numerals(target: str, language: str, source: str = "Rules of 2017, chapter 12") -> list[str]:
    return [flag.message for flag in run_checks(source, target, language, GLOSSARY, checks=[CHECKS["numerals"]])]


def test_numerals_in_one_system_pass_and_mixed_or_foreign_ones_are_flagged():
    assert numerals("2017 के नियम, अध्याय 12", "hi") == []
    assert numerals("२०१७ के नियम, अध्याय १२", "hi") == []  # Devanagari digits are in official use
    assert numerals("২০১৭ সালের নিয়ম, অধ্যায় ১২", "bn") == []
    assert numerals("2017 விதிகள், அத்தியாயம் 12", "ta") == []
    assert numerals("२०१७ के नियम, अध्याय 12", "hi") == ["mixes Latin and Deva digits: use one system"]
    assert numerals("২০১৭ के नियम, अध्याय 12", "hi") == ["digits of another script: ২ ০ ১ ৭"]
    (tamil,) = numerals("௨௦௧௭ விதிகள், அத்தியாயம் ௧௨", "ta")
    assert tamil.startswith("Taml digits are not in everyday use for Tamil")


def test_numerals_ignore_urls():
    assert numerals("नियम २०१७: https://doe.gov.in/2017", "hi", "Rules of 2017: https://doe.gov.in/2017") == []


def output_language(target: str, language: str) -> list[str]:
    source = "How to apply under the Right to Information Act"
    return [flag.message for flag in run_checks(source, target, language, checks=[CHECKS["output-language"]])]


def test_output_language_tells_languages_of_one_script_apart():
    assert output_language("सूचना का अधिकार अधिनियम के तहत आवेदन कैसे करें", "hi") == []
    (marathi,) = output_language("माहितीचा अधिकार कायद्यांतर्गत अर्ज कसा करावा", "hi")
    assert marathi.startswith("reads as Marathi")
    assert output_language("তথ্যের অধিকার আইনের অধীনে কীভাবে আবেদন করবেন", "bn") == []
    assert output_language("தகவல் அறியும் உரிமைச் சட்டத்தின் கீழ் விண்ணப்பிப்பது எப்படி", "ta") == []
    (english,) = output_language("How to apply under the Right to Information Act", "ta")
    assert english.startswith("reads as English")


def test_too_short_a_text_is_not_judged():
    assert output_language("कार्यालय", "mr") == []
