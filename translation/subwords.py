"""Tokenizers as the CTranslate2 engine uses them: texts to token strings and token strings back to text.

CTranslate2 needs no tensors, so where the `tokenizers` library alone tokenizes exactly as transformers would
(a tokenizer.json under a generic tokenizer class, no source-language state, nothing that transformers adds or
changes on loading), that library runs it and neither transformers nor torch is imported. Every other tokenizer
is transformers' own: Marian's SentencePiece pair (opus-mt), NLLB and M2M100 (the source language is tokenizer
state), IndicTrans2 (remote code). transformers 5 imports torch as soon as `AutoTokenizer` is imported, when
torch is installed, so those directories load torch on the CTranslate2 path too."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from tokenizers import Tokenizer

from translation.errors import EngineConfigError
from translation.families import detect_family

# Tokenizer classes that are tokenizer.json and nothing more (TokenizersBackend is transformers 5's name).
GENERIC_CLASSES = frozenset({"TokenizersBackend", "PreTrainedTokenizerFast"})
SPECIAL_TOKEN_KEYS = frozenset(
    {"bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"}
)
SPECIAL_LIST_KEYS = frozenset({"additional_special_tokens", "extra_special_tokens"})
# tokenizer_config.json keys that change nothing about tokenizing one text without truncation, or decoding it.
INERT_KEYS = frozenset(
    {
        "backend",
        "tokenizer_class",
        "model_max_length",
        "padding_side",
        "truncation_side",
        "model_input_names",
        "name_or_path",
        "special_tokens_map_file",
        "clean_up_tokenization_spaces",  # allowed when false, checked below
        "added_tokens_decoder",  # allowed when it agrees with tokenizer.json, checked below
        "chat_template",
    }
)


class Subwords(Protocol):
    vocabulary: dict[str, int]

    def encode(self, texts: Sequence[str], source_code: str | None) -> list[list[str]]:
        """Each text as tokens, with the special tokens the model expects (e.g. a final </s>)."""
        ...

    def decode(self, tokens: Sequence[Sequence[str]]) -> list[str]:
        """Each token sequence as text, special tokens left out."""
        ...


class TokenizerJsonSubwords:
    """A tokenizer.json run by the `tokenizers` library: thread-safe, and no torch."""

    def __init__(self, tokenizer: Tokenizer, unk_token: str | None) -> None:
        self.tokenizer = tokenizer
        self.vocabulary = tokenizer.get_vocab(with_added_tokens=True)
        self.unk_id = self.vocabulary.get(unk_token) if unk_token is not None else None

    def encode(self, texts: Sequence[str], source_code: str | None) -> list[list[str]]:
        if source_code is not None:
            raise EngineConfigError("this tokenizer has no source-language setting")
        # From the ids, not `Encoding.tokens`: that keeps the text of a piece outside the vocabulary, not <unk>.
        return [[self._token(index) for index in self.tokenizer.encode(text).ids] for text in texts]

    def decode(self, tokens: Sequence[Sequence[str]]) -> list[str]:
        return [self.tokenizer.decode(self._ids(sequence), skip_special_tokens=True) for sequence in tokens]

    def _token(self, index: int) -> str:
        token = self.tokenizer.id_to_token(index)
        if token is None:  # not for an id that `encode` gave
            raise EngineConfigError(f"the tokenizer has no token with id {index}")
        return token

    def _ids(self, tokens: Sequence[str]) -> list[int]:
        ids = (self.vocabulary.get(token, self.unk_id) for token in tokens)
        return [index for index in ids if index is not None]


class TransformersSubwords:
    """transformers' tokenizer for the directory; one lock, since M2M100 and NLLB keep the source language as
    tokenizer state."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.vocabulary: dict[str, int] = tokenizer.get_vocab()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], source_code: str | None) -> list[list[str]]:
        with self._lock:
            if source_code is not None:
                self.tokenizer.src_lang = source_code
            return [self.tokenizer.convert_ids_to_tokens(self.tokenizer(text)["input_ids"]) for text in texts]

    def decode(self, tokens: Sequence[Sequence[str]]) -> list[str]:
        return [
            self.tokenizer.decode(self.tokenizer.convert_tokens_to_ids(list(sequence)), skip_special_tokens=True)
            for sequence in tokens
        ]


def load_subwords(model_dir: Path, remote: bool) -> Subwords:
    """The `tokenizers` library alone where it tokenizes as transformers would, transformers' tokenizer otherwise."""
    light = None if remote else generic_tokenizer(model_dir)
    if light is not None:
        subwords = TokenizerJsonSubwords(*light)
        if detect_family(model_dir, None, subwords.vocabulary) == "marian":  # the others take a source language
            return subwords
    return TransformersSubwords(load_tokenizer(model_dir, remote))


def load_tokenizer(model_dir: Path, remote: bool) -> Any:
    """transformers' tokenizer from the model's directory; a clear error when the files are not there."""
    from transformers import AutoTokenizer  # imports torch (transformers 5, torch installed)

    try:
        return AutoTokenizer.from_pretrained(model_dir, trust_remote_code=remote, local_files_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise EngineConfigError(
            f"no usable tokenizer in {model_dir} ({error}); the tokenizer files must sit next to the model "
            "(`karmayogi models fetch --ctranslate2` and `translation.ct2.convert_to_ctranslate2` copy them)"
        ) from None


def generic_tokenizer(model_dir: Path) -> tuple[Tokenizer, str | None] | None:
    """The directory's tokenizer.json and unknown token, when transformers would load it unchanged: a generic
    tokenizer class, no setting outside `INERT_KEYS`, and every special token it names already special in the
    file. None otherwise (transformers' tokenizer is then the one to use)."""
    model_dir = Path(model_dir)
    path, config_path = model_dir / "tokenizer.json", model_dir / "tokenizer_config.json"
    if not path.is_file() or not config_path.is_file():
        return None
    config = _json_object(config_path)
    if config.get("tokenizer_class") not in GENERIC_CLASSES or config.get("clean_up_tokenization_spaces"):
        return None
    if set(config) - INERT_KEYS - SPECIAL_TOKEN_KEYS - SPECIAL_LIST_KEYS:
        return None
    data = _json_object(path)
    if data.get("post_processor") is None:
        return None  # transformers would build one
    added = {token["content"]: token for token in data.get("added_tokens", [])}
    for index, entry in config.get("added_tokens_decoder", {}).items():
        token = added.get(entry.get("content"))
        if token is None or token["id"] != int(index) or token.get("special") != entry.get("special"):
            return None
    special_map = model_dir / "special_tokens_map.json"
    named = [config, _json_object(special_map) if special_map.is_file() else {}]
    for settings in named:
        for name in _special_tokens(settings):
            if not added.get(name, {}).get("special"):
                return None  # transformers would add it, or mark it special
    unk = _content(config.get("unk_token"))
    return Tokenizer.from_file(str(path)), unk


def _special_tokens(settings: dict[str, Any]) -> list[str]:
    names = [_content(settings.get(key)) for key in SPECIAL_TOKEN_KEYS]
    for key in SPECIAL_LIST_KEYS:
        value = settings.get(key) or []
        names.extend(_content(item) for item in (value.values() if isinstance(value, dict) else value))
    return [name for name in names if name is not None]


def _content(value: Any) -> str | None:
    """A token as tokenizer_config.json writes it: a string, or an AddedToken's fields."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EngineConfigError(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise EngineConfigError(f"{path} is not a JSON object")
    return data
