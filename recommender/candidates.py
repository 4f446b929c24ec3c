"""Candidate courses for each gap: how strongly each course builds a competency at a target level.

Two kinds of evidence: the course is tagged with the competency (weighted by how well its stated level fits the
target), or its text matches the competency's name, description and level descriptor (so untagged or mis-tagged
courses are found too). The result is one row per (competency, target level) over every course in the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from models import Competency, Course

# The one interface through which the recommender asks search for candidates (`search.CourseSearcher.match_texts`
# fits it): takes query texts and k; returns, for each query, up to k (course identifier, similarity) pairs, best
# first.
CourseMatcher = Callable[[list[str], int], list[list[tuple[str, float]]]]
# The same matcher's similarity of each query text to each of some courses: (texts, courses), for
# `CoverageTable.carry_over` (`search.CourseSearcher.match_scores` fits it).
MatchScores = Callable[[list[str], list[str]], np.ndarray]
_TIE = 1e-5  # a changed course this close below a row's weakest match may still enter it (rounding)

LEVELS = (1, 2, 3, 4, 5)
UNSTATED = 6  # code for "tagged, level not stated" in the tag matrix (0: not tagged)


@dataclass(frozen=True)
class EvidenceConfig:
    tag_strength: float = 1.0
    unstated_level_fit: float = 0.6  # a tagged course whose provider gave no level
    below_step: float = 0.75  # fit lost per level a course sits below the learner's next level (a refresher)
    above_step: float = 0.25  # fit lost per level above it (a stretch is better than a repeat)
    semantic_k: int = 40  # matches asked for per (competency, level) query
    # Calibrated against the catalog's own tags (not the judged set): with MiniLM on the sample catalog, 60% of the
    # (competency, course) matches at similarity >= 0.45 are tagged pairs, and 95% at >= 0.6.
    semantic_floor: float = 0.45  # similarity at which a match starts to count
    semantic_ceiling: float = 0.65  # similarity at which it counts fully
    semantic_strength: float = 0.7  # a perfect text match is worth this much of an exactly-levelled tag

    def level_fit(self, target: int, course_level: int | None) -> float:
        if course_level is None:
            return self.unstated_level_fit
        if course_level >= target:
            return max(0.0, 1.0 - self.above_step * (course_level - target))
        return max(0.0, 1.0 - self.below_step * (target - course_level))

    def semantic_evidence(self, similarity: float) -> float:
        share = (similarity - self.semantic_floor) / (self.semantic_ceiling - self.semantic_floor)
        return self.semantic_strength * min(1.0, max(0.0, share))


def competency_query(competency: Competency, level: int) -> str:
    """The text matched against the course index for building `competency` up to `level`."""
    return f"{competency.name}. {competency.description} {competency.levels[level]}"


class CoverageTable:
    """Rows of `matrix_` are (competency, target level) pairs, columns are courses, values in [0, 1].

    Tag evidence is computed for every row at construction. Semantic evidence is added per row on first use
    (`ensure`), so an interactive request asks the matcher only about its own gaps, while a batch run calls
    `ensure_all` once. The last row is all zeros: padding for learners with fewer gaps than their chunk's widest.
    """

    def __init__(
        self,
        courses: Sequence[Course],
        competencies: Sequence[Competency],
        matcher: CourseMatcher | None = None,
        config: EvidenceConfig | None = None,
    ) -> None:
        self.config = config or EvidenceConfig()
        self.matcher = matcher
        self.course_ids_ = [course.identifier for course in courses]
        self.course_index_ = {identifier: i for i, identifier in enumerate(self.course_ids_)}
        self.competencies_ = list(competencies)
        self.competency_index_ = {c.id: i for i, c in enumerate(self.competencies_)}
        self.tag_codes_ = _tag_codes(courses, self.competency_index_)  # [competencies, courses] int8
        self.matrix_ = self._tag_rows()
        self.padding_row_ = self.matrix_.shape[0] - 1
        self.semantic_: dict[int, dict[int, float]] = {}  # row -> course column -> similarity
        self._sparse: sparse.csr_matrix | None = None

    def row(self, competency_id: str, level: int) -> int:
        return self.competency_index_[competency_id] * len(LEVELS) + level - 1

    def tagged_level(self, competency_id: str, column: int) -> int | bool | None:
        """The course's stated level for the competency, None when tagged without a level, False if untagged."""
        code = int(self.tag_codes_[self.competency_index_[competency_id], column])
        return False if code == 0 else (None if code == UNSTATED else code)

    def similarity(self, row: int, column: int) -> float | None:
        return self.semantic_.get(row, {}).get(column)

    def sparse(self) -> sparse.csr_matrix:
        """`matrix_` as CSR (rebuilt after `ensure` adds evidence): most courses build only a few competencies."""
        if self._sparse is None:
            self._sparse = sparse.csr_matrix(self.matrix_)
        return self._sparse

    def ensure(self, rows: Iterable[int]) -> None:
        """Add semantic evidence to the rows that do not have it yet (one matcher call for all of them)."""
        missing = sorted({r for r in rows if r != self.padding_row_ and r not in self.semantic_})
        if not missing:
            return
        self._sparse = None
        if self.matcher is None:
            self.semantic_.update({r: {} for r in missing})
            return
        queries = [competency_query(*self._pair(r)) for r in missing]
        for r, matches in zip(missing, self.matcher(queries, self.config.semantic_k), strict=True):
            self._add_matches(r, matches)

    def _add_matches(self, r: int, matches: Iterable[tuple[str, float]]) -> None:
        competency_row = self.tag_codes_[r // len(LEVELS)]
        found: dict[int, float] = {}
        for identifier, similarity in matches:
            column = self.course_index_.get(identifier)
            if column is None:
                continue
            found[column] = float(similarity)
            # A course tagged with a stated level is judged by its level; text only speaks for the rest.
            if competency_row[column] in (0, UNSTATED):
                evidence = self.config.semantic_evidence(float(similarity))
                self.matrix_[r, column] = max(self.matrix_[r, column], evidence)
        self.semantic_[r] = found

    def carry_over(self, previous: CoverageTable, touched: Collection[str], scores: MatchScores) -> int:
        """Take `previous`'s semantic evidence (a table over the same competencies before the courses in
        `touched` were added, edited or removed) for every row whose matches those changes cannot reach: no
        touched course among them, and no touched course scoring at least the weakest of its `semantic_k`
        matches. Those rows then need no search (`ensure` asks the matcher for the rest); the result is the
        table `ensure` would build, at the cost of scoring the touched courses against each row. Returns how
        many rows were carried over."""
        same = previous.config == self.config and [c.id for c in previous.competencies_] == [
            c.id for c in self.competencies_
        ]
        if not same:
            return 0
        k = self.config.semantic_k
        rows: list[tuple[int, list[tuple[str, float]], float]] = []
        for r, found in previous.semantic_.items():
            if r in self.semantic_ or len(found) < k:
                continue  # fewer matches than asked for: any course may now enter the row
            matches = [(previous.course_ids_[column], similarity) for column, similarity in found.items()]
            if any(identifier in touched for identifier, _ in matches):
                continue
            rows.append((r, matches, min(found.values())))
        present = sorted(identifier for identifier in touched if identifier in self.course_index_)
        if present and rows:
            similarity = scores([competency_query(*self._pair(r)) for r, _, _ in rows], present)
            floors = np.array([floor for _, _, floor in rows], dtype=np.float64)
            reached = (similarity >= floors[:, None] - _TIE).any(axis=1)
            rows = [rows[n] for n in np.flatnonzero(~reached)]
        if not rows:
            return 0
        # The carried rows' values of every course kept (the same tags, the same matches), in one copy; a changed
        # course is in none of their matches, so its tag evidence (already in the new rows) is all it has.
        kept = [identifier for identifier in previous.course_ids_ if identifier not in touched]
        old = np.fromiter((previous.course_index_[i] for i in kept), dtype=np.int64, count=len(kept))
        new = np.fromiter((self.course_index_.get(i, -1) for i in kept), dtype=np.int64, count=len(kept))
        old, new = old[new >= 0], new[new >= 0]
        carried = np.array([r for r, _, _ in rows], dtype=np.int64)
        self.matrix_[np.ix_(carried, new)] = previous.matrix_[np.ix_(carried, old)]
        same_columns = previous.course_ids_ == self.course_ids_
        for r, matches, _ in rows:
            found = previous.semantic_[r]
            # Never changed once made: shared when the columns are the same.
            self.semantic_[r] = found if same_columns else {self.course_index_[i]: s for i, s in matches}
        return len(rows)

    def ensure_all(self) -> None:
        self.ensure(range(self.padding_row_))

    def _pair(self, row: int) -> tuple[Competency, int]:
        return self.competencies_[row // len(LEVELS)], row % len(LEVELS) + 1

    def _tag_rows(self) -> np.ndarray:
        fit = np.zeros((len(LEVELS), UNSTATED + 1), dtype=np.float32)  # [target level, tag code]
        for target in LEVELS:
            for code in range(1, UNSTATED + 1):
                level = None if code == UNSTATED else code
                fit[target - 1, code] = self.config.tag_strength * self.config.level_fit(target, level)
        by_target = fit[:, self.tag_codes_]  # [targets, competencies, courses]
        # Explicit sizes: with no course (an empty catalog) numpy cannot infer the -1 of a reshape.
        rows = by_target.transpose(1, 0, 2).reshape(len(self.competencies_) * len(LEVELS), len(self.course_ids_))
        return np.vstack([rows, np.zeros((1, len(self.course_ids_)), dtype=np.float32)])


def _tag_codes(courses: Sequence[Course], competency_index: dict[str, int]) -> np.ndarray:
    codes = np.zeros((len(competency_index), len(courses)), dtype=np.int8)
    for column, course in enumerate(courses):
        for tag in course.competencies:
            row = competency_index.get(tag.competency_id)
            if row is not None:
                codes[row, column] = tag.level or UNSTATED
    return codes
