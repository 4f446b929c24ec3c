"""How readable a search's results are, on a judged set of non-English queries (`data/eval/readable_queries.jsonl`):
the share of the top 10 in a language the reader named (the query's, the ones they read, English), nDCG@10 over
the judged courses in those languages, and how many of the judged English courses reach the top 10.

The same searcher is asked under each configuration, so "before" (both parts off) and "after" come from one run."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from models import InvalidInputError
from search.config import CourseFacts, SearchFilters
from search.readable import ENGLISH, is_readable, reader_languages
from search.searcher import CourseSearcher

DEPTH = 10
# (label, readable_first, centre_languages)
CONFIGURATIONS: tuple[tuple[str, bool, bool], ...] = (
    ("before: multilingual cosines as they are", False, False),
    ("readable courses first only", True, False),
    ("per-language centring only", False, True),
    ("after: both (default)", True, True),
)


@dataclass(frozen=True)
class ReadableQuery:
    id: str
    query: str
    language: str
    reads: tuple[str, ...]
    relevant: dict[str, int]  # course -> grade (courses in a language the reader reads)

    @property
    def readers(self) -> frozenset[str]:
        return reader_languages(self.language, self.reads)


@dataclass(frozen=True)
class ReadableRow:
    label: str
    queries: int
    readable_share: float
    ndcg: float
    english_recall: float
    english_in_top: float  # mean count of English courses (judged or not) in the top 10


def load_readable_queries(path: Path) -> list[ReadableQuery]:
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            queries.append(
                ReadableQuery(
                    id=str(row["id"]),
                    query=str(row["query"]),
                    language=str(row["language"]),
                    reads=tuple(row.get("reads", ())),
                    relevant={str(r["course"]): int(r["grade"]) for r in row["relevant"]},
                )
            )
        except (ValueError, KeyError, TypeError) as why:
            raise InvalidInputError(f"{path.name}:{number}: {why}") from why
    return queries


def ndcg(ranked: Sequence[str], relevant: dict[str, int], depth: int = DEPTH) -> float:
    gain = sum(relevant.get(course, 0) / math.log2(rank + 2) for rank, course in enumerate(ranked[:depth]))
    ideal = sorted(relevant.values(), reverse=True)[:depth]
    best = sum(grade / math.log2(rank + 2) for rank, grade in enumerate(ideal))
    return gain / best if best else 0.0


def measure(
    searcher: CourseSearcher,
    queries: Sequence[ReadableQuery],
    label: str,
    explicit_filter: bool = False,
) -> ReadableRow:
    """One row: the searcher as configured, each query with its language given and the reader's languages as
    `reads` (or, with `explicit_filter`, as a language filter, as `language=hi,en` asks over HTTP)."""
    shares, gains, recalls, english = [], [], [], []
    for query in queries:
        if explicit_filter:
            found = searcher.search(query.query, DEPTH, SearchFilters(languages=query.readers), language=query.language)
        else:
            found = searcher.search(query.query, DEPTH, language=query.language, reads=query.reads)
        top = [course for course, _ in found]
        facts = [searcher.facts.get(course, CourseFacts()) for course in top]
        shares.append(sum(is_readable(f, query.readers) for f in facts) / DEPTH)
        gains.append(ndcg(top, query.relevant))
        judged = [c for c in query.relevant if ENGLISH in searcher.facts.get(c, CourseFacts()).languages]
        recalls.append(len(set(judged) & set(top)) / len(judged) if judged else 1.0)
        english.append(sum(ENGLISH in f.languages for f in facts))
    n = len(queries)
    return ReadableRow(label, n, sum(shares) / n, sum(gains) / n, sum(recalls) / n, sum(english) / n)


def evaluate_readable(
    searcher: CourseSearcher,
    queries: Sequence[ReadableQuery],
    configurations: Iterable[tuple[str, bool, bool]] = CONFIGURATIONS,
) -> list[ReadableRow]:
    """Each configuration on the same indexes, without and with the reader's languages as an explicit filter;
    then the default split by query language."""
    rows = []
    for label, first, centre in configurations:
        variant = copy.copy(searcher)
        variant.config = replace(searcher.config, readable_first=first, centre_languages=centre)
        rows.append(measure(variant, queries, label))
    for label, centre in (("language filter, before", False), ("language filter, after", True)):
        variant = copy.copy(searcher)
        variant.config = replace(searcher.config, readable_first=centre, centre_languages=centre)
        rows.append(measure(variant, queries, label, explicit_filter=True))
    for language in sorted({query.language for query in queries}):
        some = [query for query in queries if query.language == language]
        for label, on in (("before", False), ("after", True)):
            variant = copy.copy(searcher)
            variant.config = replace(searcher.config, readable_first=on, centre_languages=on)
            rows.append(measure(variant, some, f"{language} queries, {label}"))
    return rows


def markdown(rows: Sequence[ReadableRow]) -> str:
    lines = [
        "| configuration | queries | readable share of top 10 | nDCG@10 | judged English courses in top 10 "
        "| English courses in top 10 |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.label} | {r.queries} | {r.readable_share:.3f} | {r.ndcg:.3f} | {r.english_recall:.3f} "
        f"| {r.english_in_top:.1f} |"
        for r in rows
    ]
    return "\n".join(lines)
