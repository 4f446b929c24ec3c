"""What differs between model families: how the source and target languages are told to the model.

Marian (opus-mt) models serve one pair, or many targets chosen by a `>>hin<<` token before the source;
M2M100 and NLLB-200 take the source language on the tokenizer and force the target-language token first;
IndicTrans2 expects `eng_Latn hin_Deva` tags before the source (added by IndicTransToolkit's IndicProcessor
where it is installed, which also normalises the text)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from translation.errors import EngineConfigError
from translation.languages import TranslationLanguage

Family = Literal["marian", "m2m100", "nllb", "indictrans"]
FAMILIES: tuple[Family, ...] = ("marian", "m2m100", "nllb", "indictrans")
FAMILY_FILE = "karmayogi_model.json"


def detect_family(model_dir: Path, model_type: str | None, vocabulary: dict[str, int]) -> Family:
    """From our own marker file, the model type in config.json, or tell-tale vocabulary entries."""
    marker = model_dir / FAMILY_FILE
    if marker.is_file():
        named = json.loads(marker.read_text(encoding="utf-8"))["family"]
        for family in FAMILIES:
            if named == family:
                return family
        raise EngineConfigError(f"{marker}: unknown model family {named!r} (one of {', '.join(FAMILIES)})")
    kind = (model_type or "").casefold()
    if "indictrans" in kind:
        return "indictrans"
    if kind == "marian":
        return "marian"
    if "eng_Latn" in vocabulary and "hin_Deva" in vocabulary:
        return "nllb"
    if kind == "m2m_100" or "__en__" in vocabulary:
        return "m2m100"
    return "marian"


@dataclass(frozen=True)
class Prepared:
    texts: list[str]  # what goes into the tokenizer
    source_code: str | None  # tokenizer.src_lang for M2M100 / NLLB
    target_token: str | None  # forced first target token (M2M100 / NLLB)


def prepare(
    family: Family,
    segments: Sequence[str],
    source: TranslationLanguage,
    target: TranslationLanguage,
    *,
    vocabulary: dict[str, int],
    processor: Any | None = None,
) -> Prepared:
    if family == "marian":
        token = f">>{target.marian}<<"
        if token in vocabulary:
            return Prepared([f"{token} {s}" for s in segments], None, None)
        if any(key.startswith(">>") and key.endswith("<<") for key in vocabulary):
            raise EngineConfigError(f"this multilingual Marian model has no {token} token for {target.name}")
        return Prepared(list(segments), None, None)  # a single-pair model; the pair is the user's choice
    if family == "nllb":
        for language in (source, target):
            if language.nllb is None or language.nllb not in vocabulary:
                raise EngineConfigError(f"the NLLB model does not cover {language.name}")
        return Prepared(list(segments), source.nllb, target.nllb)
    if family == "m2m100":
        token = f"__{target.code}__"
        if token not in vocabulary or f"__{source.code}__" not in vocabulary:
            raise EngineConfigError(f"the M2M100 model does not cover {source.name} → {target.name}")
        return Prepared(list(segments), source.code, token)
    if processor is not None:
        texts = processor.preprocess_batch(list(segments), src_lang=source.flores, tgt_lang=target.flores)
        return Prepared(list(texts), None, None)
    return Prepared([f"{source.flores} {target.flores} {s}" for s in segments], None, None)


def postprocess(family: Family, outputs: list[str], target: TranslationLanguage, processor: Any | None) -> list[str]:
    if family == "indictrans" and processor is not None:
        return list(processor.postprocess_batch(outputs, lang=target.flores))
    return [output.strip() for output in outputs]


def indic_processor(family: Family) -> Any | None:
    """IndicTransToolkit's IndicProcessor for IndicTrans2 models, when the package is installed."""
    if family != "indictrans" or importlib.util.find_spec("IndicTransToolkit") is None:
        return None
    from IndicTransToolkit.processor import IndicProcessor

    return IndicProcessor(inference=True)


def write_family(model_dir: Path, family: Family) -> None:
    (model_dir / FAMILY_FILE).write_text(json.dumps({"family": family}) + "\n", encoding="utf-8")
