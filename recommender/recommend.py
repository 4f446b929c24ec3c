"""The recommender: gaps → candidates → ranking → reasons, for one learner or a chunk of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from models import Learner
from recommender.candidates import CourseMatcher, CoverageTable, EvidenceConfig
from recommender.explain import Explanation, Signal, gap_evidence, language_evidence
from recommender.gaps import GapAnalysis, GapPriority, Requirement, analyse_gaps, role_requirements
from recommender.inputs import CatalogInputs
from recommender.ranking import CourseFeatures, RankingConfig, rank_chunk


@dataclass(frozen=True)
class RoleFreeConfig:
    """Suggestions for learners without a role: what their department takes, what is well rated, their interests."""

    department: float = 0.5
    rating: float = 0.15  # a tie-breaker: a good rating alone says little about what this learner needs
    interest: float = 0.6
    min_rating: float = 4.0  # a course counts as highly rated from this shrunk rating on


@dataclass(frozen=True)
class Recommendation:
    course_id: str
    name: str
    score: float
    duration_seconds: int | None
    languages: tuple[str, ...]
    explanation: Explanation


@dataclass(frozen=True)
class Recommendations:
    learner_id: str
    mode: Literal["gaps", "role-free"]
    analysis: GapAnalysis
    items: tuple[Recommendation, ...]
    reason: str | None = None  # why the list is empty or short
    notes: tuple[str, ...] = field(default=())


class Recommender:
    """Configured in the constructor; `fit_*` state lives in attributes with a trailing underscore."""

    def __init__(
        self,
        inputs: CatalogInputs,
        matcher: CourseMatcher | None = None,
        *,
        evidence: EvidenceConfig | None = None,
        ranking: RankingConfig | None = None,
        priority: GapPriority | None = None,
        role_free: RoleFreeConfig | None = None,
    ) -> None:
        self.inputs = inputs
        self.matcher = matcher
        self.ranking = ranking or RankingConfig()
        self.priority = priority or GapPriority()
        self.role_free = role_free or RoleFreeConfig()
        self.courses_by_id_ = inputs.courses_by_id
        self.coverage_ = CoverageTable(inputs.courses, list(inputs.competencies.values()), matcher, evidence)
        self.features_ = CourseFeatures(inputs.courses, inputs.approved_translations, self.ranking)
        self._requirements: dict[tuple[str, ...], tuple[Requirement, ...]] = {}

    def analyse(self, learner: Learner) -> GapAnalysis:
        key = tuple(learner.roles)
        if key not in self._requirements:
            self._requirements[key] = role_requirements(key, self.inputs.roles, self.inputs.competencies)
        return analyse_gaps(
            learner,
            self.inputs.roles,
            self.inputs.competencies,
            self.courses_by_id_,
            priority=self.priority,
            requirements=self._requirements[key],
        )

    def recommend(self, learner: Learner, k: int = 10) -> Recommendations:
        analysis = self.analyse(learner)
        if not learner.roles:
            return self._role_free(learner, analysis, k)
        if not analysis.gaps:
            return Recommendations(learner.id, "gaps", analysis, (), reason="no gaps: " + analysis.notes[-1])
        ranked = self.rank([learner], [analysis], k)[0]
        items = tuple(self._item(learner, analysis, column, score) for column, score in ranked)
        reason = None
        if not items:
            names = ", ".join(gap.name for gap in analysis.gaps)
            reason = f"no course in the catalog addresses these gaps: {names}"
        elif len(items) < k:
            reason = f"only {len(items)} course(s) address these gaps; no unrelated courses were added"
        return Recommendations(learner.id, "gaps", analysis, items, reason=reason, notes=analysis.notes)

    def recommend_many(self, learners: Sequence[Learner], k: int = 10) -> list[list[tuple[str, float]]]:
        """Top-k (course id, score) per learner without explanations: the batch path. Same courses and scores as
        `recommend` gives for each learner alone."""
        analyses = [self.analyse(learner) for learner in learners]
        by_gaps = [i for i, learner in enumerate(learners) if learner.roles]
        results: list[list[tuple[str, float]]] = [[] for _ in learners]
        ranked = self.rank([learners[i] for i in by_gaps], [analyses[i] for i in by_gaps], k)
        ids = self.coverage_.course_ids_
        for i, items in zip(by_gaps, ranked, strict=True):
            results[i] = [(ids[column], score) for column, score in items]
        for i, learner in enumerate(learners):
            if not learner.roles:
                role_free = self._role_free(learner, analyses[i], k)
                results[i] = [(item.course_id, item.score) for item in role_free.items]
        return results

    def rank(
        self, learners: Sequence[Learner], analyses: Sequence[GapAnalysis], k: int
    ) -> list[list[tuple[int, float]]]:
        """Top-k (course column, score) per learner, all learners scored together (the batch path)."""
        if not learners:
            return []
        width = max(1, max(len(a.gaps) for a in analyses))
        rows = np.full((len(learners), width), self.coverage_.padding_row_, dtype=np.int64)
        priorities = np.zeros((len(learners), width), dtype=np.float32)
        for i, analysis in enumerate(analyses):
            for j, gap in enumerate(analysis.gaps):
                rows[i, j] = self.coverage_.row(gap.competency_id, gap.next_level)
                priorities[i, j] = gap.priority
        self.coverage_.ensure(np.unique(rows).tolist())
        table, preference = self.features_.factor_table([learner.preferred_languages for learner in learners])
        index = self.coverage_.course_index_
        excluded = [[index[c] for c in (*learner.completed, *learner.enrolled) if c in index] for learner in learners]
        ranked = rank_chunk(
            self.coverage_.matrix_,
            self.coverage_.sparse(),
            rows,
            priorities,
            factor_table=table,
            preference=preference,
            excluded=excluded,
            k=k,
            config=self.ranking,
        )
        return [
            [(c, round(s, 6)) for c, s in zip(columns, scores, strict=True) if c >= 0]
            for columns, scores in zip(ranked.columns.tolist(), ranked.scores.tolist(), strict=True)
        ]

    def course_id(self, column: int) -> str:
        return self.coverage_.course_ids_[column]

    def _item(self, learner: Learner, analysis: GapAnalysis, column: int, score: float) -> Recommendation:
        course = self.inputs.courses[column]
        language, source = language_evidence(self.features_, tuple(learner.preferred_languages), column)
        explanation = Explanation(
            gaps=gap_evidence(self.coverage_, analysis.gaps, column),
            language=language,
            language_source=source,
            rating=course.rating,
            rating_count=course.rating_count,
            parts={
                "language": float(self.features_.language_factor(learner.preferred_languages)[column]),
                "quality": round(float(self.features_.quality_[column]), 4),
            },
        )
        return Recommendation(
            course.identifier, course.name, score, course.duration_seconds, tuple(course.languages), explanation
        )

    def _role_free(self, learner: Learner, analysis: GapAnalysis, k: int) -> Recommendations:
        """Department-popular, highly rated and interest-matching courses, each with the signal that chose it."""
        config = self.role_free
        courses = self.inputs.courses
        popular = self.inputs.department_popularity.get(learner.department or "", {})
        top = max(popular.values(), default=0)
        interests = self._interest_matches(learner.interests)
        rating = self.features_.rating_
        excluded = {*learner.completed, *learner.enrolled}
        factors = self.features_.factors(learner.preferred_languages)
        scored: list[tuple[float, int, list[Signal]]] = []
        for column, course in enumerate(courses):
            if course.identifier in excluded or factors[column] == 0:
                continue
            signals: list[Signal] = []
            value = 0.0
            if popular.get(course.identifier):
                count = popular[course.identifier]
                value += config.department * count / top
                detail = f"taken by {count} in {learner.department}"
                signals.append(Signal("popular_in_department", detail, count, learner.department))
            if column in interests:
                interest, similarity = interests[column]
                value += config.interest * self.coverage_.config.semantic_evidence(similarity)
                detail = f"matches your interest “{interest}” ({similarity:.2f})"
                signals.append(Signal("interest", detail, similarity, interest))
            if rating[column] >= config.min_rating:
                value += config.rating * (rating[column] - 1) / 4
                signals.append(Signal("highly_rated", f"highly rated ({rating[column]:.1f} adjusted)", rating[column]))
            if signals:
                scored.append((value * float(factors[column]), column, signals))
        scored.sort(key=lambda item: (-item[0], item[1]))
        items = []
        for value, column, signals in scored[:k]:
            base = self._item(learner, analysis, column, round(float(value), 6))
            items.append(
                Recommendation(
                    base.course_id,
                    base.name,
                    base.score,
                    base.duration_seconds,
                    base.languages,
                    Explanation(
                        signals=tuple(signals),
                        language=base.explanation.language,
                        language_source=base.explanation.language_source,
                        rating=base.explanation.rating,
                        rating_count=base.explanation.rating_count,
                        parts=base.explanation.parts,
                    ),
                )
            )
        reason = None if items else "no role on record and nothing popular, highly rated or matching interests"
        return Recommendations(learner.id, "role-free", analysis, tuple(items), reason=reason, notes=analysis.notes)

    def _interest_matches(self, interests: Sequence[str]) -> dict[int, tuple[str, float]]:
        """Best interest per course column, above the semantic floor."""
        if not interests or self.matcher is None:
            return {}
        best: dict[int, tuple[str, float]] = {}
        index = self.coverage_.course_index_
        floor = self.coverage_.config.semantic_floor
        for interest, matches in zip(interests, self.matcher(list(interests), 20), strict=True):
            for identifier, similarity in matches:
                column = index.get(identifier)
                if column is not None and similarity > floor and similarity > best.get(column, ("", 0.0))[1]:
                    best[column] = (interest, float(similarity))
        return best
