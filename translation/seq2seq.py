"""Machine translation with transformers' AutoModelForSeq2SeqLM: Marian (opus-mt), M2M100, NLLB-200 and
IndicTrans2 (its remote code), loaded from a local directory only: nothing is downloaded here."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForSeq2SeqLM

from translation.errors import EngineConfigError
from translation.families import detect_family, indic_processor, postprocess, prepare
from translation.languages import TranslationLanguage
from translation.model_dir import check_model_dir, needs_remote_code
from translation.subwords import load_tokenizer


class Seq2SeqEngine:
    """Batched generation on CPU or GPU. One lock serialises calls: tokenizers keep the source language as
    state (M2M100, NLLB) and a model on one device gains nothing from parallel calls."""

    wants_protected_text = True

    def __init__(
        self,
        model_dir: Path,
        device: str = "cpu",
        num_beams: int = 4,
        max_new_tokens: int = 256,
        *,
        batch_size: int = 16,
    ) -> None:
        self.model_dir = check_model_dir(model_dir)
        remote = needs_remote_code(self.model_dir)
        try:
            config = AutoConfig.from_pretrained(self.model_dir, trust_remote_code=remote, local_files_only=True)
            self.tokenizer = load_tokenizer(self.model_dir, remote)
            self.model = AutoModelForSeq2SeqLM.from_pretrained(
                self.model_dir, trust_remote_code=remote, local_files_only=True
            ).to(device)
        except (OSError, ValueError, KeyError) as error:
            raise EngineConfigError(f"cannot load the model in {self.model_dir}: {error}") from None
        self.model.eval()
        self.device = device
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.vocabulary = self.tokenizer.get_vocab()
        self.family = detect_family(self.model_dir, getattr(config, "model_type", None), self.vocabulary)
        self.processor = indic_processor(self.family)
        self.name = f"transformers:{self.model_dir.name}"
        self._lock = threading.Lock()

    def translate(
        self, segments: Sequence[str], source: TranslationLanguage, target: TranslationLanguage
    ) -> list[str | None]:
        prepared = prepare(self.family, segments, source, target, vocabulary=self.vocabulary, processor=self.processor)
        outputs: list[str] = []
        with self._lock, torch.inference_mode():
            if prepared.source_code is not None:
                self.tokenizer.src_lang = prepared.source_code
            for start in range(0, len(prepared.texts), self.batch_size):
                outputs.extend(self._generate(prepared.texts[start : start + self.batch_size], prepared.target_token))
        return list(postprocess(self.family, outputs, target, self.processor))

    def _generate(self, texts: list[str], target_token: str | None) -> list[str]:
        inputs = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True).to(self.device)
        options: dict[str, object] = {"num_beams": self.num_beams, "max_new_tokens": self.max_new_tokens}
        if target_token is not None:
            options["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(target_token)
        generated = self.model.generate(**inputs, **options)
        decoded: list[str] = self.tokenizer.batch_decode(generated, skip_special_tokens=True)
        return decoded
