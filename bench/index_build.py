"""Benchmark: building the course index, today's path against the build as it is now, step by step, in one run.

Over `--courses` synthetic courses (`karmayogi synth`'s generator; each build with a fresh embedding cache, as
`karmayogi index build` on a new home):
  * today            — the path before this change (`reference_build` below): MiniLM encodes the passages, then
                       the sentences, then the passages again for their tokens, in float32; E5 reads the title and
                       300 characters of the description;
  * one pass         — each slice's passages, tokens and sentences in one forward pass, each distinct text once
                       (`embeddings.passes.encode_once`), float32, E5 still at 300 characters;
  * + E5 title + 120 — the multilingual passage cut to 120 characters (the default now);
  * + bf16           — the English encodings in bf16 (the default where the CPU has it; `index_precision`).
Then what each part of the index costs to build (the default build without it) and what it is worth:
  * nDCG@10 on the Coursera dev split (`--coursera`; skipped when the file is absent) of the default hybrid
    without each part, and of the bf16 and float32 indexes;
  * for E5's length, nDCG@10 of the judged Hindi and Tamil queries (data/eval/readable_queries.jsonl, over the
    sample catalog), where E5 is the only retriever.
Writes Markdown (`--md FILE`; bench/index_build.md is this script's output).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/index_build.py [--courses 2400] [--md bench/index_build.md]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from embeddings import EmbeddingCache, Precision, native_bf16
from embeddings.cache import passage_token_blobs
from models import Course, ingest_file, list_courses, load_competency_model, make_engine, session_scope, upgrade
from models.sample_data import COMPETENCIES_FILE, DATA_DIR, ROLES_FILE, SAMPLE_FILES
from models.synth import SynthPlan, synthesise
from search import CourseSearcher, RetrievalConfig, build_searcher
from search.building import empty_parts, load_encoders
from search.config import CourseFacts
from search.evaluation import evaluate_retrieval
from search.passages import course_text, multilingual_passage
from search.readable_eval import load_readable_queries, measure

COURSERA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "coursera" / "courses.jsonl"
DEFAULT = RetrievalConfig()
TODAY_CHARS = 300
Build = Callable[[Sequence[Course], dict[str, str], EmbeddingCache], CourseSearcher]


def reference_build(courses: Sequence[Course], names: dict[str, str], cache: EmbeddingCache) -> CourseSearcher:
    """The build before this change, kept here as the baseline: three MiniLM passes (passages; sentences in
    slices of 64 courses; the passages again for their tokens), float32, E5 over the title and 300 characters."""
    config = replace(DEFAULT, multilingual_chars=TODAY_CHARS, index_precision="fp32")
    english, multilingual = load_encoders(config, cache)
    parts = empty_parts(config, english, multilingual)
    identifiers = [course.identifier for course in courses]
    texts = [course_text(course, config.fields, names) for course in courses]
    parts.passages.upsert(identifiers, english.encode_passages(texts))
    for start in range(0, len(courses), 64):
        some, their_texts = identifiers[start : start + 64], texts[start : start + 64]
        if parts.sentences is not None:
            parts.sentences.upsert(some, their_texts, english.encode_passages)
        if parts.tokens is not None:
            parts.tokens.upsert_packed(some, passage_token_blobs(english, their_texts))
    if parts.multilingual is not None and multilingual is not None:
        passages = [multilingual_passage(course, TODAY_CHARS) for course in courses]
        parts.multilingual.upsert(identifiers, multilingual.encode_passages(passages))
    facts = {course.identifier: CourseFacts.of(course) for course in courses}
    return CourseSearcher(config, parts, dict(zip(identifiers, texts, strict=True)), facts)


def now_build(config: RetrievalConfig) -> Build:
    return lambda courses, names, cache: build_searcher(courses, names, config, cache=cache)


def timed(build: Build, courses: Sequence[Course], names: dict[str, str]) -> tuple[float, CourseSearcher]:
    with tempfile.TemporaryDirectory() as folder:
        cache = EmbeddingCache(Path(folder) / "cache.db")
        started = time.perf_counter()
        searcher = build(courses, names, cache)
        seconds = time.perf_counter() - started
        cache.close()
    return seconds, searcher


def synthetic_catalog(count: int) -> tuple[list[Course], dict[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        files = synthesise(SynthPlan(courses=count, learners=0, out=Path(folder)), COMPETENCIES_FILE, ROLES_FILE)
        return _ingested([("competencies", COMPETENCIES_FILE), ("courses", files["courses"])], Path(folder))


def _ingested(files: Sequence[tuple[str, Path]], folder: Path) -> tuple[list[Course], dict[str, str]]:
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    upgrade(engine)
    for kind, path in files:
        ingest_file(engine, kind, path)  # type: ignore[arg-type]
    with session_scope(engine) as session:
        courses = list_courses(session)
        names = {competency.id: competency.name for competency in load_competency_model(session).competencies}
    engine.dispose()
    return courses, names


def agreement(a: CourseSearcher, b: CourseSearcher, queries: Sequence[str]) -> float:
    """Mean share of the same courses in both top 10s."""
    shared = [
        len({i for i, _ in x} & {i for i, _ in y}) / 10
        for x, y in zip(a.search_many(queries, 10), b.search_many(queries, 10), strict=True)
    ]
    return float(np.mean(shared))


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def warm_encoders() -> None:
    """Load the models before any build is timed (each loads once per process; the first build would pay it)."""
    english, multilingual = load_encoders(DEFAULT)
    for encoder in (english, multilingual):
        if encoder is not None:
            encoder.encode_passages(["warm-up"])


def speed_section(count: int, precision: Precision) -> tuple[list[str], dict[str, float]]:
    courses, names = synthetic_catalog(count)
    warm_encoders()
    steps: list[tuple[str, Build]] = [
        ("today: three MiniLM passes, float32, E5 title + 300", reference_build),
        ("one pass per distinct text, float32, E5 title + 300",
         now_build(replace(DEFAULT, multilingual_chars=TODAY_CHARS, index_precision="fp32"))),
        ("+ E5 title + 120 characters", now_build(replace(DEFAULT, index_precision="fp32"))),
    ]  # fmt: skip
    if precision == "bf16":
        steps.append(
            ("+ bf16 English encodings (the default here)", now_build(replace(DEFAULT, index_precision="bf16")))
        )
    lines = [
        f"### Build speed: {count:,} synthetic courses, fresh cache each (load average {load()} at start)",
        "",
        "| build | seconds | courses/s | × today | top-10 agreement with today |",
        "|---|---:|---:|---:|---:|",
    ]
    built: dict[str, CourseSearcher] = {}
    seconds: dict[str, float] = {}
    queries = [course.name for course in courses[:: max(1, count // 100)]][:100]
    for label, build in steps:
        seconds[label], built[label] = timed(build, courses, names)
    today = steps[0][0]
    for label, _ in steps:
        same = agreement(built[today], built[label], queries) if label != today else 1.0
        row = (
            f"| {label} | {seconds[label]:.1f} | {count / seconds[label]:.1f} | {seconds[today] / seconds[label]:.2f} |"
        )
        lines.append(row + f" {same:.2f} |")
    final = steps[-1][0]
    final_searcher, reference = built[final], built[today]
    ids = sorted(final_searcher.texts)
    a = np.stack([final_searcher.parts.passages.vector(i) for i in ids])
    b = np.stack([reference.parts.passages.vector(i) for i in ids])
    lowest = float((a * b).sum(axis=1).min())
    lines += ["", f"Lowest cosine between a course's passage vector in the last build and today's: {lowest:.5f}.", ""]
    figures = {"today": count / seconds[today], "now": count / seconds[final]}
    parts_lines, costs = part_costs(courses, names, precision, seconds[final])
    return lines + parts_lines, figures | costs


def part_costs(
    courses: Sequence[Course], names: dict[str, str], precision: Precision, full: float
) -> tuple[list[str], dict[str, float]]:
    """What each part adds to the default build: the default's time less the time without the part."""
    default = replace(DEFAULT, index_precision=precision)
    without = {
        "tokens (late interaction)": replace(default, token_weight=0),
        "sentences (best sentence)": replace(default, segment_weight=0),
        "E5 (multilingual index)": replace(default, multilingual_encoder=None),
    }
    lines = ["| part | build seconds it adds | share of the build |", "|---|---:|---:|"]
    costs = {}
    for part, config in without.items():
        seconds, _ = timed(now_build(config), courses, names)
        costs[part] = max(0.0, full - seconds)
        lines.append(f"| {part} | {costs[part]:.1f} | {costs[part] / full:.0%} |")
    return [*lines, ""], costs


def quality_section(coursera: Path, precision: Precision) -> list[str]:
    default = replace(DEFAULT, index_precision=precision)
    variants = {
        f"default ({precision})": default,
        "default, float32 index": replace(default, index_precision="fp32"),
        "without tokens": replace(default, token_weight=0),
        "without sentences": replace(default, segment_weight=0),
        "without E5 in English queries' hybrid": replace(default, multilingual_weight=0),
        "E5 title + 300 (before)": replace(default, multilingual_chars=300),
        "E5 title + 80": replace(default, multilingual_chars=80),
    }
    lines = [
        f"### What each part is worth: the default hybrid on the Coursera dev split ({coursera.name})",
        "",
        "| index | nDCG@10 dev | nDCG@10 all |",
        "|---|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for label, config in variants.items():
            _, scores = evaluate_retrieval(coursera, config, cache=Path(folder) / "cache.db")
            hybrid = next(s for s in scores if s.method.endswith("(default)"))
            dev, every = hybrid.scores["dev"]["nDCG@10"], hybrid.scores["all"]["nDCG@10"]
            lines.append(f"| {label} | {dev:.4f} | {every:.4f} |")
    return [*lines, ""]


def multilingual_section(precision: Precision) -> list[str]:
    queries = load_readable_queries(DATA_DIR / "eval" / "readable_queries.jsonl")
    with tempfile.TemporaryDirectory() as folder:
        courses, names = _ingested(list(SAMPLE_FILES), Path(folder))
        cache = EmbeddingCache(Path(folder) / "cache.db")
        lines = [
            f"### E5's length: {len(queries)} judged Hindi and Tamil queries over the sample catalog "
            f"({len(courses)} courses)",
            "",
            "| E5 reads | nDCG@10 | Hindi | Tamil | judged English courses in the top 10 |",
            "|---|---:|---:|---:|---:|",
        ]
        for chars in (300, 160, 120, 80):
            config = replace(DEFAULT, multilingual_chars=chars, index_precision=precision)
            searcher = build_searcher(courses, names, config, cache=cache)
            every = measure(searcher, queries, "all")
            hindi = measure(searcher, [q for q in queries if q.language == "hi"], "hi")
            tamil = measure(searcher, [q for q in queries if q.language == "ta"], "ta")
            label = f"title + {chars}" + (" (default)" if chars == DEFAULT.multilingual_chars else "")
            lines.append(
                f"| {label} | {every.ndcg:.4f} | {hindi.ndcg:.4f} | {tamil.ndcg:.4f} | {every.english_recall:.3f} |"
            )
        cache.close()
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=2400)
    parser.add_argument("--coursera", type=Path, default=COURSERA)
    parser.add_argument("--speed-only", action="store_true", help="only the build-speed table")
    parser.add_argument("--md", type=Path, help="also write the Markdown here")
    args = parser.parse_args()
    precision: Precision = "bf16" if native_bf16() else "fp32"
    header = [
        f"Index build, {os.cpu_count()} cores; this CPU {'multiplies' if precision == 'bf16' else 'lacks'} bf16 "
        "natively.",
        "",
    ]
    speed, figures = speed_section(args.courses, precision)
    lines = header + speed
    if not args.speed_only:
        if args.coursera.exists():
            lines += quality_section(args.coursera, precision)
        else:
            lines += [f"(no Coursera file at {args.coursera}: its table is left out)", ""]
        lines += multilingual_section(precision)
    lines.append(f"build: today {figures['today']:.1f} courses/s, now {figures['now']:.1f} courses/s")
    text = "\n".join(lines)
    print(text)
    if args.md:
        args.md.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
