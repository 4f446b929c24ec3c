"""Saving a searcher to one file and opening it again (embeddings.store does the atomic writing and the checks).

The file names each part as it always has ("dense", "multilingual", "segments", "tokens"), so that indexes built
before the search package existed still open."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from embeddings import EmbeddingCache, IndexManifest, TokenIndex, VectorIndex, load_index, save_index
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


def save_searcher(searcher: CourseSearcher, path: Path, catalog_fingerprint: str) -> IndexManifest:
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
    )
    payload: dict[str, Any] = {"texts": searcher.texts, "facts": {i: asdict(f) for i, f in searcher.facts.items()}}
    if searcher.config.neighbour_weight > 0:
        payload["neighbours"] = searcher.neighbours()
    save_index(path, stored, manifest, payload)
    return manifest


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
