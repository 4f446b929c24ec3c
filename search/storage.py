"""Saving a searcher to one file and opening it again (embeddings.store does the atomic writing and the checks).

The file names each part as it always has ("dense", "multilingual", "segments", "tokens"), so that indexes built
before the search package existed still open."""

from __future__ import annotations

import fcntl
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from embeddings import (
    EmbeddingCache,
    IndexManifest,
    SearchIndexError,
    TokenIndex,
    VectorIndex,
    load_index,
    read_manifest,
    save_index,
)
from embeddings.cache import gives_tokens
from embeddings.store import IndexMismatchError, StoredIndex
from search.building import load_encoders
from search.config import CourseFacts, RetrievalConfig
from search.searcher import CourseSearcher, SearchParts
from search.sentences import SentenceIndex

PASSAGES = "dense"
MULTILINGUAL = "multilingual"
SENTENCES = "segments"
TOKENS = "tokens"
# A temporary index file this old is no write in progress (a save takes seconds) but one a crash left behind.
_ABANDONED_SECONDS = 600


def save_searcher(
    searcher: CourseSearcher, path: Path, catalog_fingerprint: str, *, sequence: int = 0
) -> IndexManifest:
    parts = searcher.parts
    stored: dict[str, StoredIndex] = {PASSAGES: parts.passages}
    encoders = {PASSAGES: parts.encoder.model_id}
    if parts.multilingual is not None and parts.multilingual_encoder is not None:
        stored[MULTILINGUAL] = parts.multilingual
        encoders[MULTILINGUAL] = parts.multilingual_encoder.model_id
    if parts.sentences is not None:
        stored[SENTENCES] = parts.sentences.vectors
    if parts.tokens is not None:
        stored[TOKENS] = parts.tokens
    kinds = {name: index.kind_ for name, index in stored.items() if isinstance(index, VectorIndex)}
    manifest = IndexManifest(
        encoders=encoders,
        dimensions={name: index.dimension for name, index in stored.items()},
        count=len(searcher.texts),
        catalog_fingerprint=catalog_fingerprint,
        settings=asdict(searcher.config) | {"index_kinds": kinds},
        sequence=sequence,
    )
    payload: dict[str, Any] = {"texts": searcher.texts, "facts": {i: asdict(f) for i, f in searcher.facts.items()}}
    if searcher.config.neighbour_weight > 0:
        payload["neighbours"] = searcher.neighbours()
    save_index(path, stored, manifest, payload)
    return manifest


def persist_searcher(searcher: CourseSearcher, path: Path, *, catalog_fingerprint: str, sequence: int) -> bool:
    """Save a serving process's searcher, current up to change `sequence` of the feed, unless the index at
    `path` already holds that state or a later one; False when it did not write. The workers of one service
    take turns on a lock file beside the index, so that each state is written once. `save_index` writes a
    temporary file, fsyncs it and renames it over `path`: a crash (kill -9) at any point leaves the previous
    index or this one, whole, and the feed after its sequence is what a loader applies again (a fingerprint
    that does not match the catalog makes `open_or_build_searcher` bring it up to date). Temporary files that a
    crash left behind are removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(path.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed, or when the process dies
        try:
            stored = read_manifest(path).sequence
        except SearchIndexError:
            stored = -1  # missing or unreadable: anything consistent is better
        if stored >= sequence:
            return False
        for left in path.parent.glob(f".{path.name}.*.tmp"):
            if time.time() - left.stat().st_mtime > _ABANDONED_SECONDS:
                left.unlink(missing_ok=True)
        save_searcher(searcher, path, catalog_fingerprint, sequence=sequence)
        return True


def load_searcher(
    path: Path,
    config: RetrievalConfig = RetrievalConfig(),
    catalog_fingerprint: str | None = None,
    cache: EmbeddingCache | None = None,
) -> CourseSearcher:
    """Open a stored index. It must have been built with the configured encoders and, when a fingerprint is
    given, from the current catalog; otherwise a clear error says to rebuild it."""
    indexes, manifest, payload = load_index(path)
    english, multilingual = load_encoders(config, cache)
    wanted = {PASSAGES: english.model_id} | ({MULTILINGUAL: multilingual.model_id} if multilingual else {})
    manifest.check(wanted, catalog_fingerprint, path)
    needs = {SENTENCES: config.segment_weight > 0, TOKENS: config.token_weight > 0 and gives_tokens(english)}
    missing = [name for name, needed in needs.items() if needed and name not in indexes]
    if missing:
        raise IndexMismatchError(
            f"the index at {path} was built without {' and '.join(missing)} vectors, which this configuration "
            "uses: run `karmayogi index build` to rebuild it"
        )
    # An index built with more parts still serves a configuration with fewer: those parts stay unused.
    parts = SearchParts(
        encoder=english,
        passages=_vectors(indexes, PASSAGES, path),
        multilingual_encoder=multilingual,
        multilingual=_vectors(indexes, MULTILINGUAL, path) if multilingual else None,
        sentences=SentenceIndex(_vectors(indexes, SENTENCES, path)) if needs[SENTENCES] else None,
        tokens=_tokens(indexes, path) if needs[TOKENS] else None,
    )
    facts = {identifier: CourseFacts(**values) for identifier, values in payload["facts"].items()}
    return CourseSearcher(config, parts, payload["texts"], facts, neighbours=payload.get("neighbours"))


def _vectors(indexes: dict[str, StoredIndex], name: str, path: Path) -> VectorIndex:
    index = indexes.get(name)
    if not isinstance(index, VectorIndex):
        raise IndexMismatchError(f"the index at {path} has no {name} vectors: run `karmayogi index build`")
    return index


def _tokens(indexes: dict[str, StoredIndex], path: Path) -> TokenIndex:
    index = indexes.get(TOKENS)
    if not isinstance(index, TokenIndex):
        raise IndexMismatchError(f"the index at {path} has no token vectors: run `karmayogi index build`")
    return index
