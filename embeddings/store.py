"""Saving and loading a vector index with its manifest as one file, atomically (write, fsync, rename)."""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.index import VectorIndex
from embeddings.tokens import TokenIndex

StoredIndex = VectorIndex | TokenIndex
# Arrays of a token index in the file, after its name and a dot.
_TOKEN_ARRAYS = ("lengths", "codes", "scales")

FORMAT_VERSION = 2  # 2: sentence and token vectors beside the passage vectors
REBUILD_HINT = "run `karmayogi index build` to rebuild it"


class SearchIndexError(RuntimeError):
    """Base of the errors about a stored search index; each message says how to fix it."""


class IndexNotFoundError(SearchIndexError):
    pass


class IndexCorruptError(SearchIndexError):
    pass


class IndexMismatchError(SearchIndexError):
    """The stored index was built with another encoder, or from another state of the catalog."""


@dataclass(frozen=True)
class IndexManifest:
    """What a stored index was built from. `encoders` maps each vector index in the file to its encoder id,
    `dimensions` to its dimension; `count` is the number of items (courses) indexed."""

    encoders: dict[str, str]
    dimensions: dict[str, int]
    count: int
    catalog_fingerprint: str
    settings: dict[str, Any] = field(default_factory=dict)
    built_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION
    # The catalog's change feed up to which the index is current, when a serving process saved it (0: a build).
    sequence: int = 0

    def check(self, encoders: dict[str, str], catalog_fingerprint: str | None, path: Path) -> None:
        """Refuse an index that other encoders built, or one that no longer matches the catalog."""
        for name, encoder_id in encoders.items():
            built_with = self.encoders.get(name)
            if built_with != encoder_id:
                raise IndexMismatchError(
                    f"the index at {path} was built with {name} encoder {built_with!r}, but the configured one "
                    f"is {encoder_id!r}: {REBUILD_HINT}, or configure the encoder it was built with"
                )
        if catalog_fingerprint is not None and self.catalog_fingerprint != catalog_fingerprint:
            raise IndexMismatchError(
                f"the index at {path} is stale: the catalog changed since it was built ({self.built_at}); "
                + REBUILD_HINT
            )


def save_index(path: Path, indexes: dict[str, StoredIndex], manifest: IndexManifest, payload: dict[str, Any]) -> None:
    """Write the named vector (and token) indexes, the manifest and a JSON payload to a temporary file beside
    `path`, then rename it over `path`: a crash at any point leaves the previous index intact, all of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header: dict[str, Any] = {"manifest": asdict(manifest), "indexes": {}, "payload": payload}
    arrays: dict[str, np.ndarray] = {}
    for name, index in indexes.items():
        if isinstance(index, TokenIndex):
            tokens = index.state()
            header["indexes"][name] = {"type": "tokens"} | {
                key: value for key, value in tokens.items() if key not in _TOKEN_ARRAYS
            }
            arrays.update({f"{name}.{key}": np.asarray(tokens[key]) for key in _TOKEN_ARRAYS})
            continue
        state = index.state()
        header["indexes"][name] = {key: value for key, value in state.items() if key not in ("vectors", "faiss")}
        arrays[f"{name}.vectors"] = np.asarray(state["vectors"], dtype=np.float32)
        if "faiss" in state:
            arrays[f"{name}.faiss"] = np.asarray(state["faiss"], dtype=np.uint8)
    arrays["header"] = np.frombuffer(json.dumps(header, ensure_ascii=False).encode(), dtype=np.uint8)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, allow_pickle=False, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def read_manifest(path: Path) -> IndexManifest:
    return _read(path, with_arrays=False)[0]


def load_index(path: Path) -> tuple[dict[str, StoredIndex], IndexManifest, dict[str, Any]]:
    manifest, header, arrays = _read(path, with_arrays=True)
    indexes: dict[str, StoredIndex] = {}
    try:
        for name, settings in header["indexes"].items():
            state: dict[str, object] = dict(settings)
            if state.pop("type", "vectors") == "tokens":
                state.update({key: arrays[f"{name}.{key}"] for key in _TOKEN_ARRAYS})
                indexes[name] = TokenIndex.from_state(state)
                continue
            state["vectors"] = arrays[f"{name}.vectors"]
            if f"{name}.faiss" in arrays:
                state["faiss"] = arrays[f"{name}.faiss"]
            indexes[name] = VectorIndex.from_state(state)
    except (KeyError, ValueError, TypeError, RuntimeError) as error:
        raise IndexCorruptError(f"the index at {path} cannot be read ({error}): {REBUILD_HINT}") from error
    return indexes, manifest, header["payload"]


def _read(path: Path, with_arrays: bool) -> tuple[IndexManifest, dict[str, Any], dict[str, np.ndarray]]:
    if not path.exists():
        raise IndexNotFoundError(f"no search index at {path}: {REBUILD_HINT.replace('rebuild', 'build')}")
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            arrays = {name: data[name] for name in data.files if name != "header"} if with_arrays else {}
        manifest = IndexManifest(**header["manifest"])
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, io.UnsupportedOperation) as error:
        raise IndexCorruptError(f"the index at {path} cannot be read ({error}): {REBUILD_HINT}") from error
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index at {path} has format {manifest.format_version}, this version reads {FORMAT_VERSION}: "
            + REBUILD_HINT
        )
    return manifest, header, arrays


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - some platforms cannot open directories
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
