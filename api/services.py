"""What the service loads once at start-up and shares between requests."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.jobs import JobRunner
from api.metrics import Metrics
from api.recommending import LiveCatalog
from api.settings import Settings
from models import check_schema, make_engine, session_scope
from models.tables import TranslationJobRow
from search import RetrievalConfig, retrieval_config
from translation import Engine as MTEngine
from translation import Glossary, catalog_glossary, configured_engine

log = logging.getLogger("karmayogi.api")


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    signing_secret: str
    mt: MTEngine | None = None
    search: RetrievalConfig | None = None  # None: no course index, tag evidence only
    jobs: JobRunner = field(init=False)
    catalog: LiveCatalog = field(init=False)
    _glossary: Glossary | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.jobs = JobRunner(self.engine, self.mt, self.glossary)
        self.catalog = LiveCatalog(self.engine, self.settings.home, self.search)

    def glossary(self) -> Glossary:
        """The shipped glossary plus the KCM competencies, read from the database on first use."""
        with self._lock:
            if self._glossary is None:
                with session_scope(self.engine) as session:
                    self._glossary = catalog_glossary(session)
            return self._glossary

    def watch(self, metrics: Metrics) -> None:
        """Keep the gauges that describe loaded state current at each scrape."""
        metrics.on_scrape(self._job_progress)
        metrics.on_scrape(self._catalog_freshness)

    def close(self) -> None:
        self.catalog.close()
        self.jobs.close()
        self.engine.dispose()

    def _catalog_freshness(self, metrics: Metrics) -> None:
        freshness = self.catalog.freshness()
        metrics.index_size.set(freshness.courses)
        metrics.catalog_sequence.set(freshness.catalog_sequence)
        metrics.applied_sequence.set(freshness.applied_sequence)
        metrics.behind_seconds.set(freshness.behind_seconds)

    def _job_progress(self, metrics: Metrics) -> None:
        metrics.job_units.clear()
        try:
            running = self._running_jobs()
        except SQLAlchemyError as error:  # /metrics must answer while the database is down
            log.warning("translation job gauges skipped: database unavailable (%s)", type(error).__name__)
            return
        for job_id, report in running:
            units = int(report.get("units", 0))
            pending = units - sum(
                int(report.get(name, 0))
                for name in ("already_done", "not_english", "from_memory", "machine_translated", "fuzzy", "queued")
            )
            metrics.job_units.labels(job_id, "total").set(units)
            metrics.job_units.labels(job_id, "pending").set(max(pending, 0))

    def _running_jobs(self) -> list[tuple[str, dict[str, int]]]:
        with session_scope(self.engine) as session:
            rows = session.execute(
                TranslationJobRow.__table__.select()
                .with_only_columns(TranslationJobRow.id, TranslationJobRow.report)
                .where(TranslationJobRow.status == "running")
            )
            return [(str(job_id), dict(report)) for job_id, report in rows]


def load_services(settings: Settings) -> Services:
    """Connect to the (migrated) database and load what the routes need, once."""
    engine = make_engine(settings.database_url, settings.database)
    check_schema(engine)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=sessionmaker(bind=engine, expire_on_commit=False),
        signing_secret=settings.signing_secret(),
        mt=configured_engine(settings.mt),
        search=retrieval_config(settings.search) if settings.service.semantic else None,
    )
    # Encoding the catalog takes a while on CPU: load in the background, then follow the change feed; /readyz
    # answers 503 until the first state is loaded and early requests wait for it.
    services.catalog.start()
    return services
