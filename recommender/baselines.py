"""Rankers to compare against: random, popularity, tag-only, semantic-only and the platform's existing cascade.

Each is a `Ranker`: (learner, gap analysis, k) -> course ids, best first, never a completed or enrolled course.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import bm25s

from models import Course, Learner
from recommender.candidates import CourseMatcher, competency_query
from recommender.gaps import GapAnalysis
from recommender.inputs import CatalogInputs
from recommender.recommend import Recommender

Ranker = Callable[[Learner, GapAnalysis, int], list[str]]


def _available(inputs: CatalogInputs, learner: Learner) -> list[Course]:
    taken = {*learner.completed, *learner.enrolled}
    return [course for course in inputs.courses if course.identifier not in taken]


def _by_rating(course: Course) -> tuple[float, int, str]:
    return (-(course.rating or 0.0), -course.rating_count, course.identifier)


def random_ranker(inputs: CatalogInputs, seed: int = 13) -> Ranker:
    def rank(learner: Learner, _: GapAnalysis, k: int) -> list[str]:
        pool = [course.identifier for course in _available(inputs, learner)]
        return random.Random(f"{seed}:{learner.id}").sample(pool, min(k, len(pool)))

    return rank


def popularity_ranker(inputs: CatalogInputs) -> Ranker:
    """Most rated first: what the whole platform takes, the same for everyone."""

    def rank(learner: Learner, _: GapAnalysis, k: int) -> list[str]:
        ordered = sorted(_available(inputs, learner), key=lambda c: (-c.rating_count, -(c.rating or 0), c.identifier))
        return [course.identifier for course in ordered[:k]]

    return rank


def tag_only_ranker(inputs: CatalogInputs) -> Ranker:
    """Courses tagged with a gap's competency, most gaps first, then by rating; levels and text ignored."""

    def rank(learner: Learner, analysis: GapAnalysis, k: int) -> list[str]:
        wanted = {gap.competency_id for gap in analysis.gaps}
        scored = []
        for course in _available(inputs, learner):
            hits = sum(tag.competency_id in wanted for tag in course.competencies)
            if hits:
                scored.append(((-hits, *_by_rating(course)), course.identifier))
        return [identifier for _, identifier in sorted(scored)[:k]]

    return rank


def semantic_only_ranker(inputs: CatalogInputs, matcher: CourseMatcher) -> Ranker:
    """Each gap's competency text (at the learner's next level) matched against course texts; best similarity wins."""

    def rank(learner: Learner, analysis: GapAnalysis, k: int) -> list[str]:
        if not analysis.gaps:
            return []
        taken = {*learner.completed, *learner.enrolled}
        queries = [competency_query(inputs.competencies[g.competency_id], g.next_level) for g in analysis.gaps]
        best: dict[str, float] = {}
        for matches in matcher(queries, k + len(taken)):
            for identifier, similarity in matches:
                if identifier not in taken:
                    best[identifier] = max(best.get(identifier, -1.0), similarity)
        return [identifier for identifier, _ in sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]]

    return rank


def platform_cascade_ranker(inputs: CatalogInputs) -> Ranker:
    """The existing iGOT service as its description reads: courses for the learner's department and designation;
    if too few, courses in the competency themes of their role; if still too few, free-text search on the role.
    Within each step, by rating. It knows no proficiency levels and no gaps."""
    courses = inputs.courses
    texts = [" ".join([c.name, c.description, *c.keywords]).casefold() for c in courses]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    themes = {c.identifier: {inputs.competencies[t.competency_id].theme_id for t in c.competencies} for c in courses}

    def rank(learner: Learner, _: GapAnalysis, k: int) -> list[str]:
        roles = [inputs.roles[r] for r in learner.roles if r in inputs.roles]
        taken = {*learner.completed, *learner.enrolled}
        chosen: list[str] = []

        def take(identifiers: list[str]) -> None:
            for identifier in identifiers:
                if len(chosen) < k and identifier not in taken and identifier not in chosen:
                    chosen.append(identifier)

        names = [_phrase(r.designation) for r in roles] + [_phrase(r.department) for r in roles]
        audience = [c for c, text in zip(courses, texts, strict=True) if any(n.search(text) for n in names)]
        take([c.identifier for c in sorted(audience, key=_by_rating)])
        role_themes = {inputs.competencies[need.competency_id].theme_id for r in roles for need in r.competencies}
        in_theme = [c for c in courses if themes[c.identifier] & role_themes]
        take([c.identifier for c in sorted(in_theme, key=_by_rating)])
        if len(chosen) < k and roles:
            query = " ".join(text for r in roles for text in (r.designation, *r.responsibilities, *r.activities))
            documents, _ = retriever.retrieve(
                bm25s.tokenize([query.casefold()], stopwords="en", show_progress=False),
                k=min(len(courses), k + len(taken) + len(chosen)),
                show_progress=False,
            )
            take([courses[int(i)].identifier for i in documents[0]])
        return chosen

    return rank


def _phrase(text: str) -> re.Pattern[str]:
    return re.compile(r"\b" + re.escape(text.casefold()) + r"\b")


def ours_ranker(recommender: Recommender) -> Ranker:
    def rank(learner: Learner, _: GapAnalysis, k: int) -> list[str]:
        return [item.course_id for item in recommender.recommend(learner, k).items]

    return rank


def standard_rankers(recommender: Recommender) -> dict[str, Ranker]:
    """The systems `karmayogi eval recommend` and the notebooks compare, in the order they are reported: five
    baselines (semantic-only when the recommender has a text matcher) and ours last."""
    inputs, matcher = recommender.inputs, recommender.matcher
    return {
        "random": random_ranker(inputs),
        "popularity": popularity_ranker(inputs),
        "tag-only": tag_only_ranker(inputs),
        **({"semantic-only": semantic_only_ranker(inputs, matcher)} if matcher else {}),
        "platform cascade": platform_cascade_ranker(inputs),
        "ours": ours_ranker(recommender),
    }
