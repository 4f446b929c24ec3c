"""The judged-set evaluation on a scratch copy of the sample catalog, so that its figures never depend on what the
live database holds (approved translations, new courses, learners): the same command prints the same table.

The sample files under data/ are ingested into a throw-away SQLite database and indexed under a throw-away home,
exactly as `load_recommender` builds the recommender for the live catalog. Only the embedding cache may be shared
with a real home: it is keyed by (model, text hash), so it changes how long the run takes, never what it finds."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from models import ingest_file, make_engine, upgrade
from models.sample_data import SAMPLE_FILES
from recommender.evaluation import SystemScores, evaluate_recommender
from recommender.stored import load_recommender
from search import RetrievalConfig


def evaluate_on_sample(
    judged: Path,
    search: RetrievalConfig | None,
    *,
    cache_home: Path | None = None,
    notify: Callable[[str], None] | None = None,
) -> tuple[int, list[SystemScores]]:
    """`evaluate_recommender` over a fresh copy of the sample catalog (with `search`: text evidence from its own
    course index; None: tags only). `cache_home`: a KARMAYOGI_HOME whose embedding cache to read and fill."""
    with tempfile.TemporaryDirectory(prefix="karmayogi-eval-") as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        if cache_home is not None:
            shared = cache_home / "cache"
            shared.mkdir(parents=True, exist_ok=True)
            (home / "cache").symlink_to(shared.resolve(), target_is_directory=True)
        engine = make_engine(f"sqlite:///{Path(scratch) / 'sample.db'}")
        try:
            upgrade(engine)
            for kind, path in SAMPLE_FILES:
                ingest_file(engine, kind, path)
            loaded = load_recommender(engine, home, search=search, notify=notify)
            return evaluate_recommender(loaded.recommender, judged)
        finally:
            engine.dispose()
