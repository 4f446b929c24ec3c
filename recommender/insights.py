"""Catalog insights for content teams: where the catalog falls short, by competency, language and role.

Every insight rests on one rule, the recommender's own tag evidence: a course *builds* a competency up to a target
level when it is tagged with the competency and its level fits the target well enough (`EvidenceConfig.level_fit`
at least `min_fit`: with the defaults, stated at the target level or up to two above, or tagged without a level).
A course is *available* in a language when it is offered in it or has an approved translation into it. Text
similarity is left out on purpose: a content team must be able to check every number against the course tags.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from models import LANGUAGES, Competency, Course, Learner
from recommender.candidates import LEVELS, EvidenceConfig
from recommender.gaps import GapPriority, analyse_gaps
from recommender.inputs import CatalogInputs

UNSTATED_COLUMN = len(LEVELS)  # the last column of `CoverageMatrix.by_level`: tagged without a level
DEFAULT_MIN_FIT = 0.5


def portal_languages() -> list[str]:
    """The languages the iGOT portal offers, English first."""
    return [language.code for language in LANGUAGES if language.on_igot_portal]


def available_languages(course: Course, inputs: CatalogInputs) -> frozenset[str]:
    """Languages a learner can take the course in: as offered, plus approved translations."""
    return frozenset(course.languages) | inputs.approved_translations.get(course.identifier, frozenset())


def required_competencies(inputs: CatalogInputs) -> list[Competency]:
    """Competencies that at least one role requires, in id order."""
    needed = {need.competency_id for role in inputs.roles.values() for need in role.competencies}
    return [inputs.competencies[c] for c in sorted(needed) if c in inputs.competencies]


class CourseFit:
    """Which courses build which competency to which level, and in which languages each course is available."""

    def __init__(self, inputs: CatalogInputs, min_fit: float = DEFAULT_MIN_FIT, evidence: EvidenceConfig | None = None):
        self.evidence = evidence or EvidenceConfig()
        self.min_fit = min_fit
        self.courses = inputs.courses
        self.languages_ = [available_languages(course, inputs) for course in inputs.courses]
        self.tags_: dict[str, list[tuple[int, int | None]]] = defaultdict(list)  # competency -> (column, level)
        for column, course in enumerate(inputs.courses):
            for tag in course.competencies:
                self.tags_[tag.competency_id].append((column, tag.level))

    def builders(self, competency_id: str, target: int) -> list[int]:
        """Course columns that build `competency_id` up to level `target`."""
        return [
            column
            for column, level in self.tags_.get(competency_id, [])
            if self.evidence.level_fit(target, level) >= self.min_fit
        ]

    def available_in(self, column: int, language: str | None) -> bool:
        return language is None or language in self.languages_[column]


# --- the competency × language coverage matrix ---------------------------------------------------------------


@dataclass(frozen=True)
class CoverageMatrix:
    competencies: list[Competency]  # rows: every competency some role requires
    languages: list[str]  # columns
    required_level: np.ndarray  # [rows] the highest level any role requires
    roles: np.ndarray  # [rows] how many roles require the competency
    courses: np.ndarray  # [rows, languages] courses tagged with the competency, available in the language
    translated: np.ndarray  # [rows, languages] of those, available only through an approved translation
    by_level: np.ndarray  # [rows, languages, 6] by the course's stated level 1-5; last column: level not stated
    at_required: np.ndarray  # [rows, languages] courses that build the competency up to its required level

    def empty_cells(self) -> int:
        return int((self.courses == 0).sum())

    def row(self, competency_id: str) -> int:
        return next(i for i, c in enumerate(self.competencies) if c.id == competency_id)

    def as_records(self) -> list[dict[str, object]]:
        """One record per competency, for JSON output."""
        records = []
        for i, competency in enumerate(self.competencies):
            cells = {}
            for j, language in enumerate(self.languages):
                levels = {str(level): int(self.by_level[i, j, level - 1]) for level in LEVELS}
                levels["unstated"] = int(self.by_level[i, j, UNSTATED_COLUMN])
                cells[language] = {
                    "courses": int(self.courses[i, j]),
                    "via_translation": int(self.translated[i, j]),
                    "at_required_level": int(self.at_required[i, j]),
                    "by_level": levels,
                }
            records.append(
                {
                    "competency_id": competency.id,
                    "name": competency.name,
                    "area_id": competency.area_id,
                    "required_level": int(self.required_level[i]),
                    "roles": int(self.roles[i]),
                    "languages": cells,
                }
            )
        return records


def coverage_matrix(
    inputs: CatalogInputs, languages: Sequence[str] | None = None, min_fit: float = DEFAULT_MIN_FIT
) -> CoverageMatrix:
    """For every competency some role requires: how many courses, at which levels, exist in each language."""
    languages = list(languages or portal_languages())
    competencies = required_competencies(inputs)
    fit = CourseFit(inputs, min_fit)
    required: dict[str, int] = {}
    roles: Counter[str] = Counter()
    for role in inputs.roles.values():
        for need in role.competencies:
            required[need.competency_id] = max(required.get(need.competency_id, 0), need.level)
            roles[need.competency_id] += 1
    shape = (len(competencies), len(languages))
    courses = np.zeros(shape, dtype=np.int64)
    translated = np.zeros(shape, dtype=np.int64)
    by_level = np.zeros((*shape, len(LEVELS) + 1), dtype=np.int64)
    at_required = np.zeros(shape, dtype=np.int64)
    for i, competency in enumerate(competencies):
        reaching = set(fit.builders(competency.id, required[competency.id]))
        for column, level in fit.tags_.get(competency.id, []):
            course = inputs.courses[column]
            for j, language in enumerate(languages):
                if language not in fit.languages_[column]:
                    continue
                courses[i, j] += 1
                translated[i, j] += language not in course.languages
                by_level[i, j, UNSTATED_COLUMN if level is None else level - 1] += 1
                at_required[i, j] += column in reaching
    return CoverageMatrix(
        competencies=competencies,
        languages=languages,
        required_level=np.array([required[c.id] for c in competencies], dtype=np.int64),
        roles=np.array([roles[c.id] for c in competencies], dtype=np.int64),
        courses=courses,
        translated=translated,
        by_level=by_level,
        at_required=at_required,
    )


# --- translation priorities ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorityCourse:
    course_id: str
    name: str
    languages: tuple[str, ...]  # where it is available now
    learners: int  # learners it serves beyond the courses ranked above it (gaps nothing in the language builds yet)
    gaps: int  # (learner, gap) pairs behind `learners`
    competencies: tuple[tuple[str, int], ...]  # (competency id, learners) behind the count, most learners first
    learners_alone: int  # learners it would serve if it were the only course translated


@dataclass(frozen=True)
class TranslationPriorities:
    language: str
    learners: int  # learners whose first preferred language it is
    learners_unserved: int  # of those, learners with at least one gap no course in the language builds
    courses: tuple[PriorityCourse, ...]  # best first
    # (competency id, learners) with unserved gaps that no course in any language builds: new content is needed
    missing_everywhere: tuple[tuple[str, int], ...] = field(default=())


Step = tuple[str, int]  # (competency id, target level): one level of one gap


def translation_priorities(
    inputs: CatalogInputs,
    learners: Iterable[Learner],
    language: str,
    *,
    source: str | None = "en",
    limit: int | None = 20,
    min_fit: float = DEFAULT_MIN_FIT,
    priority: GapPriority | None = None,
) -> TranslationPriorities:
    """Courses to translate into `language` first, by how many of its learners have a gap the course builds and
    that no course available in `language` builds yet.

    A learner belongs to the language they list first; their gaps are the recommender's, each counted at the
    learner's next level. The order is greedy: each course is ranked by the learners it serves *beyond* the
    courses above it (once one Tamil course builds Empathy to level 2, a second one adds nothing for that step),
    ties going to more (learner, gap) pairs, then the better rating, then the id. Only courses available in
    `source` are candidates (the translation pipeline translates from English); `source=None` admits all.
    """
    fit = CourseFit(inputs, min_fit)
    courses_by_id = inputs.courses_by_id
    waiting: dict[Step, set[str]] = defaultdict(set)  # unserved step -> learners who need it
    known: dict[Step, bool] = {}  # step -> some course available in the language builds it
    missing: dict[str, set[str]] = defaultdict(set)
    considered = unserved_learners = 0
    for learner in learners:
        if not learner.preferred_languages or learner.preferred_languages[0] != language:
            continue
        considered += 1
        analysis = analyse_gaps(learner, inputs.roles, inputs.competencies, courses_by_id, priority=priority)
        unserved = False
        for gap in analysis.gaps:
            step = (gap.competency_id, gap.next_level)
            if step not in known:
                known[step] = any(fit.available_in(c, language) for c in fit.builders(*step))
            if known[step]:
                continue
            unserved = True
            waiting[step].add(learner.id)
            if not fit.builders(*step):
                missing[gap.competency_id].add(learner.id)
        unserved_learners += unserved
    steps_of: dict[int, list[Step]] = defaultdict(list)  # candidate course column -> unserved steps it builds
    for step in waiting:
        for column in fit.builders(*step):
            if not fit.available_in(column, language) and fit.available_in(column, source):
                steps_of[column].append(step)
    ranked = _greedy(inputs.courses, steps_of, waiting, limit)
    return TranslationPriorities(
        language=language,
        learners=considered,
        learners_unserved=unserved_learners,
        courses=tuple(
            PriorityCourse(
                course_id=inputs.courses[column].identifier,
                name=inputs.courses[column].name,
                languages=tuple(sorted(fit.languages_[column])),
                learners=len(set().union(*(waiting[s] for s in new_steps))),
                gaps=sum(len(waiting[s]) for s in new_steps),
                competencies=_by_competency(new_steps, waiting),
                learners_alone=len(set().union(*(waiting[s] for s in steps_of[column]))),
            )
            for column, new_steps in ranked
        ),
        missing_everywhere=tuple(sorted(((c, len(ids)) for c, ids in missing.items()), key=lambda i: (-i[1], i[0]))),
    )


def _greedy(
    courses: Sequence[Course], steps_of: dict[int, list[Step]], waiting: dict[Step, set[str]], limit: int | None
) -> list[tuple[int, list[Step]]]:
    """Pick courses one at a time by the learners they serve beyond those picked before; stop when none adds."""
    served: set[Step] = set()
    picked: list[tuple[int, list[Step]]] = []
    remaining = set(steps_of)
    while remaining and (limit is None or len(picked) < limit):

        def gain(column: int) -> tuple[int, int, float, str]:
            new = [s for s in steps_of[column] if s not in served]
            learners = len(set().union(*(waiting[s] for s in new))) if new else 0
            course = courses[column]
            return (-learners, -sum(len(waiting[s]) for s in new), -(course.rating or 0.0), course.identifier)

        best = min(remaining, key=gain)
        if gain(best)[0] == 0:
            break
        new_steps = [s for s in steps_of[best] if s not in served]
        picked.append((best, new_steps))
        served.update(new_steps)
        remaining.discard(best)
    return picked


def _by_competency(steps: Iterable[Step], waiting: dict[Step, set[str]]) -> tuple[tuple[str, int], ...]:
    learners: dict[str, set[str]] = defaultdict(set)
    for competency_id, level in steps:
        learners[competency_id] |= waiting[competency_id, level]
    return tuple(sorted(((c, len(ids)) for c, ids in learners.items()), key=lambda item: (-item[1], item[0])))


# --- role readiness ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequirementReadiness:
    competency_id: str
    name: str
    required_level: int
    importance: int
    closable_levels: tuple[int, ...]  # levels 1..required that some available course builds

    @property
    def missing_levels(self) -> tuple[int, ...]:
        return tuple(level for level in range(1, self.required_level + 1) if level not in self.closable_levels)


@dataclass(frozen=True)
class RoleReadiness:
    role_id: str
    designation: str
    department: str
    levels_required: int  # competency-levels: a competency required at level 3 counts levels 1, 2 and 3
    levels_closable: int  # of those, levels some available course builds
    requirements: tuple[RequirementReadiness, ...]

    @property
    def share(self) -> float:
        return self.levels_closable / self.levels_required if self.levels_required else 1.0

    @property
    def critical_missing(self) -> tuple[str, ...]:
        """Critical competencies with at least one level the catalog cannot build."""
        return tuple(r.competency_id for r in self.requirements if r.importance == 3 and r.missing_levels)


def role_readiness(
    inputs: CatalogInputs, language: str | None = None, min_fit: float = DEFAULT_MIN_FIT
) -> list[RoleReadiness]:
    """Per role, the share of its required competency-levels that the catalog (in `language`, if given) can
    build; least ready roles first."""
    fit = CourseFit(inputs, min_fit)
    results = []
    for role in inputs.roles.values():
        requirements = []
        for need in role.competencies:
            closable = tuple(
                level
                for level in range(1, need.level + 1)
                if any(fit.available_in(c, language) for c in fit.builders(need.competency_id, level))
            )
            competency = inputs.competencies.get(need.competency_id)
            requirements.append(
                RequirementReadiness(
                    competency_id=need.competency_id,
                    name=competency.name if competency else need.competency_id,
                    required_level=need.level,
                    importance=need.importance,
                    closable_levels=closable,
                )
            )
        results.append(
            RoleReadiness(
                role_id=role.id,
                designation=role.designation,
                department=role.department,
                levels_required=sum(r.required_level for r in requirements),
                levels_closable=sum(len(r.closable_levels) for r in requirements),
                requirements=tuple(requirements),
            )
        )
    results.sort(key=lambda r: (r.share, r.role_id))
    return results
