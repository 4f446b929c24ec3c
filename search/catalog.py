"""The course index of a catalog stored in the database: where it lives under KARMAYOGI_HOME, building it from
the catalog, and opening it with a check that it still matches the catalog (or building it when it does not)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from embeddings import (
    EmbeddingCache,
    IndexCorruptError,
    IndexManifest,
    IndexMismatchError,
    IndexNotFoundError,
    load_encoder,
    read_manifest,
)
from embeddings.index import IndexKind
from models import catalog_fingerprint, list_courses, load_competency_model, session_scope
from search.building import EncoderLoader, build_searcher
from search.config import RetrievalConfig
from search.searcher import CourseSearcher, Progress
from search.storage import load_searcher, save_searcher
from search.updates import updated_searcher

log = logging.getLogger("karmayogi.search")


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
    *,
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
        searcher = build_searcher(
            courses, names, config, cache=cache, progress=progress, index_kind=index_kind, encoder_loader=encoder_loader
        )
        path = index_path(home)
        manifest = save_searcher(searcher, path, fingerprint)
    finally:
        cache.close()
    encoded = sum(getattr(encoder, "encoded", 0) for encoder in searcher.parts.encoders())
    return BuildReport(manifest, path, time.perf_counter() - started, encoded)


def open_course_searcher(engine: Engine, home: Path, config: RetrievalConfig = RetrievalConfig()) -> CourseSearcher:
    """The stored index, refused with a rebuild hint when the catalog or the encoders changed since."""
    with session_scope(engine) as session:
        fingerprint = catalog_fingerprint(session)
    return load_searcher(index_path(home), config, fingerprint)


def open_or_build_searcher(
    engine: Engine,
    home: Path,
    config: RetrievalConfig = RetrievalConfig(),
    notify: Callable[[str], None] | None = None,
) -> CourseSearcher:
    """The stored index, brought up to date when the catalog changed since it was saved (only the courses
    whose text or facts differ are encoded again, and the result is saved), or built first when it is missing,
    damaged or made with other encoders (the embedding cache spares unchanged texts). `notify` hears why."""
    path = index_path(home)
    with session_scope(engine) as session:
        fingerprint = catalog_fingerprint(session)
        courses = list_courses(session)
        names = {competency.id: competency.name for competency in load_competency_model(session).competencies}
    try:
        searcher = load_searcher(path, config)  # the encoders are checked here, the catalog below
        saved_from = read_manifest(path).catalog_fingerprint
    except (IndexNotFoundError, IndexMismatchError, IndexCorruptError) as why:
        _tell(notify, f"building the course index: {why}")
        build_course_index(engine, home, config)
        return open_course_searcher(engine, home, config)
    if saved_from == fingerprint:
        return searcher
    current = {course.identifier for course in courses}
    removed = [identifier for identifier in searcher.texts if identifier not in current]
    updated = updated_searcher(searcher, courses, removed, names)
    _tell(notify, f"updating the course index: {len(courses)} courses, {len(removed)} removed since it was saved")
    save_searcher(updated, path, fingerprint)
    return updated


def _tell(notify: Callable[[str], None] | None, message: str) -> None:
    log.info(message)
    if notify is not None:
        notify(message)
