"""The search index and the recommender that the routes share, loaded together from the stored catalog.

Both come from `recommender.load_recommender`, the same factory the command line uses (the index is opened from
KARMAYOGI_HOME, or built there when missing or stale), rebuilt
in the background when the catalog changes (a bulk ingest, or the CLI), and swapped in whole, so that a
request never sees an index from one state of the catalog and a recommender from another.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy import Engine

from api.errors import NotReady
from models import catalog_fingerprint, session_scope
from recommender import Recommender, StoredRecommender, load_recommender
from search import CourseSearcher, RetrievalConfig

log = logging.getLogger("karmayogi.api.recommender")
Loaded = StoredRecommender


class EmptyCatalogError(RuntimeError):
    pass


class LiveCatalog:
    """What the routes read: `recommender.load_recommender` over the stored catalog (with the course index under
    `home` when `search` is configured), reloaded whole when the catalog changes."""

    def __init__(self, engine: Engine, home: Path, search: RetrievalConfig | None) -> None:
        self.engine = engine
        self.home = home
        self.search = search
        self._loaded: Loaded | None = None
        self._lock = threading.Lock()  # one load at a time
        self._starting = threading.Lock()  # guards starting the background thread; never held while loading
        self._reloading: threading.Thread | None = None
        self._problem: str | None = None  # why the last load failed

    def get(self) -> Loaded:
        """What is loaded (loading it now on first use); NotReady when there is nothing to load."""
        loaded = self._loaded
        if loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._try_load()
                loaded = self._loaded
        if loaded is None:
            raise NotReady(f"recommendations and search are not available: {self._problem}")
        return loaded

    def recommender(self) -> Recommender:
        return self.get().recommender

    def searcher(self) -> CourseSearcher:
        searcher = self.get().searcher
        if searcher is None:
            raise NotReady("search is switched off in this service (KARMAYOGI_SEMANTIC=false)")
        return searcher

    @property
    def size(self) -> int:
        return len(self._loaded.recommender.inputs.courses) if self._loaded else 0

    def status(self) -> str:
        """ "ok" when what is loaded matches the stored catalog; otherwise why not (and start a reload)."""
        if self._loaded is None:
            self.reload_in_background()
            return self._problem or "loading"
        with session_scope(self.engine) as session:
            stored = catalog_fingerprint(session)
        if stored == self._loaded.fingerprint:
            return "ok"
        self.reload_in_background()
        return "stale: the catalog changed since the index was loaded; reloading"

    def reload_in_background(self) -> None:
        with self._starting:
            if self._reloading is not None and self._reloading.is_alive():
                return
            self._reloading = threading.Thread(target=self._reload, name="catalog-reload", daemon=True)
            self._reloading.start()

    def _reload(self) -> None:
        with self._lock:
            self._try_load()

    def _try_load(self) -> None:
        try:
            self._loaded = self._load()
            self._problem = None
        except EmptyCatalogError as error:
            self._problem = str(error)
        except Exception as error:
            log.exception("loading the index and recommender failed; what was loaded before keeps serving")
            self._problem = f"loading failed ({type(error).__name__}); see the service log"

    def _load(self) -> Loaded:
        loaded = load_recommender(self.engine, self.home, search=self.search)
        inputs = loaded.recommender.inputs
        if not inputs.courses:
            raise EmptyCatalogError("the catalog has no courses yet: ingest some")
        if loaded.searcher is not None:
            # The first searches build BM25 and load the language detector: pay for that here, not in a request.
            loaded.searcher.search_many(["office procedure", "कार्यालय प्रक्रिया"], 1)
        # Every (competency, level) row now, so that requests only read the table from many threads at once.
        loaded.recommender.coverage_.ensure_all()
        log.info("loaded: %d courses, %d competencies", len(inputs.courses), len(inputs.competencies))
        return loaded
