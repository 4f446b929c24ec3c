"""Machine translation with CTranslate2: the same models converted to int8, the fast path on CPU."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import ctranslate2

from translation.config import check_model_dir
from translation.errors import EngineConfigError
from translation.families import detect_family, indic_processor, postprocess, prepare, write_family
from translation.languages import TranslationLanguage
from translation.seq2seq import load_tokenizer, needs_remote_code

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


def is_ctranslate2_dir(model_dir: Path) -> bool:
    return (Path(model_dir) / "model.bin").is_file()


def convert_to_ctranslate2(model_dir: Path, output_dir: Path, quantization: str = "int8") -> Path:
    """Convert a transformers model directory; the tokenizer files travel with it so that the result is
    a self-contained model directory for `CTranslate2Engine`."""
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
    """CTranslate2's Translator may be called from several threads at once; it queues work on its own workers."""

    wants_protected_text = True

    def __init__(
        self,
        model_dir: Path,
        device: str = "cpu",
        compute_type: str = "int8",
        num_beams: int = 4,
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
        remote = needs_remote_code(self.model_dir)
        self.tokenizer = load_tokenizer(self.model_dir, remote)
        self.vocabulary = self.tokenizer.get_vocab()
        self.family = detect_family(self.model_dir, None, self.vocabulary)
        self.processor = indic_processor(self.family)
        self.num_beams = num_beams
        self.max_decoding_length = max_decoding_length
        self.batch_size = batch_size
        self.name = f"ctranslate2:{self.model_dir.name}"
        self._tokenizer_lock = threading.Lock()

    def translate(
        self, segments: Sequence[str], source: TranslationLanguage, target: TranslationLanguage
    ) -> list[str | None]:
        prepared = prepare(self.family, segments, source, target, self.vocabulary, self.processor)
        with self._tokenizer_lock:  # M2M100 and NLLB tokenizers hold the source language as state
            if prepared.source_code is not None:
                self.tokenizer.src_lang = prepared.source_code
            tokens = [self.tokenizer.convert_ids_to_tokens(self.tokenizer(t)["input_ids"]) for t in prepared.texts]
        prefix = [[prepared.target_token]] * len(tokens) if prepared.target_token else None
        results = self.translator.translate_batch(
            tokens,
            target_prefix=prefix,
            beam_size=self.num_beams,
            max_batch_size=self.batch_size,
            max_decoding_length=self.max_decoding_length,
        )
        outputs = []
        for result in results:
            hypothesis = result.hypotheses[0]
            if prepared.target_token and hypothesis[:1] == [prepared.target_token]:
                hypothesis = hypothesis[1:]
            ids = self.tokenizer.convert_tokens_to_ids(hypothesis)
            outputs.append(self.tokenizer.decode(ids, skip_special_tokens=True))
        return list(postprocess(self.family, outputs, target, self.processor))
