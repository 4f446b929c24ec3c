"""Which machine translation model to use: `KARMAYOGI_MT_MODEL` (a local directory) and friends."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from translation.engines import Engine
from translation.model_dir import is_ctranslate2_dir

EngineKind = Literal["auto", "transformers", "ctranslate2"]
Backend = Literal["transformers", "ctranslate2"]

HOW_TO_CONFIGURE = (
    "no translation model is configured: set KARMAYOGI_MT_MODEL to a local model directory (or pass --model DIR); "
    "get one where a network exists with `karmayogi models fetch NAME --to DIR [--ctranslate2]`"
)


class TranslationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KARMAYOGI_MT_", extra="ignore", populate_by_name=True)

    model: Path | None = Field(default=None, description="Local directory of a transformers or CTranslate2 model")
    # KARMAYOGI_MT_ENGINE is the earlier name, still read: `--engine` now means local or Ray for every batch command.
    backend: EngineKind = Field(
        default="auto",
        validation_alias=AliasChoices("KARMAYOGI_MT_BACKEND", "KARMAYOGI_MT_ENGINE"),
        description="auto: CTranslate2 when the directory holds model.bin",
    )
    device: str = Field(default="cpu", description="Where the model runs: cpu, or cuda with a GPU build")
    beams: int = Field(default=4, ge=1, description="Beam search width (1: greedy, fastest)")
    batch_size: int = Field(default=16, ge=1, description="Segments translated together")


def load_engine(
    model_dir: Path,
    kind: EngineKind = "auto",
    device: str = "cpu",
    beams: int = 4,
    *,
    batch_size: int = 16,
) -> Engine:
    """A transformers or CTranslate2 engine for the model in `model_dir` (never downloads anything)."""
    # The engines load their libraries (CTranslate2; torch and transformers) only when a model is loaded.
    if resolve_backend(model_dir, kind) == "ctranslate2":
        from translation.ct2 import CTranslate2Engine

        return CTranslate2Engine(model_dir, device=device, num_beams=beams, batch_size=batch_size)
    from translation.seq2seq import Seq2SeqEngine

    return Seq2SeqEngine(model_dir, device=device, num_beams=beams, batch_size=batch_size)


def resolve_backend(model_dir: Path, kind: EngineKind = "auto") -> Backend:
    """What `auto` means for this directory: CTranslate2 when it holds a converted model (model.bin)."""
    if kind == "auto":
        return "ctranslate2" if is_ctranslate2_dir(model_dir) else "transformers"
    return kind


def configured_engine(settings: TranslationSettings | None = None) -> Engine | None:
    """The engine `KARMAYOGI_MT_*` asks for, or None when no model is configured."""
    settings = settings or TranslationSettings()
    if settings.model is None:
        return None
    return load_engine(
        settings.model, settings.backend, settings.device, settings.beams, batch_size=settings.batch_size
    )
