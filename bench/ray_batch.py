"""Benchmark: `recommend-batch` on the local engine vs `--engine ray`, and the projection to 1 crore learners.

Synthesises a 2,400-course catalog and N learners, then, in the same process and on the same learners:
  * baseline — the local engine (`run_batch`);
  * ray      — `run_batch_on_ray` with a local Ray instance and A actors (Ray Data `map_batches`).
Prints learners/second for both, the ratio, Ray's fixed start-up cost, and how many machines like this one a
cluster needs to finish 1 crore learners in a given window.

    .venv/bin/python bench/ray_batch.py [--learners 50000] [--actors 2] [--round-chunks 64] [--window-hours 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from functools import partial
from pathlib import Path

from models import ingest_file, make_engine, session_scope, upgrade
from models.ingest import Kind
from models.sample_data import COMPETENCIES_FILE, ROLES_FILE
from models.synth import SynthPlan, synthesise
from recommender.batch import read_learners_jsonl, run_batch
from recommender.batch_ray import ROUND_CHUNKS, run_batch_on_ray
from recommender.inputs import load_inputs
from recommender.recommend import Recommender

CRORE = 10_000_000


def measure(learners: int, courses: int, actors: int, chunk_size: int, *, round_chunks: int) -> dict[str, float]:
    import ray

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = synthesise(SynthPlan(courses=courses, learners=learners, out=root), COMPETENCIES_FILE, ROLES_FILE)
        db = make_engine(f"sqlite:///{root / 'karmayogi.db'}")
        upgrade(db)
        kinds: tuple[Kind, ...] = ("competencies", "roles", "courses")
        for kind in kinds:
            ingest_file(db, kind, files[kind])
        with session_scope(db) as session:
            recommender = Recommender(load_inputs(session))
        source = partial(read_learners_jsonl, files["learners"])
        local = run_batch(recommender, source, root / "local.jsonl", k=10, chunk_size=chunk_size)
        started = time.perf_counter()
        ray.init(num_cpus=actors, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        try:
            # Timed as a nightly run sees it: including the actors' start and the recommender's transfer.
            distributed = run_batch_on_ray(
                recommender,
                source,
                root / "ray.jsonl",
                k=10,
                chunk_size=chunk_size,
                actors=actors,
                round_chunks=round_chunks,
            )
        finally:
            ray.shutdown()
        # How far the driver's peak grew while it held a round (0 if the local run had already peaked higher).
        peak_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
        same = (root / "local.jsonl").read_bytes() == (root / "ray.jsonl").read_bytes()
    return {
        "learners": learners,
        "local_per_s": local.learners / local.seconds,
        "ray_per_s": distributed.learners / distributed.seconds,
        "ray_init_s": ray_start,
        "identical": float(same),
        "driver_peak_growth_mib": peak_growth / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=50_000)
    parser.add_argument("--courses", type=int, default=2400)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=2048)
    parser.add_argument("--round-chunks", type=int, default=ROUND_CHUNKS, help="chunks per Ray round")
    parser.add_argument("--window-hours", type=float, default=1.0, help="time the nightly run may take")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = measure(args.learners, args.courses, args.actors, args.chunk_size, round_chunks=args.round_chunks)
    per_actor = result["ray_per_s"] / args.actors
    needed_actors = CRORE / (per_actor * args.window_hours * 3600)
    cores = os.cpu_count() or 1
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {cores} cores")
    print(f"local engine: {result['local_per_s']:,.0f} learners/s (baseline)")
    ratio = result["ray_per_s"] / result["local_per_s"]
    print(f"ray engine ({args.actors} actors): {result['ray_per_s']:,.0f} learners/s = {ratio:.2f}x local")
    print(f"ray start-up: {result['ray_init_s']:.1f} s; outputs identical: {bool(result['identical'])}")
    rounds = -(-args.learners // (args.chunk_size * args.round_chunks))
    print(f"ray rounds: {rounds}; driver peak memory grew by {result['driver_peak_growth_mib']:,.0f} MiB during them")
    print(
        f"projected 1 crore learners: {CRORE / result['local_per_s'] / 3600:.2f} h on the local engine; "
        f"{needed_actors:.1f} actors ({needed_actors / max(1, cores):.1f} machines of {cores} cores) for "
        f"{args.window_hours:g} h at {per_actor:,.0f} learners/s per actor"
    )
    if args.json:
        args.json.write_text(json.dumps(result | {"actors": args.actors}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
