"""A learning path: an ordered plan of courses that closes a learner's gaps one level at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import Learner
from recommender.recommend import Recommender


@dataclass(frozen=True)
class PathStep:
    stage: int  # 1: every gap's first level up, 2: the second, ...
    course_id: str
    name: str
    duration_seconds: int | None
    closes: tuple[tuple[str, str, int], ...]  # (competency id, competency name, level reached)


@dataclass(frozen=True)
class LearningPath:
    learner_id: str
    steps: tuple[PathStep, ...]
    total_duration_seconds: int
    unknown_durations: int  # steps whose course states no duration (not in the total)
    uncovered: tuple[tuple[str, int], ...]  # (competency id, level) that no available course builds
    notes: tuple[str, ...] = ()


def learning_path(recommender: Recommender, learner: Learner, close_threshold: float = 0.9) -> LearningPath:
    """Walk the level steps of every gap, lowest stage and highest priority first; for each step not yet closed
    pick the best course for that exact (competency, level). A picked course also closes any other open step it
    builds at least `close_threshold` (an exactly-levelled tag)."""
    analysis = recommender.analyse(learner)
    coverage = recommender.coverage_
    steps = sorted(
        (level - gap.current_level, -gap.priority, gap.competency_id, level, gap.name)
        for gap in analysis.gaps
        for level in range(gap.next_level, gap.required_level + 1)
    )
    rows = {(competency_id, level): coverage.row(competency_id, level) for _, _, competency_id, level, _ in steps}
    coverage.ensure(rows.values())
    factors = recommender.features_.factors(learner.preferred_languages).copy()
    index = coverage.course_index_
    for course_id in (*learner.completed, *learner.enrolled):
        if course_id in index:
            factors[index[course_id]] = 0.0
    names = {competency_id: name for _, _, competency_id, _, name in steps}
    closed: set[tuple[str, int]] = set()
    plan: list[PathStep] = []
    uncovered: list[tuple[str, int]] = []
    for stage, _, competency_id, level, _ in steps:
        if (competency_id, level) in closed:
            continue
        scores = coverage.matrix_[rows[competency_id, level]] * factors
        column = int(np.argmax(scores))
        if scores[column] < recommender.ranking.min_relevance:
            uncovered.append((competency_id, level))
            continue
        factors[column] = 0.0  # each course once
        also = [step for step, row in rows.items() if coverage.matrix_[row, column] >= close_threshold]
        closes = [(competency_id, level)] + [s for s in also if s not in closed and s != (competency_id, level)]
        closed.update(closes)
        course = recommender.inputs.courses[column]
        plan.append(
            PathStep(
                stage=stage,
                course_id=course.identifier,
                name=course.name,
                duration_seconds=course.duration_seconds,
                closes=tuple((c, names[c], lvl) for c, lvl in sorted(closes, key=lambda s: (s[1], s[0]))),
            )
        )
    known = [step.duration_seconds for step in plan if step.duration_seconds is not None]
    return LearningPath(
        learner_id=learner.id,
        steps=tuple(plan),
        total_duration_seconds=sum(known),
        unknown_durations=len(plan) - len(known),
        uncovered=tuple(uncovered),
        notes=analysis.notes,
    )
