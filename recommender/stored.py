"""The one place that builds the recommender, and the searcher beside it, over the stored catalog. The command
line, the HTTP service, batch runs, the evaluation and the notebooks all call `load_recommender`, so that they
rank a learner alike: the searcher is always the stored course index (built first when it is missing, brought up
to date when it is stale). A serving process then follows the change feed with `refresh_recommender`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from models import (
    Change,
    ChangeKind,
    approved_languages,
    latest_sequence,
    list_courses,
    session_scope,
)
from recommender.inputs import CatalogInputs, department_popularity, load_inputs
from recommender.ranking import RankingConfig
from recommender.recommend import Recommender
from search import CourseSearcher, RetrievalConfig, open_or_build_searcher
from search.updates import updated_searcher


@dataclass(frozen=True)
class StoredRecommender:
    """A recommender and its searcher from one state of the catalog: everything up to change `sequence`."""

    recommender: Recommender
    searcher: CourseSearcher | None  # None: tag evidence only, no search
    sequence: int = 0


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
        # Read first: a change committed while the rest loads is applied again later, which changes nothing.
        sequence = latest_sequence(session)
        inputs = load_inputs(session)
    searcher = None
    if search is not None and inputs.courses:
        searcher = open_or_build_searcher(engine, home, search, notify)
    recommender = Recommender(inputs, searcher.match_texts if searcher else None, ranking=ranking)
    return StoredRecommender(recommender, searcher, sequence)


def refresh_recommender(engine: Engine, current: StoredRecommender, changes: Sequence[Change]) -> StoredRecommender:
    """`current` with `changes` applied: only the courses they name are read again and re-indexed (all of them,
    diffed against the index, after a change to the KCM or roles, since competency names are in every course's
    text). `current` is not modified: the result is a new state to swap in whole."""
    if not changes:
        return current
    kinds = {change.kind for change in changes}
    touched = {change.course_id for change in changes if change.kind == "course" and change.course_id}
    previous = current.recommender.inputs
    with session_scope(engine) as session:
        inputs = load_inputs(session) if "catalog" in kinds else _updated_inputs(session, previous, touched, kinds)
    searcher = current.searcher
    if searcher is not None:
        names = {identifier: competency.name for identifier, competency in inputs.competencies.items()}
        fresh = {course.identifier: course for course in inputs.courses}
        # After a KCM or roles change every course is a candidate (its text names competencies); the diff in
        # `updated_searcher` encodes only those whose text really changed.
        candidates = set(fresh) | set(searcher.texts) if "catalog" in kinds else touched
        upserts = [fresh[identifier] for identifier in sorted(candidates) if identifier in fresh]
        removals = sorted(identifier for identifier in candidates if identifier not in fresh)
        searcher = updated_searcher(searcher, upserts, removals, names)
    old = current.recommender
    recommender = Recommender(
        inputs,
        searcher.match_texts if searcher is not None else None,
        evidence=old.coverage_.config,
        ranking=old.ranking,
        priority=old.priority,
        role_free=old.role_free,
    )
    if "catalog" not in kinds and searcher is not None:
        # Same competencies and texts: each (competency, level)'s matches are kept where no changed course
        # can reach them, so that only those rows are searched again (recommender.candidates).
        recommender.coverage_.carry_over(old.coverage_, touched, searcher.match_scores)
    return StoredRecommender(recommender, searcher, changes[-1].sequence)


def _updated_inputs(
    session: Session, previous: CatalogInputs, touched: set[str], kinds: set[ChangeKind]
) -> CatalogInputs:
    """The previous inputs with the touched courses read again (retired or deleted ones dropped), and the
    translations' and departments' parts read again when their kind of change is among the changes."""
    courses = previous.courses
    if touched:
        reread = {course.identifier: course for course in list_courses(session, identifiers=touched)}
        kept = [course for course in courses if course.identifier not in touched]
        courses = sorted([*kept, *reread.values()], key=lambda course: course.identifier)
    return replace(
        previous,
        courses=courses,
        approved_translations=approved_languages(session) if "translation" in kinds else previous.approved_translations,
        department_popularity=department_popularity(session) if "learners" in kinds else previous.department_popularity,
    )
