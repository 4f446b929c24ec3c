"""Evaluating retrieval on an external catalog whose courses carry a `skills` list (e.g. the Coursera benchmark).

The courses are ingested WITHOUT their skills into a scratch database; every skill carried by at least
`min_courses` courses becomes a query, and a course is relevant to it when it carries that skill. The skills are
read from the file separately, only to build these judgements."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ir_measures
import numpy as np
from ir_measures import RR, R, nDCG

from embeddings import EmbeddingCache
from models import InvalidInputError, ingest_file, list_courses, make_engine, session_scope, upgrade
from search.building import build_searcher
from search.config import RetrievalConfig
from search.fusion import reciprocal_rank_fusion, zscore_fusion
from search.searcher import CourseSearcher

MEASURES = {"nDCG@10": nDCG @ 10, "Recall@10": R @ 10, "MRR": RR}
DEPTH = 100
Ranking = list[tuple[str, float]]


class EvaluationInputError(InvalidInputError):
    """The evaluation file cannot serve as a benchmark (e.g. no skill occurs often enough)."""


@dataclass(frozen=True)
class Judgements:
    """Queries (skill strings) and, for each, the courses that carry it."""

    relevant: dict[str, set[str]]

    def split(self, part: str) -> Judgements:
        """A fixed half of the queries by a hash of their text: `dev` for tuning, `test` for reporting."""
        if part == "all":
            return self
        keep = {q: docs for q, docs in self.relevant.items() if (_hash_half(q) == 0) == (part == "dev")}
        return Judgements(keep)


@dataclass
class MethodScores:
    method: str
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # split -> measure -> value


def read_judgements(path: Path, min_courses: int = 5) -> Judgements:
    by_skill: dict[str, set[str]] = defaultdict(set)
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                identifier = str(record["identifier"])
                skills = record.get("skills") or []
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise EvaluationInputError(f"{path}:{number}: not a course with an identifier ({error})") from error
            if not isinstance(skills, list):
                raise EvaluationInputError(f"{path}:{number}: skills: expected a list of strings")
            for skill in skills:
                by_skill[str(skill).strip()].add(identifier)
    relevant = {skill: docs for skill, docs in sorted(by_skill.items()) if skill and len(docs) >= min_courses}
    if not relevant:
        raise EvaluationInputError(f"{path}: no skill occurs in {min_courses} or more courses: nothing to evaluate")
    return Judgements(relevant)


def scratch_searcher(
    courses_file: Path,
    config: RetrievalConfig,
    progress: Callable[[int], None] | None = None,
    *,
    cache: Path | None = None,
) -> CourseSearcher:
    """Ingest the file into a throw-away SQLite database (unknown fields such as `skills` are ignored there)
    and index it in memory. Nothing else is read: no live database, no stored index. `cache`: an embedding cache
    file to read and fill (keyed by model and text hash, it changes the run's time, never its result)."""
    with tempfile.TemporaryDirectory(prefix="karmayogi-eval-") as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'eval.db'}")
        try:
            upgrade(engine)
            ingest_file(engine, "courses", courses_file)
            with session_scope(engine) as session:
                courses = list_courses(session)
        finally:
            engine.dispose()
    if cache is None:
        return build_searcher(courses, {}, config, progress=progress)
    vectors = EmbeddingCache(cache)
    try:
        return build_searcher(courses, {}, config, cache=vectors, progress=progress)
    finally:
        vectors.close()


def method_runs(searcher: CourseSearcher, queries: Sequence[str]) -> dict[str, list[Ranking]]:
    """Every retrieval method the project offers, each a ranking per query (same order as `queries`): each
    signal alone, the earlier fusions of passage signals, and last the default hybrid exactly as `search` runs it."""
    config = searcher.config
    dense = searcher.dense(queries, DEPTH)
    bm25 = [searcher.lexical(query, DEPTH) for query in queries]
    runs: dict[str, list[Ranking]] = {
        "BM25 (bm25s, English stopwords, Snowball stems)": bm25,
        f"dense {config.encoder}": dense,
        f"RRF(BM25, {config.encoder})": [reciprocal_rank_fusion([d, b]) for d, b in zip(dense, bm25, strict=True)],
    }
    weights = {"dense": 1.0, "bm25": config.bm25_weight, "multilingual": config.multilingual_weight}
    passages = f"z-fusion {config.encoder} + {config.bm25_weight:g}·BM25"
    runs[passages] = [zscore_fusion({"dense": d, "bm25": b}, weights) for d, b in zip(dense, bm25, strict=True)]
    if searcher.multilingual:
        e5 = searcher.dense(queries, DEPTH, multilingual=True)
        runs[f"dense {config.multilingual_encoder} (title + {config.multilingual_chars} chars)"] = e5
        runs[f"RRF(BM25, {config.encoder}, {config.multilingual_encoder})"] = [
            reciprocal_rank_fusion([d, b, m]) for d, b, m in zip(dense, bm25, e5, strict=True)
        ]
        passages += f" + {config.multilingual_weight:g}·{config.multilingual_encoder}"
        runs[passages] = [
            zscore_fusion({"dense": d, "bm25": b, "multilingual": m}, weights)
            for d, b, m in zip(dense, bm25, e5, strict=True)
        ]
    if searcher.parts.sentences is not None:
        runs[f"{config.encoder}, best sentence"] = _best_sentence_runs(searcher, queries)
    if searcher.parts.tokens is not None:
        runs[f"{config.encoder}, late interaction (MaxSim over tokens)"] = _late_interaction_runs(searcher, queries)
    default = "hybrid: " + passages.removeprefix("z-fusion ")
    if searcher.parts.sentences is not None and config.segment_weight > 0:
        default += f" + {config.segment_weight:g}·best sentence"
    if config.neighbour_weight > 0 and config.neighbours > 0:
        default += f" + {config.neighbour_weight:g}·{config.neighbours} nearest courses"
    if searcher.parts.tokens is not None and config.token_weight > 0:
        default += f", MaxSim rerank of {config.candidates} (×{config.token_weight:g})"
    runs[default + " (default)"] = searcher.hybrid(queries, DEPTH)
    return runs


def _best_sentence_runs(searcher: CourseSearcher, queries: Sequence[str]) -> list[Ranking]:
    pool, scores = searcher.best_sentence_scores(searcher.embed(queries))
    return [_ranking(pool, row) for row in scores]


def _late_interaction_runs(searcher: CourseSearcher, queries: Sequence[str]) -> list[Ranking]:
    tokens = searcher.parts.tokens
    if tokens is None:
        raise LookupError("this searcher has no token vectors (token_weight is 0)")
    pool = sorted(searcher.texts)
    # A course without token vectors has no MaxSim (NaN): ranked last here.
    return [
        _ranking(pool, np.nan_to_num(tokens.maxsim(query, pool), nan=-1.0)) for query in searcher.query_tokens(queries)
    ]


def _ranking(pool: Sequence[str], scores: np.ndarray) -> Ranking:
    top = np.argsort(-scores, kind="stable")[:DEPTH]
    return [(pool[j], float(scores[j])) for j in top]


def score_runs(runs: dict[str, list[Ranking]], judgements: Judgements) -> list[MethodScores]:
    queries = list(judgements.relevant)
    results = []
    for method, rankings in runs.items():
        run = {
            _qid(q): {doc: score for doc, score in ranking[:DEPTH]}
            for q, ranking in zip(queries, rankings, strict=True)
        }
        scores = MethodScores(method)
        for part in ("all", "dev", "test"):
            subset = judgements.split(part).relevant
            qrels = {_qid(q): {doc: 1 for doc in docs} for q, docs in subset.items()}
            aggregate = ir_measures.calc_aggregate(list(MEASURES.values()), qrels, {q: run[q] for q in qrels})
            scores.scores[part] = {name: float(aggregate[measure]) for name, measure in MEASURES.items()}
        results.append(scores)
    return results


def evaluate_retrieval(
    courses_file: Path,
    config: RetrievalConfig = RetrievalConfig(),
    min_courses: int = 5,
    progress: Callable[[int], None] | None = None,
    *,
    cache: Path | None = None,
) -> tuple[Judgements, list[MethodScores]]:
    judgements = read_judgements(courses_file, min_courses)
    searcher = scratch_searcher(courses_file, config, progress, cache=cache)
    runs = method_runs(searcher, list(judgements.relevant))
    return judgements, score_runs(runs, judgements)


def _qid(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]


def _hash_half(query: str) -> int:
    return int(hashlib.sha256(query.encode()).hexdigest(), 16) % 2
