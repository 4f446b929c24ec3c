"""What a local model directory holds: the checks that the settings, both engines and the converter share.

A leaf module (standard library and our errors only), so that `translation.config`, `translation.ct2` and
`translation.seq2seq` can all use it without importing each other, and without loading any model library."""

from __future__ import annotations

from pathlib import Path

from translation.errors import EngineConfigError


def check_model_dir(model_dir: Path) -> Path:
    """The directory, expanded, when it holds a model's config.json; a clear error otherwise."""
    model_dir = Path(model_dir).expanduser()
    if not (model_dir / "config.json").is_file():
        raise EngineConfigError(
            f"{model_dir} is not a model directory (no config.json): give a local copy of a translation model, "
            "e.g. from `karmayogi models fetch NAME --to DIR`"
        )
    return model_dir


def is_ctranslate2_dir(model_dir: Path) -> bool:
    """A model converted for CTranslate2 (its weights are model.bin)."""
    return (Path(model_dir).expanduser() / "model.bin").is_file()


def needs_remote_code(model_dir: Path) -> bool:
    """IndicTrans2 ships its architecture as code next to the weights; run it only from a local directory."""
    return any(Path(model_dir).glob("*.py"))
