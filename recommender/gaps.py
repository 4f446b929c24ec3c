"""Competency gaps: what a learner's role(s) require, what they hold, and how much each difference matters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from models import AttestedCompetency, Competency, Course, InvalidInputError, Learner, NotFoundError, Role


class ProfileError(InvalidInputError):
    """A learner profile that cannot be analysed: the message names the offending field."""


@dataclass(frozen=True)
class GapPriority:
    """How a gap's priority is made: a weighted sum of its size, the role's importance and its area."""

    size: float = 0.5
    importance: float = 0.35
    area: float = 0.15
    # Functional and domain gaps block the daily work of a post; behavioural gaps matter but build slowly.
    area_weights: Mapping[str, float] = field(default_factory=lambda: {"FUN": 1.0, "DOM": 1.0, "BEH": 0.8})
    default_area_weight: float = 0.8

    _memo: dict[tuple[int, int, str], float] = field(default_factory=dict, compare=False, repr=False)

    def score(self, size: int, importance: int, area_id: str) -> float:
        key = (size, importance, area_id)
        if key not in self._memo:
            area = self.area_weights.get(area_id, self.default_area_weight)
            self._memo[key] = round(self.size * size / 5 + self.importance * importance / 3 + self.area * area, 6)
        return self._memo[key]


@dataclass(frozen=True)
class Requirement:
    """What a learner's roles require of one competency (the highest level and importance among them)."""

    competency: Competency
    level: int
    importance: int
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Gap:
    competency_id: str
    name: str
    area_id: str
    current_level: int  # 0: the learner holds no known level
    required_level: int
    importance: int  # 1 useful, 2 important, 3 critical (the highest over the learner's roles)
    level_source: str  # "assessed", "self", "completed courses" or "unknown"
    roles: tuple[str, ...]
    priority: float

    @property
    def size(self) -> int:
        return self.required_level - self.current_level

    @property
    def next_level(self) -> int:
        return self.current_level + 1


@dataclass(frozen=True)
class GapAnalysis:
    learner_id: str
    roles: tuple[str, ...]
    gaps: tuple[Gap, ...]  # highest priority first
    met: tuple[str, ...]  # required competencies the learner already holds at the required level
    levels_known: bool  # False: no attested level and no completed course; every level was taken as 0
    notes: tuple[str, ...] = ()


def current_levels(
    learner: Learner, courses: Mapping[str, Course], competencies: Mapping[str, Competency]
) -> dict[str, tuple[int, str]]:
    """Each competency's level and where it comes from: attested (assessed beats self) or implied by completed
    courses (a completed course tagged at level L implies L; an unstated level implies 1), whichever is higher."""
    levels: dict[str, tuple[int, str]] = {}
    for position, attested in enumerate(learner.competencies):
        if attested.competency_id not in competencies:
            raise ProfileError(f"competencies[{position}].competency_id: unknown competency {attested.competency_id!r}")
        levels[attested.competency_id] = (attested.level, attested.source)
    for course_id in learner.completed:
        course = courses.get(course_id)
        if course is None:
            raise NotFoundError("course", course_id)
        for tag in course.competencies:
            implied = tag.level or 1
            if implied > levels.get(tag.competency_id, (0, ""))[0]:
                levels[tag.competency_id] = (implied, "completed courses")
    return levels


def role_requirements(
    role_ids: Sequence[str], roles: Mapping[str, Role], competencies: Mapping[str, Competency]
) -> tuple[Requirement, ...]:
    required: dict[str, tuple[int, int, tuple[str, ...]]] = {}
    for role_id in role_ids:
        role = roles.get(role_id)
        if role is None:
            raise NotFoundError("role", role_id)
        for need in role.competencies:
            level, importance, holders = required.get(need.competency_id, (0, 0, ()))
            required[need.competency_id] = (
                max(level, need.level),
                max(importance, need.importance),
                (*holders, role_id),
            )
    result = []
    for competency_id, (level, importance, holders) in required.items():
        competency = competencies.get(competency_id)
        if competency is None:
            raise ProfileError(f"role {holders[0]}: requires unknown competency {competency_id!r}")
        result.append(Requirement(competency, level, importance, holders))
    return tuple(result)


def analyse_gaps(
    learner: Learner,
    roles: Mapping[str, Role],
    competencies: Mapping[str, Competency],
    courses: Mapping[str, Course],
    *,
    priority: GapPriority | None = None,
    requirements: tuple[Requirement, ...] | None = None,
) -> GapAnalysis:
    """Every competency the learner's roles require above the level they hold, highest priority first.
    `requirements` may be passed in when already computed for the same roles (learners share roles)."""
    priority = priority or GapPriority()
    if requirements is None:
        requirements = role_requirements(learner.roles, roles, competencies)
    held = current_levels(learner, courses, competencies)
    gaps: list[Gap] = []
    met: list[str] = []
    for need in requirements:
        competency = need.competency
        current, source = held.get(competency.id, (0, "unknown"))
        if current >= need.level:
            met.append(competency.id)
            continue
        gaps.append(
            Gap(
                competency_id=competency.id,
                name=competency.name,
                area_id=competency.area_id,
                current_level=current,
                required_level=need.level,
                importance=need.importance,
                level_source=source,
                roles=need.roles,
                priority=priority.score(need.level - current, need.importance, competency.area_id),
            )
        )
    gaps.sort(key=lambda gap: (-gap.priority, gap.competency_id))
    levels_known = bool(held)
    notes: list[str] = []
    if not learner.roles:
        notes.append("no role on record: suggestions are role-free (department, rating, interests)")
    elif not levels_known:
        notes.append("no attested levels and no completed courses: every current level was taken as 0")
    if learner.roles and not gaps:
        notes.append("meets every level the role(s) require")
    return GapAnalysis(
        learner_id=learner.id,
        roles=tuple(learner.roles),
        gaps=tuple(gaps),
        met=tuple(sorted(met)),
        levels_known=levels_known,
        notes=tuple(notes),
    )


def inline_learner(
    roles: Sequence[str],
    levels: Mapping[str, int],
    competencies: Mapping[str, Competency],
    *,
    preferred_languages: Sequence[str] = ("en",),
    completed: Sequence[str] = (),
    department: str | None = None,
    interests: Sequence[str] = (),
) -> Learner:
    """A learner who is not in the database, from a role list and competency levels; each bad field is named."""
    for competency_id, level in levels.items():
        if competency_id not in competencies:
            raise ProfileError(f"levels.{competency_id}: unknown competency {competency_id!r}")
        if not 1 <= level <= 5:
            raise ProfileError(f"levels.{competency_id}: level {level} is outside 1–5")
    try:
        return Learner(
            id="inline-profile",
            roles=list(roles),
            department=department,
            preferred_languages=list(preferred_languages) or ["en"],
            completed=list(completed),
            competencies=[AttestedCompetency(competency_id=c, level=level) for c, level in levels.items()],
            interests=list(interests),
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise ProfileError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
