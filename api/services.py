"""What the service loads once at start-up and shares between requests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.metrics import Metrics
from api.settings import ApiSettings
from models import check_schema, make_engine


@dataclass
class Services:
    settings: ApiSettings
    engine: Engine
    sessions: sessionmaker[Session]
    signing_secret: str

    def watch(self, metrics: Metrics) -> None:
        """Keep the gauges that describe loaded state current at each scrape."""

    def readiness(self) -> dict[str, str]:
        """Checks beyond the database: "ok" or what is wrong, by component."""
        return {}

    def close(self) -> None:
        self.engine.dispose()


def load_services(settings: ApiSettings) -> Services:
    """Connect to the (migrated) database and load what the routes need, once."""
    engine = make_engine(settings.database_url)
    check_schema(engine)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessionmaker(bind=engine, expire_on_commit=False),
        signing_secret=settings.signing_secret(),
    )
