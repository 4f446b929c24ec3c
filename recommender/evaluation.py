"""Evaluating rankers on a judged set: nDCG@10, Recall@10, MRR, gap coverage@k, catalog coverage, diversity."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import ir_measures
import numpy as np
from ir_measures import RR, R, nDCG

from models import Learner
from recommender.baselines import Ranker, standard_rankers
from recommender.gaps import GapAnalysis, ProfileError, inline_learner
from recommender.inputs import CatalogInputs
from recommender.recommend import Recommender

ADDRESSES = 2  # a judged course addresses the gaps it lists from this grade on


@dataclass(frozen=True)
class Judgement:
    course: str
    grade: int  # 1 related, 2 addresses a gap, 3 addresses it at the right level
    gaps: tuple[str, ...]  # the profile's gap competencies the course addresses


@dataclass(frozen=True)
class JudgedProfile:
    id: str
    learner: Learner
    judgements: tuple[Judgement, ...]
    note: str = ""


@dataclass(frozen=True)
class SystemScores:
    system: str
    ndcg_10: float
    recall_10: float
    mrr: float
    gap_coverage_5: float
    gap_coverage_10: float
    catalog_coverage: float
    diversity: float  # intra-list diversity of the top-10: mean pairwise distance


def read_judged_set(path: Path, inputs: CatalogInputs) -> list[JudgedProfile]:
    """Profiles and judgements; an unknown course, role or competency is an error naming the line and field."""
    profiles: list[JudgedProfile] = []
    known = inputs.courses_by_id
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        where = f"{path}:{number}"
        profile = record["profile"]
        for role in profile.get("roles", []):
            if role not in inputs.roles:
                raise ProfileError(f"{where}: profile.roles: unknown role {role!r}")
        try:
            learner = inline_learner(
                profile.get("roles", []),
                profile.get("levels", {}),
                inputs.competencies,
                preferred_languages=profile.get("preferred_languages", ["en"]),
                completed=profile.get("completed", []),
            )
        except ProfileError as error:
            raise ProfileError(f"{where}: profile.{error}") from None
        judgements = []
        for position, item in enumerate(record["judgements"]):
            if item["course"] not in known:
                raise ProfileError(f"{where}: judgements[{position}].course: unknown course {item['course']!r}")
            judgements.append(Judgement(item["course"], int(item["grade"]), tuple(item.get("gaps", []))))
        learner = learner.model_copy(update={"id": record["id"]})
        profiles.append(JudgedProfile(record["id"], learner, tuple(judgements), record.get("note", "")))
    return profiles


def evaluate(
    rankers: Mapping[str, Ranker],
    profiles: Sequence[JudgedProfile],
    analyses: Sequence[GapAnalysis],
    inputs: CatalogInputs,
    *,
    course_vectors: Mapping[str, np.ndarray] | None = None,
) -> list[SystemScores]:
    """Every ranker on every profile, in one run; the same judged set and the same analyses for all."""
    qrels = [
        ir_measures.Qrel(profile.id, judgement.course, judgement.grade)
        for profile in profiles
        for judgement in profile.judgements
    ]
    results = []
    for name, ranker in rankers.items():
        lists = {p.id: ranker(p.learner, a, 10) for p, a in zip(profiles, analyses, strict=True)}
        run = [
            ir_measures.ScoredDoc(query, course, float(len(courses) - rank))
            for query, courses in lists.items()
            for rank, course in enumerate(courses)
        ]
        measured = ir_measures.calc_aggregate([nDCG @ 10, R @ 10, RR], qrels, run) if run else {}
        results.append(
            SystemScores(
                system=name,
                ndcg_10=float(measured.get(nDCG @ 10, 0.0)),
                recall_10=float(measured.get(R @ 10, 0.0)),
                mrr=float(measured.get(RR, 0.0)),
                gap_coverage_5=gap_coverage(profiles, analyses, lists, 5),
                gap_coverage_10=gap_coverage(profiles, analyses, lists, 10),
                catalog_coverage=len({c for courses in lists.values() for c in courses}) / len(inputs.courses),
                diversity=intra_list_diversity(lists.values(), inputs, course_vectors),
            )
        )
    return results


def evaluate_recommender(recommender: Recommender, judged: Path) -> tuple[int, list[SystemScores]]:
    """The standard systems (`baselines.standard_rankers`) on a judged set, over this recommender's catalog:
    how many profiles were judged, and each system's scores."""
    profiles = read_judged_set(judged, recommender.inputs)
    analyses = [recommender.analyse(profile.learner) for profile in profiles]
    return len(profiles), evaluate(standard_rankers(recommender), profiles, analyses, recommender.inputs)


def gap_coverage(
    profiles: Sequence[JudgedProfile], analyses: Sequence[GapAnalysis], lists: Mapping[str, list[str]], k: int
) -> float:
    """Mean over profiles of the share of their gaps that some top-k course addresses (as judged)."""
    shares = []
    for profile, analysis in zip(profiles, analyses, strict=True):
        if not analysis.gaps:
            continue
        addresses = {j.course: set(j.gaps) for j in profile.judgements if j.grade >= ADDRESSES}
        covered = set().union(*(addresses.get(course, set()) for course in lists[profile.id][:k]))
        shares.append(len(covered & {g.competency_id for g in analysis.gaps}) / len(analysis.gaps))
    return float(np.mean(shares)) if shares else 0.0


def intra_list_diversity(
    lists: Iterable[list[str]], inputs: CatalogInputs, course_vectors: Mapping[str, np.ndarray] | None
) -> float:
    """Mean pairwise distance within each list: cosine distance of course embeddings when given, else the
    Jaccard distance of the courses' competency tags."""
    tags = {c.identifier: {t.competency_id for t in c.competencies} for c in inputs.courses}

    def distance(a: str, b: str) -> float:
        if course_vectors is not None:
            return 1.0 - float(np.dot(course_vectors[a], course_vectors[b]))
        union = tags[a] | tags[b]
        return 1.0 - len(tags[a] & tags[b]) / len(union) if union else 0.0

    means = [
        float(np.mean([distance(a, b) for a, b in itertools.combinations(courses, 2)]))
        for courses in lists
        if len(courses) > 1
    ]
    return float(np.mean(means)) if means else 0.0
