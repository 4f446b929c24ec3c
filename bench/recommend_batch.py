"""Benchmark: `recommend-batch` throughput over synthetic catalogs, the batch engine against today's paths.

For each catalog size (`--courses`, 2,400 and 24,000 by default) it synthesises courses and learners (`karmayogi
synth`'s generator) and measures, in the same run and on the same learners file:
  * one at a time — the interactive path (`Recommender.recommend`, with reasons), on `--baseline` learners;
  * reference     — today's code: `run_batch_reference`, the one-process batch path the engine replaced
                    (pydantic per line, `analyse_gaps` per learner, `recommend_many` per chunk), ranking with
                    the dense argpartition over every course (`recommender.ranking_reference`);
  * engine        — `run_batch`: forked workers (one per core) over the shared course matrices, msgspec reading,
                    gaps as arrays, sparse pools for big catalogs;
checks that the engine's output equals the reference's byte for byte, measures the engine at several k, and its
peak memory (driver and largest worker) at two numbers of learners. Figures are printed as Markdown tables;
`--md FILE` writes them there too (bench/recommend_batch.md is this script's output). Every line says the load
average: on a shared machine the ratios (same run) are what to read.

Semantic evidence is left out: it fills values of the same dense (competency × level) × course matrix once before
the run, so it changes no per-learner cost.

    .venv/bin/python bench/recommend_batch.py [--learners 50000] [--courses 2400 24000] [--md bench/recommend_batch.md]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path

from models import ingest_file, make_engine, session_scope, upgrade
from models.ingest import Kind
from models.sample_data import COMPETENCIES_FILE, ROLES_FILE
from models.synth import SynthPlan, synthesise
from recommender import recommend
from recommender.batch import BatchReport, read_learners_jsonl, run_batch, run_batch_reference
from recommender.batch_pool import default_workers
from recommender.inputs import load_inputs
from recommender.ranking_reference import dense_rank_chunk
from recommender.recommend import Recommender

CRORE = 10_000_000


@dataclass(frozen=True)
class Row:
    path: str
    courses: int
    k: int
    learners: int
    wall: float  # learners per second
    cpu: float  # learners per CPU-second (the driver and its workers)
    load: float  # 1-minute load average when it finished


def catalog(root: Path, courses: int, learners: int) -> tuple[Recommender, Path]:
    files = synthesise(SynthPlan(courses=courses, learners=learners, out=root), COMPETENCIES_FILE, ROLES_FILE)
    db = make_engine(f"sqlite:///{root / 'bench.db'}")
    upgrade(db)
    kinds: tuple[Kind, ...] = ("competencies", "roles", "courses")
    for kind in kinds:
        ingest_file(db, kind, files[kind])
    with session_scope(db) as session:
        recommender = Recommender(load_inputs(session))
    db.dispose()
    recommender.coverage_.ensure_all()
    return recommender, files["learners"]


def prefix(source: Path, count: int, target: Path) -> Path:
    with source.open("rb") as handle, target.open("wb") as out:
        out.writelines(islice(handle, count))
    return target


def row(name: str, courses: int, k: int, report: BatchReport) -> Row:
    return Row(name, courses, k, report.learners, report.learners / report.seconds,
               report.learners / report.cpu_seconds, os.getloadavg()[0])  # fmt: skip


def one_at_a_time(recommender: Recommender, learners: Path, count: int, courses: int) -> Row:
    sample = list(islice(read_learners_jsonl(learners), count))
    started, cpu_started = time.perf_counter(), time.process_time()
    for learner in sample:
        recommender.recommend(learner, 10)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return Row("one at a time (interactive)", courses, 10, len(sample), len(sample) / wall, len(sample) / cpu,
               os.getloadavg()[0])  # fmt: skip


@contextmanager
def todays_ranking() -> Iterator[None]:
    """`Recommender.rank` with the ranking as it was before the batch engine (same results, dense pools)."""
    saved = recommend.rank_chunk
    recommend.rank_chunk = dense_rank_chunk
    try:
        yield
    finally:
        recommend.rank_chunk = saved


def _peak(recommender: Recommender, learners: Path, out: Path, queue: multiprocessing.Queue) -> None:
    run_batch(recommender, partial(read_learners_jsonl, learners), out, k=10)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    queue.put((own, workers))


def peak_memory(recommender: Recommender, learners: Path, out: Path) -> tuple[float, float]:
    """Peak RSS in MiB of a fresh driver (forked from here) and of its largest worker, for one engine run."""
    queue: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()
    process = multiprocessing.get_context("fork").Process(target=_peak, args=(recommender, learners, out, queue))
    process.start()
    result: tuple[float, float] = queue.get()
    process.join()
    return result


def measure(args: argparse.Namespace, courses: int, root: Path) -> tuple[list[Row], list[str]]:
    learners = args.learners if courses <= 2400 else args.large_learners
    started = time.perf_counter()
    recommender, source = catalog(root, courses, learners)
    notes = [
        f"{courses:,} courses, {learners:,} learners synthesised and loaded in {time.perf_counter() - started:.0f} s"
    ]
    rows = [one_at_a_time(recommender, source, args.baseline, courses)]
    reference_file = prefix(source, min(learners, args.reference), root / "reference-learners.jsonl")
    out = root / "reference.jsonl"
    with todays_ranking():
        reference = run_batch_reference(
            recommender, partial(read_learners_jsonl, reference_file), out, k=10, chunk_size=args.chunk_size
        )
    rows.append(row("reference (one process, today's path)", courses, 10, reference))
    engine_out = root / "engine.jsonl"
    report = run_batch(recommender, partial(read_learners_jsonl, source), engine_out, k=10, chunk_size=args.chunk_size)
    rows.append(row(f"engine ({default_workers()} workers)", courses, 10, report))
    with engine_out.open("rb") as handle:
        same = b"".join(islice(handle, rows[1].learners)) == out.read_bytes()
    notes.append(f"identical output: {'yes' if same else 'NO'} (the reference's {rows[1].learners:,} learners, byte "
                 "for byte)")  # fmt: skip
    for k in args.ks:
        if k == 10:
            continue
        sample = prefix(source, min(learners, args.reference), root / f"k{k}.jsonl")
        target = root / f"engine-k{k}.jsonl"
        rows.append(row(f"engine ({default_workers()} workers)", courses, k, run_batch(
            recommender, partial(read_learners_jsonl, sample), target, k=k, chunk_size=args.chunk_size)))  # fmt: skip
    if courses == args.courses[0]:
        small = prefix(source, learners // 4, root / "quarter.jsonl")
        quarter = peak_memory(recommender, small, root / "quarter-out.jsonl")
        whole = peak_memory(recommender, source, root / "whole-out.jsonl")
        notes.append(f"peak memory (driver, largest worker): {learners // 4:,} learners {quarter[0]:,.0f} / "
                     f"{quarter[1]:,.0f} MiB; {learners:,} learners {whole[0]:,.0f} / {whole[1]:,.0f} MiB "
                     f"(ratio {whole[0] / quarter[0]:.2f} / {whole[1] / quarter[1]:.2f}; 1.00 = flat)")  # fmt: skip
    return rows, notes


def render(rows: list[Row], notes: list[str]) -> str:
    lines = [
        f"{os.cpu_count()} cores; load average (1 min) in the last column. Rates are learners per second.",
        "",
        "| path | courses | k | learners | per s (wall) | per CPU-s | load |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r.path} | {r.courses:,} | {r.k} | {r.learners:,} | {r.wall:,.0f} | {r.cpu:,.0f} | {r.load:.1f} |"
              for r in rows]  # fmt: skip
    lines.append("")
    for courses in sorted({r.courses for r in rows}):
        by = {r.path.split(" (")[0]: r for r in rows if r.courses == courses and r.k == 10}
        if "reference" in by and "engine" in by:
            engine, reference = by["engine"], by["reference"]
            lines.append(f"- {courses:,} courses: engine / reference {engine.wall / reference.wall:.2f}x wall, "
                         f"{engine.cpu / reference.cpu:.2f}x per CPU-second; 1 crore learners at the engine's rate: "
                         f"{CRORE / engine.wall / 60:.0f} min (wall, as measured)")  # fmt: skip
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=50_000, help="learners at 2,400 courses or fewer")
    parser.add_argument("--large-learners", type=int, default=10_000, help="learners for bigger catalogs")
    parser.add_argument("--courses", type=int, nargs="+", default=[2400, 24000])
    parser.add_argument("--reference", type=int, default=20_000, help="learners for the reference and other k")
    parser.add_argument("--baseline", type=int, default=1000, help="learners for the one-at-a-time baseline")
    parser.add_argument("--ks", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--chunk-size", type=int, default=2048)
    parser.add_argument("--md", type=Path, help="also write the tables to this Markdown file")
    args = parser.parse_args()
    rows: list[Row] = []
    notes = [f"load average at the start: {os.getloadavg()[0]:.1f}"]
    for courses in args.courses:
        with tempfile.TemporaryDirectory() as folder:
            measured, said = measure(args, courses, Path(folder))
        rows += measured
        notes += said
    text = render(rows, notes)
    print(text)
    if args.md:
        when = time.strftime("%Y-%m-%d %H:%M")
        when = time.strftime("%Y-%m-%d %H:%M")
        header = ("# Batch recommendations: the engine against today's paths\n\n"
                  f"Written by `bench/recommend_batch.py` ({when}); see docs/scaling.md.\n\n")  # fmt: skip
        args.md.write_text(header + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
