"""The recommender's results as the API documents them: gaps, gap analyses and explanations, each field described.

The recommender's own records (recommender.gaps, recommender.explain) are plain dataclasses; these models read
them attribute by attribute (`from_attributes`), so a field added there without a counterpart here stays out of
the API until it is described.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.json_response import PRECISION
from recommender import Explanation, Gap, GapAnalysis

COMPETENCY_ID = "The competency's id (a KCM sub-theme), e.g. FUN-02-01"


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class GapOut(Out):
    """A competency one of the learner's roles requires at a higher level than the learner holds."""

    competency_id: str = Field(description=COMPETENCY_ID)
    name: str = Field(description="The competency's name in the KCM (English)")
    area_id: str = Field(description="The competency's area: BEH (behavioural), FUN (functional) or DOM (domain)")
    current_level: int = Field(description="The level the learner holds, 1-5; 0: no known level")
    required_level: int = Field(description="The highest level the learner's roles require, 1-5")
    importance: int = Field(description="1 useful, 2 important, 3 critical: the highest over the learner's roles")
    level_source: str = Field(
        description="Where `current_level` comes from: assessed, self (the learner's own statement), completed "
        "courses (implied by courses tagged with the competency) or unknown"
    )
    roles: list[str] = Field(description="The learner's roles that require the competency")
    priority: float = Field(
        description="How much the gap matters, 0-1: a weighted sum of its size, the role's importance and its "
        f"area (docs/recommender.md); {PRECISION}"
    )


class GapAnalysisOut(Out):
    """A learner's gaps against their roles."""

    learner_id: str = Field(description="The learner's id")
    roles: list[str] = Field(description="The roles whose requirements were compared")
    gaps: list[GapOut] = Field(description="The learner's gaps, highest priority first")
    met: list[str] = Field(description="Ids of the required competencies the learner holds at the required level")
    levels_known: bool = Field(
        description="False: no attested level and no completed course, so every level was taken as 0"
    )
    notes: list[str] = Field(
        description="Remarks on the analysis, in English: no role on record, levels taken as 0, every level met"
    )


class GapEvidenceOut(Out):
    """How a course addresses one gap."""

    competency_id: str = Field(description=COMPETENCY_ID)
    competency: str = Field(description="The competency's name in the KCM (English)")
    from_level: int = Field(description="The level the learner holds, 0-5")
    to_level: int = Field(description="The level the course takes the learner to")
    evidence: Literal["tagged", "semantic"] = Field(
        description="tagged: the course is tagged with the competency; semantic: its text matches the "
        "competency's description and level descriptor"
    )
    course_level: int | None = Field(description="The level the course is tagged at; null: not stated or not tagged")
    similarity: float | None = Field(
        description=f"Cosine similarity of the course's text to the competency's, where matched; {PRECISION}"
    )
    coverage: float = Field(description=f"How fully the course builds this step, 0-1; {PRECISION}")
    contribution: float = Field(
        description=f"priority × coverage: this gap's share of the score before language and rating; {PRECISION}"
    )


class SignalOut(Out):
    """Evidence used when there are no gaps to go by (a learner without a role)."""

    kind: Literal["popular_in_department", "highly_rated", "interest"] = Field(
        description="popular_in_department: taken by many in the learner's department; highly_rated: a high rating "
        "after shrinking by its count; interest: the course matches one of the learner's interests"
    )
    detail: str = Field(description="The signal in words, in English")
    value: float = Field(
        description="The signal's strength: learners of the department who took the course, the adjusted rating "
        f"(1-5) or the similarity to the interest; {PRECISION}"
    )
    subject: str | None = Field(default=None, description="The department or the interest that `detail` names")


class ExplanationOut(Out):
    """The evidence behind a recommendation."""

    gaps: list[GapEvidenceOut] = Field(description="Each gap the course addresses, largest contribution first")
    signals: list[SignalOut] = Field(description="Role-free mode only: what chose the course")
    language: str | None = Field(
        description="The first of the learner's preferred languages the course is available in; null: none"
    )
    language_source: Literal["native", "translated"] | None = Field(
        description="native: the course is offered in `language`; translated: an approved translation into it"
    )
    rating: float | None = Field(description=f"The course's average rating, 0-5; null: unrated; {PRECISION}")
    rating_count: int = Field(description="How many learners rated the course")
    parts: dict[str, float] = Field(
        description="The score's factors as computed, by name: `language` (1 in the first preferred language, "
        f"less in others, docs/recommender.md) and `quality` (from the rating and its count); {PRECISION}"
    )


def gap_out(gap: Gap) -> GapOut:
    return GapOut.model_validate(gap)


def analysis_out(analysis: GapAnalysis) -> GapAnalysisOut:
    return GapAnalysisOut.model_validate(analysis)


def explanation_out(explanation: Explanation) -> ExplanationOut:
    return ExplanationOut.model_validate(explanation)
