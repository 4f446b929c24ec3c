"""Gap analysis for a chunk of learners at once, as arrays: the batch engine's form of `gaps.analyse_gaps`.

For every learner it gives exactly what the ranking reads of `analyse_gaps`' result: each gap's coverage row
(competency × next level) and priority, in the same order (highest priority first, then competency id). Levels
held are a learners × competencies array: attested levels, raised by the levels that completed courses imply.
Learners of one role set share their requirements, so the comparison runs once per role set of the chunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

from models import Competency, Course, NotFoundError, Role
from recommender.batch_read import Profile
from recommender.candidates import LEVELS
from recommender.gaps import GapPriority, ProfileError, role_requirements

_LAST = np.iinfo(np.int64).max  # sort key of a requirement that is met


@dataclass(frozen=True)
class RoleNeeds:
    """One role set's requirements as arrays (in `role_requirements`' order)."""

    competency: np.ndarray  # [r] competency index
    level: np.ndarray  # [r] required level
    priority: np.ndarray  # [r, 6] a gap's priority by its size (column 0 unused)
    order: np.ndarray  # [r, 6] sort key by size: the place of (-priority, competency id) among the role set's gaps


@dataclass(frozen=True)
class ChunkGapRows:
    rows: np.ndarray  # [learners, width] coverage rows of each learner's gaps, `padding` past their last gap
    priorities: np.ndarray  # [learners, width] float32, 0 past the last gap
    counts: np.ndarray  # [learners] gaps per learner


class ChunkGaps:
    """Built once per catalog (in the batch engine's parent process, shared by its workers)."""

    def __init__(
        self,
        roles: Mapping[str, Role],
        competencies: Mapping[str, Competency],
        courses: Mapping[str, Course],
        competency_index: Mapping[str, int],
        *,
        priority: GapPriority,
        padding: int,
    ) -> None:
        self.roles = roles
        self.competencies = competencies
        self.competency_index = competency_index
        self.priority = priority
        self.padding = padding
        self.course_rows = {identifier: row for row, identifier in enumerate(courses)}
        # [courses, competencies]: the level a completed course implies (its tag's level, 1 when unstated)
        self.implied = np.zeros((len(courses), len(competency_index)), dtype=np.int8)
        for row, course in enumerate(courses.values()):
            for tag in course.competencies:
                column = competency_index.get(tag.competency_id)
                if column is not None:
                    self.implied[row, column] = tag.level or 1
        self._needs: dict[tuple[str, ...], RoleNeeds] = {}

    def held(self, profiles: Sequence[Profile]) -> np.ndarray:
        """[learners, competencies] int8: each level held (0: none); raises as `current_levels` does."""
        held = np.zeros((len(profiles), len(self.competency_index)), dtype=np.int8)
        index, rows = self.competency_index, self.course_rows
        attested = [(i, a) for i, profile in enumerate(profiles) for a in profile.competencies]
        taken = [(i, c) for i, profile in enumerate(profiles) for c in profile.completed]
        try:
            columns = [index[a.competency_id] for _, a in attested]
            courses = [rows[c] for _, c in taken]
        except KeyError:
            self._raise_unknown(profiles)
        learners = [i for i, _ in attested]
        levels = [a.level for _, a in attested]
        completed = [i for i, _ in taken]
        if learners:
            held[learners, columns] = levels
        if completed:
            owners = np.asarray(completed)
            starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
            implied = np.maximum.reduceat(self.implied[courses], starts, axis=0)
            held[owners[starts]] = np.maximum(held[owners[starts]], implied)
        return held

    def _raise_unknown(self, profiles: Sequence[Profile]) -> NoReturn:
        for profile in profiles:
            for position, attested in enumerate(profile.competencies):
                if attested.competency_id not in self.competency_index:
                    raise ProfileError(
                        f"competencies[{position}].competency_id: unknown competency {attested.competency_id!r}"
                    )
            for course_id in profile.completed:
                if course_id not in self.course_rows:
                    raise NotFoundError("course", course_id)
        raise AssertionError("no unknown competency or course after all")

    def gap_rows(self, profiles: Sequence[Profile], held: np.ndarray) -> ChunkGapRows:
        """Gaps of learners who have roles (`held`: their rows of `held()`), in `analyse_gaps`' order."""
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, profile in enumerate(profiles):
            groups.setdefault(tuple(profile.roles), []).append(i)
        needs = {key: self.needs(key) for key in groups}
        most = max((len(n.competency) for n in needs.values()), default=0)
        rows = np.full((len(profiles), max(1, most)), self.padding, dtype=np.int64)
        priorities = np.zeros((len(profiles), max(1, most)), dtype=np.float64)
        counts = np.zeros(len(profiles), dtype=np.int64)
        for key, members in groups.items():
            need = needs[key]
            width = len(need.competency)
            if width == 0:
                continue
            current = held[np.asarray(members)][:, need.competency].astype(np.int64)  # [g, r]
            size = need.level[None, :] - current
            gap = size > 0
            size = np.maximum(size, 0)
            place = np.arange(width)[None, :]
            key_ = np.where(gap, need.order[place, size], _LAST)
            order = np.argsort(key_, axis=1)
            sorted_size = np.take_along_axis(size, order, axis=1)
            sorted_current = np.take_along_axis(current, order, axis=1)
            in_gap = np.take_along_axis(gap, order, axis=1)
            competency = need.competency[order]
            group_rows = np.where(in_gap, competency * len(LEVELS) + sorted_current, self.padding)
            group_priorities = np.where(in_gap, need.priority[order, sorted_size], 0.0)
            rows[members, :width] = group_rows
            priorities[members, :width] = group_priorities
            counts[members] = gap.sum(axis=1)
        width = max(1, int(counts.max(initial=0)))
        return ChunkGapRows(rows[:, :width], priorities[:, :width].astype(np.float32), counts)

    def needs(self, key: tuple[str, ...]) -> RoleNeeds:
        if key not in self._needs:
            requirements = role_requirements(key, self.roles, self.competencies)
            count = len(requirements)
            priority = np.zeros((count, len(LEVELS) + 1), dtype=np.float64)
            for j, need in enumerate(requirements):
                for size in LEVELS:
                    priority[j, size] = self.priority.score(size, need.importance, need.competency.area_id)
            pairs = sorted(
                ((j, size) for j in range(count) for size in LEVELS),
                key=lambda pair: (-priority[pair], requirements[pair[0]].competency.id),
            )
            order = np.full((count, len(LEVELS) + 1), _LAST, dtype=np.int64)
            for place, pair in enumerate(pairs):
                order[pair] = place
            self._needs[key] = RoleNeeds(
                competency=np.array([self.competency_index[n.competency.id] for n in requirements], dtype=np.int64),
                level=np.array([n.level for n in requirements], dtype=np.int64),
                priority=priority,
                order=order,
            )
        return self._needs[key]
