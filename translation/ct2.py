"""Machine translation with CTranslate2: the same models converted to int8, the fast path on CPU.

Translating needs neither torch nor transformers where the tokenizer is a plain tokenizer.json
(`translation.subwords`); converting a model needs both."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import ctranslate2

from translation.errors import EngineConfigError
from translation.families import detect_family, indic_processor, postprocess, prepare, write_family
from translation.languages import TranslationLanguage
from translation.model_dir import check_model_dir, is_ctranslate2_dir, needs_remote_code
from translation.subwords import load_subwords, load_tokenizer

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "source.spm",
    "target.spm",
    "sentencepiece.bpe.model",
    "dict.SRC.json",
    "dict.TGT.json",
    "model.SRC",
    "model.TGT",
)


def convert_to_ctranslate2(model_dir: Path, output_dir: Path, quantization: str = "int8") -> Path:
    """Convert a transformers model directory; the tokenizer files travel with it so that the result is
    a self-contained model directory for `CTranslate2Engine`. Imports torch and transformers."""
    model_dir = check_model_dir(model_dir)
    copy = [name for name in TOKENIZER_FILES if (model_dir / name).is_file()]
    converter = ctranslate2.converters.TransformersConverter(
        str(model_dir), copy_files=copy, trust_remote_code=needs_remote_code(model_dir)
    )
    converter.convert(str(output_dir), quantization=quantization, force=True)
    output_dir = Path(output_dir)
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    tokenizer = load_tokenizer(output_dir, needs_remote_code(model_dir))
    write_family(output_dir, detect_family(model_dir, config.get("model_type"), tokenizer.get_vocab()))
    return output_dir


class CTranslate2Engine:
    """CTranslate2's Translator may be called from several threads at once; it queues work on its own workers.
    Tokenizers that hold state serialise themselves (`translation.subwords`)."""

    wants_protected_text = True

    def __init__(
        self,
        model_dir: Path,
        device: str = "cpu",
        compute_type: str = "int8",
        num_beams: int = 4,
        *,
        max_decoding_length: int = 256,
        batch_size: int = 16,
        threads: int = 0,
    ) -> None:
        self.model_dir = Path(model_dir).expanduser()
        if not is_ctranslate2_dir(self.model_dir):
            raise EngineConfigError(
                f"{self.model_dir} is not a CTranslate2 model (no model.bin): convert one with "
                "`karmayogi models fetch NAME --to DIR --ctranslate2`"
            )
        self.translator = ctranslate2.Translator(
            str(self.model_dir), device=device, compute_type=compute_type, intra_threads=threads
        )
        self.subwords = load_subwords(self.model_dir, needs_remote_code(self.model_dir))
        self.vocabulary = self.subwords.vocabulary
        self.family = detect_family(self.model_dir, None, self.vocabulary)
        self.processor = indic_processor(self.family)
        self.num_beams = num_beams
        self.max_decoding_length = max_decoding_length
        self.batch_size = batch_size
        self.name = f"ctranslate2:{self.model_dir.name}"

    def translate(
        self, segments: Sequence[str], source: TranslationLanguage, target: TranslationLanguage
    ) -> list[str | None]:
        prepared = prepare(self.family, segments, source, target, vocabulary=self.vocabulary, processor=self.processor)
        tokens = self.subwords.encode(prepared.texts, prepared.source_code)
        prefix = [[prepared.target_token]] * len(tokens) if prepared.target_token else None
        results = self.translator.translate_batch(
            tokens,
            target_prefix=prefix,
            beam_size=self.num_beams,
            max_batch_size=self.batch_size,
            max_decoding_length=self.max_decoding_length,
        )
        hypotheses: list[list[str]] = []
        for result in results:
            hypothesis = result.hypotheses[0]
            if prepared.target_token and hypothesis[:1] == [prepared.target_token]:
                hypothesis = hypothesis[1:]
            hypotheses.append(hypothesis)
        return list(postprocess(self.family, self.subwords.decode(hypotheses), target, self.processor))
