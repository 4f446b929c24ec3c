"""Benchmark: `recommend-batch` throughput over a 2,400-course synthetic catalog, projected to 1 crore learners.

Synthesises a catalog and N learners (`karmayogi synth`'s generator), then, in the same process:
  * baseline — the interactive path, one learner at a time (`Recommender.recommend`, with reasons);
  * batch    — `run_batch`: JSONL in, chunks of learners scored together with numpy, JSONL out, checkpointed;
and prints learners/second, the speed-up, peak memory and the projected time for 1 crore learners.

Semantic evidence is left out: it fills values of the same dense (competency × level) × course matrix once before
the run, so it changes no per-learner cost.

    .venv/bin/python bench/recommend_batch.py [--learners 200000] [--baseline 2000] [--chunk-size 2048]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from functools import partial
from itertools import islice
from pathlib import Path

from models import ingest_file, make_engine, session_scope, upgrade
from models.ingest import Kind
from models.sample_data import COMPETENCIES_FILE, ROLES_FILE
from models.synth import SynthPlan, synthesise
from recommender.batch import read_learners_jsonl, run_batch
from recommender.inputs import load_inputs
from recommender.recommend import Recommender

CRORE = 10_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=200_000)
    parser.add_argument("--courses", type=int, default=2400)
    parser.add_argument("--baseline", type=int, default=2000, help="learners for the one-at-a-time baseline")
    parser.add_argument("--chunk-size", type=int, default=2048)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        files = synthesise(
            SynthPlan(courses=args.courses, learners=args.learners, out=root), COMPETENCIES_FILE, ROLES_FILE
        )
        print(
            f"synthesised {args.courses} courses and {args.learners} learners in {time.perf_counter() - started:.0f}s"
        )
        db = make_engine(f"sqlite:///{root / 'bench.db'}")
        upgrade(db)
        kinds: tuple[Kind, ...] = ("competencies", "roles", "courses")
        for kind in kinds:
            ingest_file(db, kind, files[kind])
        with session_scope(db) as session:
            recommender = Recommender(load_inputs(session))
        recommender.coverage_.ensure_all()

        sample = list(islice(read_learners_jsonl(files["learners"]), args.baseline))
        started, cpu_started = time.perf_counter(), time.process_time()
        for learner in sample:
            recommender.recommend(learner, 10)
        baseline = (len(sample) / (time.perf_counter() - started), len(sample) / (time.process_time() - cpu_started))

        out = root / "recommendations.jsonl"
        report = run_batch(
            recommender, partial(read_learners_jsonl, files["learners"]), out, k=10, chunk_size=args.chunk_size
        )
        batch = (report.learners / report.seconds, report.learners / report.cpu_seconds)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'path':<38} {'learners':>9} {'per s (wall)':>13} {'per CPU-s':>10}")
    print(f"{'one at a time (interactive)':<38} {len(sample):>9} {baseline[0]:>13,.0f} {baseline[1]:>10,.0f}")
    label = f"batch, chunks of {args.chunk_size} (JSONL in/out)"
    print(f"{label:<38} {report.learners:>9} {batch[0]:>13,.0f} {batch[1]:>10,.0f}")
    print(f"speed-up batch / one at a time: {batch[0] / baseline[0]:.1f}x wall, {batch[1] / baseline[1]:.1f}x CPU")
    print(f"peak memory: {peak:,.0f} MiB")
    for name, rate in (("wall clock, as measured", batch[0]), ("CPU time, one core to itself", batch[1])):
        hours = CRORE / rate / 3600
        print(f"projected 1 crore learners from {name}: {hours:.2f} h ({'under' if hours < 1 else 'OVER'} 1 h)")


if __name__ == "__main__":
    main()
