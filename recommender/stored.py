"""The one place that builds the recommender, and the searcher beside it, over the stored catalog. The command
line, the HTTP service, batch runs, the evaluation and the notebooks all call `load_recommender`, so that they
rank a learner alike: the searcher is always the stored course index (built first when it is missing or stale)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from models import catalog_fingerprint, session_scope
from recommender.inputs import load_inputs
from recommender.ranking import RankingConfig
from recommender.recommend import Recommender
from search import CourseSearcher, RetrievalConfig, open_or_build_searcher


@dataclass(frozen=True)
class StoredRecommender:
    """A recommender and its searcher from one state of the catalog (`fingerprint`)."""

    fingerprint: str
    recommender: Recommender
    searcher: CourseSearcher | None  # None: tag evidence only, no search


def load_recommender(
    engine: Engine,
    home: Path,
    *,
    search: RetrievalConfig | None = RetrievalConfig(),
    ranking: RankingConfig | None = None,
    notify: Callable[[str], None] | None = None,
) -> StoredRecommender:
    """The recommender over the catalog in `engine` (approved translations included). With a `search`
    configuration its text evidence comes from the course index under `home`, which is built first when it is
    missing or stale (`notify` hears why); with None it uses tag evidence only. An empty catalog has no index."""
    with session_scope(engine) as session:
        fingerprint = catalog_fingerprint(session)
        inputs = load_inputs(session)
    searcher = None
    if search is not None and inputs.courses:
        searcher = open_or_build_searcher(engine, home, search, notify)
    recommender = Recommender(inputs, searcher.match_texts if searcher else None, ranking=ranking)
    return StoredRecommender(fingerprint, recommender, searcher)
