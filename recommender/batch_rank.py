"""One chunk of the batch engine: profiles in, top-k out as JSON Lines bytes or an Arrow table.

The same arithmetic as `Recommender.recommend_many` (gap rows and priorities from `gaps_chunk`, then
`ranking.rank_chunk` on the same arrays), without a `GapAnalysis` object per learner. Learners without a role take
the interactive role-free path one by one, as they do today.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii  # what json.dumps writes for a string

import pyarrow as pa

from models import Learner
from recommender.batch_read import Profile, to_learner
from recommender.gaps_chunk import ChunkGaps
from recommender.ranking import rank_chunk
from recommender.recommend import Recommender

PARQUET_SCHEMA = pa.schema(
    [("learner", pa.string()), ("courses", pa.list_(pa.string())), ("scores", pa.list_(pa.float32()))]
)


@dataclass
class Ranked:
    """A chunk's top-k: course columns (-1: none) and gains, and the role-free learners' lists by position."""

    ids: list[str]
    columns: list[list[int]]
    scores: list[list[float]]
    role_free: dict[int, list[tuple[str, float]]]
    # Role-free learners with interests, left to the parent process: matching interests runs the search model,
    # which a forked worker must not touch (its threads did not survive the fork).
    pending: dict[int, Learner] = field(default_factory=dict)

    def finish(self, recommender: Recommender, k: int) -> None:
        for i, learner in self.pending.items():
            self.role_free[i] = recommender.recommend_many([learner], k)[0]
        self.pending = {}


class ChunkRanker:
    """Holds what every chunk reads (made once, before the workers fork, and shared by them)."""

    def __init__(self, recommender: Recommender) -> None:
        coverage = recommender.coverage_
        coverage.ensure_all()  # every row's semantic evidence now, so that no worker calls the matcher
        coverage.sparse()
        recommender.features_.language_factor(("en",))  # builds the per-language arrays before the fork
        self.recommender = recommender
        self.gaps = ChunkGaps(
            recommender.inputs.roles,
            recommender.inputs.competencies,
            recommender.courses_by_id_,
            coverage.competency_index_,
            priority=recommender.priority,
            padding=coverage.padding_row_,
        )
        self.course_ids = coverage.course_ids_
        self.quoted = [encode_basestring_ascii(identifier) for identifier in coverage.course_ids_]
        self._texts: dict[float, str] = {}  # a gain -> how json.dumps writes it rounded (learners share many)

    def rank(
        self, profiles: Sequence[Profile], k: int, learners: Sequence[Learner] | None = None, *, forked: bool = False
    ) -> Ranked:
        """`learners`, when given, are the `Learner`s the profiles came from (for the role-free path). In a
        `forked` worker, role-free learners with interests are left `pending` when there is a matcher."""
        recommender = self.recommender
        held = self.gaps.held(profiles)
        by_gaps = [i for i, profile in enumerate(profiles) if profile.roles]
        columns: list[list[int]] = [[] for _ in profiles]
        scores: list[list[float]] = [[] for _ in profiles]
        if by_gaps:
            chosen = [profiles[i] for i in by_gaps]
            gaps = self.gaps.gap_rows(chosen, held[by_gaps])
            table, preference = recommender.features_.factor_table([p.preferred_languages for p in chosen])
            index = recommender.coverage_.course_index_
            excluded = [[index[c] for c in (*p.completed, *p.enrolled) if c in index] for p in chosen]
            ranked = rank_chunk(
                recommender.coverage_.matrix_,
                recommender.coverage_.sparse(),
                gaps.rows,
                gaps.priorities,
                factor_table=table,
                preference=preference,
                excluded=excluded,
                k=k,
                config=recommender.ranking,
            )
            for i, row, gains in zip(by_gaps, ranked.columns.tolist(), ranked.scores.tolist(), strict=True):
                columns[i] = row
                scores[i] = gains
        role_free, pending = {}, {}
        for i, profile in enumerate(profiles):
            if not profile.roles:
                learner = learners[i] if learners is not None else to_learner(profile)
                if forked and learner.interests and recommender.matcher is not None:
                    pending[i] = learner
                else:
                    role_free[i] = recommender.recommend_many([learner], k)[0]
        return Ranked([p.id for p in profiles], columns, scores, role_free, pending)

    def jsonl(self, ranked: Ranked) -> bytes:
        """The lines `json.dumps` writes for each learner's {"learner", "courses", "scores"}, byte for byte."""
        quoted, texts, lines = self.quoted, self._texts, []
        for i, (learner, row, gains) in enumerate(zip(ranked.ids, ranked.columns, ranked.scores, strict=True)):
            if i in ranked.role_free:
                items = ranked.role_free[i]
                lines.append(json.dumps({"learner": learner, "courses": [c for c, _ in items],
                                         "scores": [s for _, s in items]}))  # fmt: skip
                continue
            courses = ", ".join([quoted[c] for c in row if c >= 0])
            values = ", ".join([texts.get(s) or self._text(s) for c, s in zip(row, gains, strict=True) if c >= 0])
            lines.append(
                f'{{"learner": {encode_basestring_ascii(learner)}, "courses": [{courses}], "scores": [{values}]}}'
            )
        return ("\n".join(lines) + "\n").encode("utf-8")

    def _text(self, gain: float) -> str:
        if len(self._texts) > 1_000_000:
            self._texts.clear()
        text = self._texts[gain] = repr(round(gain, 6))
        return text

    def table(self, ranked: Ranked) -> pa.Table:
        courses, scores = [], []
        ids = self.course_ids
        for i, (row, gains) in enumerate(zip(ranked.columns, ranked.scores, strict=True)):
            if i in ranked.role_free:
                items = ranked.role_free[i]
                courses.append([c for c, _ in items])
                scores.append([s for _, s in items])
                continue
            courses.append([ids[c] for c in row if c >= 0])
            scores.append([round(s, 6) for c, s in zip(row, gains, strict=True) if c >= 0])
        return pa.table({"learner": ranked.ids, "courses": courses, "scores": scores}, schema=PARQUET_SCHEMA)


def top_k(ranker: ChunkRanker, profiles: Sequence[Profile], k: int) -> list[list[tuple[str, float]]]:
    """(course id, score) per learner, as `Recommender.recommend_many` returns them (for tests and checks)."""
    ranked = ranker.rank(profiles, k)
    ids = ranker.course_ids
    return [
        ranked.role_free[i]
        if i in ranked.role_free
        else [(ids[c], round(s, 6)) for c, s in zip(row, gains, strict=True) if c >= 0]
        for i, (row, gains) in enumerate(zip(ranked.columns, ranked.scores, strict=True))
    ]
