"""The search index and the recommender that the routes share, kept current by following the change feed.

A worker loads them once with `recommender.load_recommender` (the factory the command line uses too), then
applies the feed's changes after the sequence it holds (`models.changes`), a batch at a time: each batch yields
a new state (`recommender.refresh_recommender`: only the changed courses are read and encoded again) that is
swapped in whole, so that a request never sees an index from one state of the catalog and a recommender from
another, and the previous state serves until the next is ready. On SQLite the feed is polled; on PostgreSQL a
`LISTEN` wakes the worker at once, and polling stays the fallback.

The served index is also saved under `home` once the worker has been idle for `persist_after` seconds after a
change (`search.storage.persist_searcher`: atomic, once per state among the workers, in a thread of its own so
that applying never waits for it), so that a restart starts from a recent state. The database's feed is what is
durable; the saved index is a consistent state of the catalog at a recorded sequence, whatever moment a crash
hits.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import Engine

from api.errors import NotReady
from models import catalog_fingerprint, changes_after, database_unavailable, error_line, latest_sequence, session_scope
from models.changes import NOTIFY_CHANNEL
from recommender import Recommender, StoredRecommender, load_recommender
from recommender.stored import refresh_recommender
from search import CourseSearcher, RetrievalConfig, index_path
from search.storage import persist_searcher

log = logging.getLogger("karmayogi.api.recommender")
Loaded = StoredRecommender
POLL_SECONDS = 0.05  # how often the feed is read when nothing wakes the worker (one indexed max() query)
PERSIST_AFTER_SECONDS = 10.0  # idle time after the last applied change before the served index is saved
BATCH = 256  # feed rows applied per new state: a 2,000-course ingest reaches the service in steps


class EmptyCatalogError(RuntimeError):
    pass


@dataclass(frozen=True)
class Freshness:
    """How current the served state is: `/readyz` and `/metrics` report it."""

    loaded: bool
    problem: str | None  # why nothing is loaded, or why the last step failed
    applied_sequence: int  # the last change the served state includes
    catalog_sequence: int  # the last change in the feed, when last read
    behind_seconds: float  # age of the oldest change not yet served (0 when caught up)
    courses: int


class LiveCatalog:
    """What the routes read. `start` loads it in the background and follows the feed; `get` returns the state
    being served (loading it first if nothing was started)."""

    def __init__(
        self,
        engine: Engine,
        home: Path,
        search: RetrievalConfig | None,
        *,
        poll_seconds: float = POLL_SECONDS,
        persist_after: float | None = PERSIST_AFTER_SECONDS,
    ) -> None:
        self.engine = engine
        self.home = home
        self.search = search
        self.poll_seconds = poll_seconds
        self.persist_after = persist_after  # None: never save the served index
        self._persisted: CourseSearcher | None = None  # the searcher last saved (or loaded as saved)
        self._applied_at = 0.0  # time.monotonic() of the last applied batch
        self._saver: threading.Thread | None = None
        self._loaded: Loaded | None = None
        self._load_lock = threading.Lock()  # one load or apply at a time
        self._problem: str | None = None
        self._catalog_sequence = 0
        self._oldest_pending: datetime | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()

    # --- what the routes read -----------------------------------------------------------------------------
    def get(self) -> Loaded:
        """The state being served; NotReady when nothing could be loaded."""
        loaded = self._loaded
        if loaded is None:
            with self._load_lock:
                if self._loaded is None:
                    self._try_load()
                loaded = self._loaded
            self.start()
        if loaded is None:
            raise NotReady(f"recommendations and search are not available: {self._problem}")
        return loaded

    def recommender(self) -> Recommender:
        return self.get().recommender

    def searcher(self) -> CourseSearcher:
        return self.searcher_of(self.get())

    @staticmethod
    def searcher_of(loaded: Loaded) -> CourseSearcher:
        if loaded.searcher is None:
            raise NotReady("search is switched off in this service (KARMAYOGI_SEMANTIC=false)")
        return loaded.searcher

    @property
    def size(self) -> int:
        return len(self._loaded.recommender.inputs.courses) if self._loaded else 0

    def freshness(self) -> Freshness:
        """Never touches the database: what the follower last saw."""
        loaded = self._loaded
        pending = self._oldest_pending
        behind = (datetime.now(UTC) - pending).total_seconds() if pending is not None else 0.0
        return Freshness(
            loaded=loaded is not None,
            problem=self._problem,
            applied_sequence=loaded.sequence if loaded else 0,
            catalog_sequence=max(self._catalog_sequence, loaded.sequence if loaded else 0),
            behind_seconds=max(behind, 0.0),
            courses=self.size,
        )

    # --- following the feed ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Load (if not yet) and follow the feed in a background thread; idempotent."""
        with self._thread_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._follow, name="catalog-follower", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Read the feed now (a writer in this process just committed a change)."""
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def apply_pending(self) -> bool:
        """Apply one batch of the feed's changes after the served state; True when there may be more."""
        with self._load_lock:
            loaded = self._loaded
            if loaded is None:
                self._try_load()
                return False
            # A plain connection, not a session: this runs 20 times a second in every worker, and a session's
            # set-up and commit cost more than the query (issue 16: 7 % of a core per worker while serving).
            with self.engine.connect() as connection:
                self._catalog_sequence = latest_sequence(connection)
                if self._catalog_sequence <= loaded.sequence:
                    self._oldest_pending = None
                    return False
                changes = changes_after(connection, loaded.sequence, BATCH)
            if not changes:
                return False
            self._oldest_pending = changes[0].recorded_at
            started = time.perf_counter()
            state = refresh_recommender(self.engine, loaded, changes)
            state.recommender.coverage_.ensure_all()
            self._loaded = state
            self._applied_at = time.monotonic()
            self._problem = None
            log.info(
                "applied changes %d-%d (%d) in %.2f s",
                changes[0].sequence,
                changes[-1].sequence,
                len(changes),
                time.perf_counter() - started,
            )
            more = changes[-1].sequence < self._catalog_sequence
            if not more:
                self._oldest_pending = None
            return more

    def _follow(self) -> None:
        listener = _Listener(self.engine) if self.engine.dialect.name == "postgresql" else None
        try:
            while not self._stop.is_set():
                try:
                    more = self.apply_pending()
                except Exception as error:
                    # What is served stays served; the next round tries again.
                    if database_unavailable(error):  # not a fault of ours: one line, no traceback
                        log.warning("the catalog's changes wait: the database is unavailable (%s)", error_line(error))
                    else:
                        log.exception("applying the catalog's changes failed; the previous state keeps serving")
                    self._problem = f"applying changes failed ({type(error).__name__}); see the service log"
                    more = False
                    self._stop.wait(1.0)
                if more:
                    continue
                self._persist_when_idle()
                if listener is not None:
                    listener.wait(self.poll_seconds * 5, self._wake)
                else:
                    self._wake.wait(self.poll_seconds)
                self._wake.clear()
        finally:
            if listener is not None:
                listener.close()

    # --- saving the served index --------------------------------------------------------------------------------
    def _persist_when_idle(self) -> None:
        loaded = self._loaded
        if self.persist_after is None or loaded is None or loaded.searcher is None:
            return
        if loaded.searcher is self._persisted or time.monotonic() - self._applied_at < self.persist_after:
            return
        if self._saver is not None and self._saver.is_alive():
            return
        self._saver = threading.Thread(target=self.persist, args=(loaded,), name="index-saver", daemon=True)
        self._saver.start()

    def persist(self, state: Loaded) -> bool:
        """Save `state`'s index under `home` (unless the saved one is as recent); True when it was written."""
        searcher = state.searcher
        if searcher is None:
            return False
        try:
            with session_scope(self.engine) as session:
                # The catalog's fingerprint names the saved state only when nothing came after it; otherwise a
                # placeholder, which the next load treats as stale and brings up to date.
                fingerprint = f"unconfirmed: sequence {state.sequence}"
                if latest_sequence(session) == state.sequence:
                    current = catalog_fingerprint(session)
                    if latest_sequence(session) == state.sequence:
                        fingerprint = current
            written = persist_searcher(
                searcher, index_path(self.home), catalog_fingerprint=fingerprint, sequence=state.sequence
            )
        except Exception:
            log.exception("saving the course index failed; the served state is unaffected")
            return False
        self._persisted = searcher
        if written:
            log.info("saved the course index at change %d", state.sequence)
        return written

    def _try_load(self) -> None:
        try:
            loaded = load_recommender(self.engine, self.home, search=self.search)
            self._persisted = loaded.searcher  # as saved: opened from, or brought up to date and saved to, home
            self._loaded = self._ready(loaded)
            self._catalog_sequence = loaded.sequence
            self._problem = None
        except EmptyCatalogError as error:
            self._problem = str(error)
        except Exception as error:
            log.exception("loading the index and recommender failed")
            self._problem = f"loading failed ({type(error).__name__}); see the service log"

    def _ready(self, loaded: Loaded) -> Loaded:
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


class _Listener:
    """PostgreSQL `LISTEN` on the feed's channel, on a connection of its own; when it cannot connect, waiting
    is plain polling and it tries again at the next wait."""

    def __init__(self, engine: Engine) -> None:
        self.url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.connection: psycopg.Connection[tuple[object, ...]] | None = None

    def wait(self, seconds: float, wake: threading.Event) -> None:
        connection = self._connected()
        if connection is None:
            wake.wait(seconds)
            return
        try:
            # Short slices, so that a `wake` from this process is not kept waiting for a whole timeout.
            deadline = time.monotonic() + seconds
            while not wake.is_set() and time.monotonic() < deadline:
                if any(True for _ in connection.notifies(timeout=0.1, stop_after=1)):
                    return
        except psycopg.Error:
            log.warning("lost the PostgreSQL LISTEN connection; polling until it is back")
            self.close()

    def _connected(self) -> psycopg.Connection[tuple[object, ...]] | None:
        if self.connection is None:
            try:
                self.connection = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
                self.connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
            except psycopg.Error:
                self.connection = None
        return self.connection

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None
