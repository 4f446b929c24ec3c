"""Why a course is recommended: structured evidence per gap, and a one-line summary for people."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from recommender.candidates import CoverageTable
from recommender.gaps import Gap
from recommender.messages import language_name, number, reason_language, translations
from recommender.ranking import CourseFeatures


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
    subject: str | None = None  # the department or the interest that `detail` names


@dataclass(frozen=True)
class Explanation:
    gaps: tuple[GapEvidence, ...] = ()
    signals: tuple[Signal, ...] = ()
    language: str | None = None  # the preferred language it is available in
    language_source: Literal["native", "translated"] | None = None
    rating: float | None = None
    rating_count: int = 0
    parts: dict[str, float] = field(default_factory=dict)  # the score's factors, as computed

    def summary(self, language: str = "en", competency_names: Mapping[str, str] | None = None) -> str:
        """The reason in one line, for people, in `language` from the message catalog (recommender.messages;
        English when the language has none), numbers formatted for it. Competency names come from
        `competency_names` (competency id -> name in `language`, e.g. the glossary's) where given, else the KCM's
        English name."""
        language = reason_language([language])
        messages = translations(language)
        names = competency_names or {}
        pieces = [_describe_gap(e, language, names.get(e.competency_id, e.competency)) for e in self.gaps]
        pieces += [_describe_signal(signal, language) for signal in self.signals]
        if self.language:
            name = language_name(self.language, language)
            if self.language_source == "translated":
                pieces.append(messages.gettext("in {language} (approved translation)").format(language=name))
            else:
                pieces.append(messages.gettext("in {language}").format(language=name))
        else:
            pieces.append(messages.gettext("not in your preferred languages"))
        if self.rating is not None and self.rating_count:
            rated = messages.ngettext("rated {rating} by {count}", "rated {rating} by {count}", self.rating_count)
            pieces.append(
                rated.format(rating=number(self.rating, language, "0.0"), count=number(self.rating_count, language))
            )
        return "; ".join(pieces)


def _describe_gap(evidence: GapEvidence, language: str, competency: str) -> str:
    messages = translations(language)
    if evidence.evidence == "semantic":
        similarity = number(evidence.similarity or 0.0, language, "0.00")
        how = messages.gettext("semantic match {similarity}").format(similarity=similarity)
    elif evidence.course_level is None:
        how = messages.gettext("tagged, level not stated")
    elif evidence.to_level == evidence.from_level:
        level = number(evidence.course_level, language)
        how = messages.gettext("tagged at level {level}, a refresher").format(level=level)
    else:
        how = messages.gettext("tagged at level {level}").format(level=number(evidence.course_level, language))
    return messages.gettext("{competency} {from_level}→{to_level} ({how})").format(
        competency=competency,
        from_level=number(evidence.from_level, language),
        to_level=number(evidence.to_level, language),
        how=how,
    )


def _describe_signal(signal: Signal, language: str) -> str:
    """The signal's `detail`, said in `language` (the detail as it is when the signal lacks its subject)."""
    messages = translations(language)
    if signal.kind == "highly_rated":
        return messages.gettext("highly rated ({rating} adjusted)").format(rating=number(signal.value, language, "0.0"))
    if signal.subject is None:
        return signal.detail
    if signal.kind == "popular_in_department":
        count = int(signal.value)
        taken = messages.ngettext("taken by {count} in {department}", "taken by {count} in {department}", count)
        return taken.format(count=number(count, language), department=signal.subject)
    similarity = number(signal.value, language, "0.00")
    return messages.gettext("matches your interest “{interest}” ({similarity})").format(
        interest=signal.subject, similarity=similarity
    )


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
            return language, source
    return None, None
