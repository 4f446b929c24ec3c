"""The course index of a catalog stored in the database: where it lives under KARMAYOGI_HOME, building it from
the catalog, and opening it with a check that it still matches the catalog."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from embeddings import EmbeddingCache, IndexManifest, load_encoder
from embeddings.index import IndexKind
from models import catalog_fingerprint, list_courses, load_competency_model, session_scope
from recommender.retrieval import (
    CourseSearcher,
    EncoderLoader,
    Progress,
    RetrievalConfig,
    build_searcher,
    load_searcher,
)


def index_path(home: Path) -> Path:
    return home / "index" / "courses.npz"


def cache_path(home: Path) -> Path:
    return home / "cache" / "embeddings.sqlite"


@dataclass(frozen=True)
class BuildReport:
    manifest: IndexManifest
    path: Path
    seconds: float
    encoded: int

    @property
    def count(self) -> int:
        return self.manifest.count


def count_courses(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(list_courses(session))


def build_course_index(
    engine: Engine,
    home: Path,
    config: RetrievalConfig = RetrievalConfig(),
    progress: Progress | None = None,
    index_kind: IndexKind = "auto",
    encoder_loader: EncoderLoader = load_encoder,
) -> BuildReport:
    """Index every course in the database and save the index atomically under `home`. Passages whose text
    did not change since an earlier build come from the embedding cache."""
    started = time.perf_counter()
    with session_scope(engine) as session:
        courses = list_courses(session)
        names = {competency.id: competency.name for competency in load_competency_model(session).competencies}
        fingerprint = catalog_fingerprint(session)
    cache = EmbeddingCache(cache_path(home))
    try:
        searcher = build_searcher(courses, names, config, cache, progress, index_kind, encoder_loader)
        path = index_path(home)
        manifest = searcher.save(path, fingerprint)
    finally:
        cache.close()
    encoded = sum(getattr(encoder, "encoded", 0) for encoder in searcher.encoders.values())
    return BuildReport(manifest, path, time.perf_counter() - started, encoded)


def open_course_searcher(engine: Engine, home: Path, config: RetrievalConfig = RetrievalConfig()) -> CourseSearcher:
    """The stored index, refused with a rebuild hint when the catalog or the encoders changed since."""
    with session_scope(engine) as session:
        fingerprint = catalog_fingerprint(session)
    return load_searcher(index_path(home), config, fingerprint)
