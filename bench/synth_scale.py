"""Benchmark: `karmayogi synth` streams learners in bounded memory.

Runs the generator for N and 10×N learners in separate processes and prints learners/second, peak memory, and the
ratio of peak memories (≈1 means memory does not grow with the number of learners), then projects 1 crore learners.

    .venv/bin/python bench/synth_scale.py [--learners 20000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

from models.sample_data import COMPETENCIES_FILE, ROLES_FILE
from models.synth import SynthPlan, synthesise

CRORE = 10_000_000


def _run(learners: int, queue: multiprocessing.Queue) -> None:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        synthesise(SynthPlan(courses=2400, learners=learners, out=Path(folder)), COMPETENCIES_FILE, ROLES_FILE)
        elapsed = time.perf_counter() - started
    queue.put((elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def measure(learners: int) -> tuple[float, float]:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=_run, args=(learners, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=20_000)
    small = parser.parse_args().learners
    rows = [(n, *measure(n)) for n in (small, small * 10)]
    print(f"{'learners':>10} {'seconds':>8} {'learners/s':>11} {'peak MiB':>9}")
    for learners, seconds, peak in rows:
        print(f"{learners:>10} {seconds:>8.1f} {learners / seconds:>11.0f} {peak:>9.0f}")
    (_, _, small_peak), (big, big_seconds, big_peak) = rows
    print(f"peak memory ratio 10×N / N: {big_peak / small_peak:.2f} (1.00 = bounded)")
    print(f"projected 1 crore learners: {CRORE / (big / big_seconds) / 60:.1f} min")


if __name__ == "__main__":
    main()
