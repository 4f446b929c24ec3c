"""The batch engine's workers: chunks ranked by a pool of forked processes, results handed back in input order.

The parent builds the `ChunkRanker` (course matrices, requirements, implied levels) once and then forks; every
worker reads the same matrices through copy-on-write pages, nothing is pickled but a chunk's raw lines (or
`Learner`s) on the way in and its output bytes (or Arrow table) on the way out. At most `2 × workers` chunks are
in flight, so memory does not grow with the number of learners. Ray remains the engine for several machines.

A chunk that fails in a worker comes back as `Failed`; the caller redoes it with the reference path, which raises
the error today's code raises (the same message, naming the file, learner and field).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import traceback
from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from models import Learner
from recommender.batch_rank import ChunkRanker, Ranked
from recommender.batch_read import decode_lines, from_learner

Format = Literal["jsonl", "parquet"]
Payload = bytes | pa.Table


@dataclass(frozen=True)
class Chunk:
    first: int  # number of its first learner (1-based, among the source's non-blank lines)
    lines: list[bytes] | None = None  # raw JSON lines (a learners file) ...
    learners: list[Learner] | None = None  # ... or learners already validated (the database)

    def __len__(self) -> int:
        return len(self.lines) if self.lines is not None else len(self.learners or ())


@dataclass(frozen=True)
class Failed:
    error: str  # the worker's traceback


_state: tuple[ChunkRanker, int, Format] | None = None  # set in the parent before forking: workers inherit it


def rank_chunk_payload(
    ranker: ChunkRanker, chunk: Chunk, k: int, fmt: Format, *, forked: bool = False
) -> Payload | Ranked:
    """The chunk's output, or its `Ranked` with learners left for the parent (`Ranked.pending`, see there)."""
    if chunk.lines is not None:
        profiles, learners = decode_lines(chunk.lines, chunk.first), None
    else:
        learners = chunk.learners or []
        profiles = [from_learner(learner) for learner in learners]
    ranked = ranker.rank(profiles, k, learners, forked=forked)
    return ranked if ranked.pending else output(ranker, ranked, fmt)


def output(ranker: ChunkRanker, ranked: Ranked, fmt: Format) -> Payload:
    return ranker.jsonl(ranked) if fmt == "jsonl" else ranker.table(ranked)


def _work(chunk: Chunk) -> Payload | Ranked | Failed:
    if _state is None:
        return Failed("batch worker started without a ranker")
    ranker, k, fmt = _state
    try:
        return rank_chunk_payload(ranker, chunk, k, fmt, forked=True)
    except Exception:  # reported to the parent, which redoes the chunk on the reference path
        return Failed(traceback.format_exc())


def _settle() -> None:
    # Everything inherited is long-lived: keep the collector from scanning it (and from touching its pages).
    gc.freeze()


def default_workers() -> int:
    """One per core this process may use; 1 (rank in this process) while a Ray runtime runs in it, whose
    threads a fork would copy in the middle of their work."""
    ray = sys.modules.get("ray")
    if ray is not None and getattr(ray, "is_initialized", lambda: False)():
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def ranked_chunks(
    ranker: ChunkRanker, chunks: Iterable[Chunk], *, k: int, fmt: Format, workers: int
) -> Generator[tuple[Chunk, Payload | Ranked | Failed], None, None]:
    """(chunk, its output) in input order. When reading the source fails, the chunks read before it are still
    handed back first, so that they can be written and checkpointed before the error propagates."""
    if workers <= 1:
        for chunk in chunks:
            try:
                yield chunk, rank_chunk_payload(ranker, chunk, k, fmt)
            except Exception:
                yield chunk, Failed(traceback.format_exc())
        return
    global _state
    _state = (ranker, k, fmt)
    context = multiprocessing.get_context("fork")
    pending: deque[tuple[Chunk, Future[Payload | Ranked | Failed]]] = deque()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_settle)
    source = iter(chunks)
    try:
        while True:
            try:
                chunk = next(source)
            except StopIteration:
                break
            except Exception:  # the source failed: what was read before is ranked and handed back first
                while pending:
                    done, future = pending.popleft()
                    yield done, future.result()
                raise
            pending.append((chunk, pool.submit(_work, chunk)))
            if len(pending) >= 2 * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _state = None
