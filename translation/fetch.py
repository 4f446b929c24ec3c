"""`karmayogi models fetch`: download a translation model where a network exists (never at run time)."""

from __future__ import annotations

import os
from pathlib import Path

from translation.errors import ModelFetchError

# Short names for the models this project knows how to drive; any other `owner/name` is passed through.
KNOWN_MODELS: dict[str, str] = {
    "indictrans2-en-indic-dist-200M": "ai4bharat/indictrans2-en-indic-dist-200M",
    "indictrans2-en-indic-1B": "ai4bharat/indictrans2-en-indic-1B",
    "nllb-200-distilled-600M": "facebook/nllb-200-distilled-600M",
    "m2m100_418M": "facebook/m2m100_418M",
    "opus-mt-en-hi": "Helsinki-NLP/opus-mt-en-hi",
    "opus-mt-en-mul": "Helsinki-NLP/opus-mt-en-mul",
}


def fetch_model(name: str, to: Path, ctranslate2: bool = False) -> Path:
    """Download `name` into `to` (and convert it to CTranslate2 int8 in `to/ct2` when asked)."""
    repo_id = KNOWN_MODELS.get(name, name)
    if "/" not in repo_id:
        raise ModelFetchError(f"unknown model {name!r}; known names: {', '.join(KNOWN_MODELS)}, or give owner/name")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise ModelFetchError(
            f"cannot download {repo_id}: HF_HUB_OFFLINE is set. Run `HF_HUB_OFFLINE=0 karmayogi models fetch {name} "
            f"--to {to}` on a machine with a network and copy the folder here"
        )
    from huggingface_hub import snapshot_download  # imported late: only this command talks to the hub

    try:
        snapshot_download(repo_id=repo_id, local_dir=str(to))
    except Exception as error:  # HTTP, DNS, TLS and hub errors come from several libraries; all mean the same here
        raise ModelFetchError(
            f"could not download {repo_id} ({type(error).__name__}: {error}). Without a network, fetch it on "
            "another machine and copy the folder, then set KARMAYOGI_MT_MODEL to it"
        ) from None
    if ctranslate2:
        from translation.ct2 import convert_to_ctranslate2

        return convert_to_ctranslate2(Path(to), Path(to) / "ct2")
    return Path(to)
