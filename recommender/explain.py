"""Why a course is recommended: structured evidence per gap, and a one-line summary for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from models import LANGUAGES
from recommender.candidates import CoverageTable
from recommender.gaps import Gap
from recommender.ranking import CourseFeatures

LANGUAGE_NAMES = {language.code: language.name for language in LANGUAGES}


@dataclass(frozen=True)
class GapEvidence:
    """How a course addresses one gap."""

    competency_id: str
    competency: str
    from_level: int
    to_level: int
    evidence: Literal["tagged", "semantic"]
    course_level: int | None  # the level the course is tagged at (None: not stated or not tagged)
    similarity: float | None  # cosine similarity of the course to the competency's text, where matched
    coverage: float  # in [0, 1]: how fully the course builds this step
    contribution: float  # priority × coverage: this gap's share of the score before language and rating


@dataclass(frozen=True)
class Signal:
    """Evidence used when there are no gaps to go by (learners without a role)."""

    kind: Literal["popular_in_department", "highly_rated", "interest"]
    detail: str
    value: float


@dataclass(frozen=True)
class Explanation:
    gaps: tuple[GapEvidence, ...] = ()
    signals: tuple[Signal, ...] = ()
    language: str | None = None  # the preferred language it is available in
    language_source: Literal["native", "translated"] | None = None
    rating: float | None = None
    rating_count: int = 0
    parts: dict[str, float] = field(default_factory=dict)  # the score's factors, as computed

    def summary(self) -> str:
        pieces = [_describe_gap(evidence) for evidence in self.gaps] + [signal.detail for signal in self.signals]
        if self.language:
            name = LANGUAGE_NAMES.get(self.language, self.language)
            pieces.append(f"in {name}" + (" (approved translation)" if self.language_source == "translated" else ""))
        else:
            pieces.append("not in your preferred languages")
        if self.rating is not None and self.rating_count:
            pieces.append(f"rated {self.rating:.1f} by {self.rating_count}")
        return "; ".join(pieces)


def _describe_gap(evidence: GapEvidence) -> str:
    if evidence.evidence == "semantic":
        how = f"semantic match {evidence.similarity:.2f}"
    elif evidence.course_level is None:
        how = "tagged, level not stated"
    else:
        refresher = ", a refresher" if evidence.to_level == evidence.from_level else ""
        how = f"tagged at level {evidence.course_level}{refresher}"
    return f"{evidence.competency} {evidence.from_level}→{evidence.to_level} ({how})"


def gap_evidence(coverage: CoverageTable, gaps: tuple[Gap, ...], column: int) -> tuple[GapEvidence, ...]:
    """Every gap the course at `column` addresses, largest contribution first."""
    found: list[GapEvidence] = []
    for gap in gaps:
        row = coverage.row(gap.competency_id, gap.next_level)
        value = float(coverage.matrix_[row, column])
        if value <= 0:
            continue
        tagged = coverage.tagged_level(gap.competency_id, column)
        similarity = coverage.similarity(row, column)
        semantic = tagged is False or (tagged is None and similarity is not None and _semantic_won(coverage, value))
        course_level = None if tagged is False else tagged
        # A course below the learner's next level refreshes what they hold; one above takes them up to it,
        # never past what the role requires.
        reaches = course_level if isinstance(course_level, int) and not semantic else gap.next_level
        found.append(
            GapEvidence(
                competency_id=gap.competency_id,
                competency=gap.name,
                from_level=gap.current_level,
                to_level=max(gap.current_level, min(reaches, gap.required_level)),
                evidence="semantic" if semantic else "tagged",
                course_level=course_level if isinstance(course_level, int) else None,
                similarity=round(similarity, 4) if similarity is not None else None,
                coverage=round(value, 4),
                contribution=round(gap.priority * value, 4),
            )
        )
    return tuple(sorted(found, key=lambda e: -e.contribution))


def _semantic_won(coverage: CoverageTable, value: float) -> bool:
    """For a course tagged without a level, say "semantic" only when the text match outweighed the tag."""
    return value > coverage.config.tag_strength * coverage.config.unstated_level_fit + 1e-6


def language_evidence(
    features: CourseFeatures, preferred: tuple[str, ...], column: int
) -> tuple[str | None, Literal["native", "translated"] | None]:
    for language in preferred:
        source = features.available_in(column, language)
        if source is not None:
            return language, source  # type: ignore[return-value]
    return None, None
