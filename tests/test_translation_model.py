"""The real model path without downloaded weights: a tiny Marian model trained here on the shipped reviewed
pairs, loaded by the transformers engine and, converted to int8, by the CTranslate2 engine."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from api.cli import app
from models import ingest_file, session_scope
from translation import (
    Draft,
    EngineConfigError,
    Glossary,
    Term,
    TranslationMemory,
    TranslationPipeline,
    list_units,
    load_engine,
    load_glossary,
)
from translation.ct2 import CTranslate2Engine, convert_to_ctranslate2
from translation.families import prepare
from translation.languages import translation_language
from translation.seq2seq import Seq2SeqEngine
from translation.store import SEED_FILES, read_parallel_file
from translation.subwords import (
    TokenizerJsonSubwords,
    TransformersSubwords,
    generic_tokenizer,
    load_subwords,
    load_tokenizer,
)
from translation.tiny_model import protected_pair, train_tiny_marian

_, _, REVIEWED = read_parallel_file(SEED_FILES["hi"])
TRAINED = REVIEWED[:80]  # course titles, many with acronyms and years


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    keep = load_glossary().do_not_translate()
    return train_tiny_marian(TRAINED, tmp_path_factory.mktemp("tiny-marian"), steps=300, keep=keep)


@pytest.fixture(scope="session")
def tiny_ct2(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert_to_ctranslate2(tiny_model, tmp_path_factory.mktemp("tiny-ct2") / "model")


@pytest.fixture(scope="session")
def transformers_engine(tiny_model: Path) -> Seq2SeqEngine:
    return Seq2SeqEngine(tiny_model, num_beams=1)


@pytest.fixture(scope="session")
def ct2_engine(tiny_ct2: Path) -> CTranslate2Engine:
    return CTranslate2Engine(tiny_ct2, num_beams=1, threads=1)


def pipeline(mt, glossary: Glossary | None = None, memory: TranslationMemory | None = None) -> TranslationPipeline:
    return TranslationPipeline("hi", memory=memory, mt=mt, glossary=glossary or load_glossary())


@pytest.fixture(scope="session")
def reference(transformers_engine: Seq2SeqEngine) -> list[Draft]:
    """The transformers engine's drafts for the training titles."""
    return pipeline(transformers_engine).translate([source for source, _ in TRAINED])


def test_the_transformers_engine_reproduces_what_it_was_trained_on(
    transformers_engine: Seq2SeqEngine, reference: list[Draft]
):
    drafts = reference
    exact = [draft.text == target for draft, (_, target) in zip(drafts, TRAINED, strict=True)]
    assert sum(exact) / len(exact) >= 0.8
    assert {draft.engine for draft in drafts} == {f"transformers:{transformers_engine.model_dir.name}"}
    by_source = {draft.source: draft for draft in drafts}
    # Titles whose acronyms and years went through the model as <0>, <1> tokens and came back.
    assert by_source["General Financial Rules (GFR) 2017"].text == "सामान्य वित्तीय नियम (GFR) 2017"
    assert by_source["Public Procurement through GeM"].text == "GeM के माध्यम से सार्वजनिक खरीद"


def test_placeholders_survive_for_values_the_model_never_saw(transformers_engine: Seq2SeqEngine):
    drafts = pipeline(transformers_engine).translate(
        ["Right to Information Act, 2019", "Introduction to GST", "Introduction to https://rtionline.gov.in"]
    )
    assert [draft.text for draft in drafts] == [
        "सूचना का अधिकार अधिनियम, 2019",
        "GST का परिचय",
        "https://rtionline.gov.in का परिचय",
    ]
    assert all(draft.flags == () for draft in drafts)


def test_native_digits_and_glossary_are_applied_to_model_output(transformers_engine: Seq2SeqEngine):
    (plain,) = pipeline(transformers_engine, Glossary()).translate(["Effective Communication"])
    assert plain.text
    glossary = Glossary((Term("Effective Communication", {"hi": "असरदार संचार"}, {"hi": (plain.text,)}),))
    (draft,) = pipeline(transformers_engine, glossary).translate(["Effective Communication"])
    assert draft.text == "असरदार संचार" and draft.flags == ()  # the forbidden rendering was replaced
    digits = TranslationPipeline("hi", mt=transformers_engine, native_digits=True).translate(
        ["Right to Information Act, 2019"]
    )
    assert digits[0].text == "सूचना का अधिकार अधिनियम, २०१९" and digits[0].flags == ()


def test_long_descriptions_are_split_translated_and_reassembled(transformers_engine: Seq2SeqEngine):
    memory = TranslationMemory([("Stress Management", "तनाव प्रबंधन")])
    (draft,) = pipeline(transformers_engine, memory=memory).translate(
        ["Noting and Drafting\n\nIntroduction to GST\nStress Management"]
    )
    assert draft.text == "टिप्पण और प्रारूपण\n\nGST का परिचय\nतनाव प्रबंधन"
    assert (draft.segments, draft.memory_segments, draft.mt_segments) == (3, 1, 2)
    assert draft.engine == f"memory+{transformers_engine.name}"


def test_ctranslate2_engine_translates_like_the_transformers_one(
    tiny_ct2: Path, ct2_engine: CTranslate2Engine, reference: list[Draft]
):
    assert (tiny_ct2 / "model.bin").is_file() and json.loads((tiny_ct2 / "karmayogi_model.json").read_text()) == {
        "family": "marian"
    }
    sources = [source for source, _ in TRAINED]
    fast = pipeline(ct2_engine).translate(sources)
    slow = reference
    agree = sum(a.text == b.text for a, b in zip(fast, slow, strict=True))
    assert agree / len(sources) >= 0.9  # int8 weights may change a rare greedy choice
    assert fast[sources.index("General Financial Rules (GFR) 2017")].text == "सामान्य वित्तीय नियम (GFR) 2017"
    assert {draft.engine for draft in fast} == {f"ctranslate2:{tiny_ct2.name}"}
    assert isinstance(load_engine(tiny_ct2), CTranslate2Engine)  # "auto" picks CTranslate2 for a model.bin


NO_TORCH = """
import json, sys
from pathlib import Path
from translation import TranslationPipeline, load_engine

engine = load_engine(Path(sys.argv[1]), beams=1)
drafts = TranslationPipeline("hi", mt=engine).translate(json.loads(sys.argv[2]))
loaded = sorted(name for name in ("torch", "transformers") if name in sys.modules)
print(json.dumps({"engine": engine.name, "texts": [draft.text for draft in drafts], "loaded": loaded}))
"""


def test_the_ctranslate2_engine_loads_and_translates_without_torch(tiny_ct2: Path, ct2_engine: CTranslate2Engine):
    """In a fresh interpreter, since this one has imported torch for the other tests."""
    sources = ["General Financial Rules (GFR) 2017", "Introduction to https://rtionline.gov.in"]
    run = subprocess.run(
        [sys.executable, "-c", NO_TORCH, str(tiny_ct2), json.dumps(sources)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["loaded"] == []
    assert result["engine"] == ct2_engine.name
    assert result["texts"] == [draft.text for draft in pipeline(ct2_engine).translate(sources)]
    assert result["texts"][0] == "सामान्य वित्तीय नियम (GFR) 2017"


def test_the_tokenizers_library_tokenizes_the_tiny_model_as_transformers_does(tiny_ct2: Path):
    light = load_subwords(tiny_ct2, remote=False)
    assert isinstance(light, TokenizerJsonSubwords)
    full = TransformersSubwords(load_tokenizer(tiny_ct2, remote=False))
    keep = load_glossary().do_not_translate()
    texts = [text for source, target in REVIEWED for text in protected_pair(source, target, keep)]
    texts += ["", "  two  spaces ", ">>hin<< Hello", "<0> and <1>, </s> <unk> <pad>", "Tab\tand\nnewline", "ﬁ café"]
    assert light.vocabulary == full.vocabulary
    tokens = light.encode(texts, None)
    assert tokens == full.encode(texts, None)
    assert light.decode(tokens) == full.decode(tokens)
    odd = [["▁GST", "</s>", "<pad>", "▁not-a-token"], []]
    assert light.decode(odd) == full.decode(odd)


def test_tokenizers_that_transformers_would_change_are_left_to_transformers(tiny_ct2: Path, tmp_path: Path):
    def variant(name: str, **settings: object) -> Path:
        copy = tmp_path / name
        shutil.copytree(tiny_ct2, copy)
        config = json.loads((copy / "tokenizer_config.json").read_text(encoding="utf-8"))
        (copy / "tokenizer_config.json").write_text(json.dumps(config | settings), encoding="utf-8")
        return copy

    assert generic_tokenizer(tiny_ct2) is not None
    assert generic_tokenizer(variant("marian", tokenizer_class="MarianTokenizer")) is None
    assert generic_tokenizer(variant("bos", add_bos_token=True)) is None
    assert generic_tokenizer(variant("unknown-special", mask_token="<mask>")) is None
    cleaned = variant("cleanup", clean_up_tokenization_spaces=True)
    assert generic_tokenizer(cleaned) is None
    assert isinstance(CTranslate2Engine(cleaned, num_beams=1).subwords, TransformersSubwords)


@pytest.mark.parametrize("engine_fixture", ["transformers_engine", "ct2_engine"])
def test_many_threads_translating_at_once_get_their_own_placeholders_back(engine_fixture: str, request):
    shared = pipeline(request.getfixturevalue(engine_fixture))
    results: dict[int, list[str | None]] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            texts = [f"Right to Information Act, {1990 + n}", f"Introduction to https://portal{n}.gov.in"]
            results[n] = [draft.text for draft in shared.translate(texts)]
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == {
        n: [f"सूचना का अधिकार अधिनियम, {1990 + n}", f"https://portal{n}.gov.in का परिचय"] for n in range(12)
    }


def test_engine_configuration_errors_say_what_to_do(tmp_path: Path, tiny_ct2: Path):
    with pytest.raises(EngineConfigError, match=r"not a model directory.*models fetch"):
        load_engine(tmp_path)
    with pytest.raises(EngineConfigError, match=r"no model\.bin"):
        CTranslate2Engine(tmp_path)
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("model.bin", "config.json", "shared_vocabulary.json"):
        shutil.copy(tiny_ct2 / name, bare / name)
    with pytest.raises(EngineConfigError, match=r"(?s)no usable tokenizer in .*bare.*files must sit next to the model"):
        CTranslate2Engine(bare)
    english, hindi, tamil = (translation_language(code) for code in ("en", "hi", "ta"))
    multilingual = {">>hin<<": 1, ">>fra<<": 2}
    assert prepare("marian", ["Hello"], english, hindi, vocabulary=multilingual).texts == [">>hin<< Hello"]
    with pytest.raises(EngineConfigError, match=">>tam<<"):
        prepare("marian", ["Hello"], english, tamil, vocabulary=multilingual)
    nllb = {"eng_Latn": 1, "hin_Deva": 2}
    assert prepare("nllb", ["Hello"], english, hindi, vocabulary=nllb).target_token == "hin_Deva"
    with pytest.raises(EngineConfigError, match="does not cover Konkani"):
        prepare("nllb", ["Hello"], english, translation_language("kok"), vocabulary=nllb)
    assert prepare("indictrans", ["Hello"], english, hindi, vocabulary={}).texts == ["eng_Latn hin_Deva Hello"]


def test_the_cli_machine_translates_with_a_configured_model(
    tiny_model: Path, small_kcm_engine: Engine, tmp_path: Path, monkeypatch
):
    courses = tmp_path / "courses.jsonl"
    titles = ["Introduction to GST", "Noting and Drafting", "सरकारी कार्यालयों में टिप्पण"]
    lines = [json.dumps({"identifier": f"do_{i}", "name": t}, ensure_ascii=False) for i, t in enumerate(titles)]
    courses.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest_file(small_kcm_engine, "courses", courses)
    monkeypatch.setenv("DATABASE_URL", small_kcm_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("KARMAYOGI_MT_MODEL", str(tiny_model))
    monkeypatch.setenv("KARMAYOGI_MT_BEAMS", "1")
    result = CliRunner().invoke(app, ["translate", "--langs", "hi", "--no-seed", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["machine_translated"], report["not_english"], report["queued"]) == (2, 1, 0)
    assert report["engine"] == f"transformers:{tiny_model.name}"
    with session_scope(small_kcm_engine) as session:
        texts = {u.course_id: u.text for u in list_units(session, "hi")}
    assert texts == {"do_0": "GST का परिचय", "do_1": "टिप्पण और प्रारूपण"}
