"""Which machine translation model to use: `KARMAYOGI_MT_MODEL` (a local directory) and friends."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from translation.engines import Engine

EngineKind = Literal["auto", "transformers", "ctranslate2"]

HOW_TO_CONFIGURE = (
    "no translation model is configured: set KARMAYOGI_MT_MODEL to a local model directory (or pass --model DIR); "
    "get one where a network exists with `karmayogi models fetch NAME --to DIR [--ctranslate2]`"
)


class TranslationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KARMAYOGI_MT_", extra="ignore")

    model: Path | None = Field(default=None, description="Local directory of a transformers or CTranslate2 model")
    engine: EngineKind = Field(default="auto", description="auto: CTranslate2 when the directory holds model.bin")
    device: str = "cpu"
    beams: int = Field(default=4, ge=1)
    batch_size: int = Field(default=16, ge=1)


def load_engine(
    model_dir: Path,
    kind: EngineKind = "auto",
    device: str = "cpu",
    beams: int = 4,
    batch_size: int = 16,
) -> Engine:
    """A transformers or CTranslate2 engine for the model in `model_dir` (never downloads anything)."""
    from translation.ct2 import CTranslate2Engine, is_ctranslate2_dir  # torch and friends load only here
    from translation.seq2seq import Seq2SeqEngine

    if kind == "ctranslate2" or (kind == "auto" and is_ctranslate2_dir(model_dir)):
        return CTranslate2Engine(model_dir, device=device, num_beams=beams, batch_size=batch_size)
    return Seq2SeqEngine(model_dir, device=device, num_beams=beams, batch_size=batch_size)


def configured_engine(settings: TranslationSettings | None = None) -> Engine | None:
    """The engine `KARMAYOGI_MT_*` asks for, or None when no model is configured."""
    settings = settings or TranslationSettings()
    if settings.model is None:
        return None
    return load_engine(settings.model, settings.engine, settings.device, settings.beams, settings.batch_size)
