"""Top-k for many learners: streamed in chunks, scored together, written as JSONL or Parquet, resumable.

`run_batch` ranks the chunks on every core (`batch_pool`: forked workers over the shared course matrices, learners
read by `batch_read`, gaps as arrays by `gaps_chunk`); `run_batch_reference` is the one-process path it replaced,
kept as the reference that tests and `bench/recommend_batch.py` compare it with. Both write the same bytes.

Progress is kept in a checkpoint next to the output (`OUT.checkpoint.json`), written after each chunk is safely on
disk. A resumed run cuts the output back to the last checkpoint (dropping a half-written chunk) and skips the
learners already done.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Literal, NoReturn, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from models import InvalidInputError, Learner
from recommender.batch_pool import Chunk, Failed, Payload, default_workers, output, ranked_chunks
from recommender.batch_rank import PARQUET_SCHEMA, ChunkRanker, Ranked
from recommender.recommend import Recommender

Format = Literal["jsonl", "parquet"]
LearnerSource = Callable[[int], Iterable[Learner]]


class RanksChunks(Protocol):
    """What the reference path asks of a recommender (the Ray engine's stand-in has only this)."""

    def recommend_many(self, learners: Sequence[Learner], k: int) -> list[list[tuple[str, float]]]: ...


class BatchError(InvalidInputError):
    """A batch run that cannot start or continue; the message says what to do."""


@dataclass(frozen=True)
class BatchReport:
    out: Path
    learners: int  # written by this run
    skipped: int  # already done by an earlier run (resumed)
    seconds: float  # wall clock
    cpu_seconds: float = 0.0  # this process's CPU time (all threads): what the run costs on a machine of its own


class LearnerFile(Iterator[Learner]):
    """The learners of a JSON Lines file after the first `skip` (what `read_learners_jsonl` returns): iterated, it
    yields validated `Learner`s; `run_batch` reads its lines itself, in bulk."""

    def __init__(self, path: Path, skip: int = 0) -> None:
        self.path = path
        self.skip = skip
        self._learners: Iterator[Learner] | None = None

    def __iter__(self) -> LearnerFile:
        return self

    def __next__(self) -> Learner:
        if self._learners is None:
            self._learners = self._read()
        return next(self._learners)

    def _read(self) -> Iterator[Learner]:
        with self.path.open(encoding="utf-8") as handle:
            lines = (line for line in handle if line.strip())
            for number, line in enumerate(islice(lines, self.skip, None), start=self.skip + 1):
                yield parse_learner(self.path, number, line)


def read_learners_jsonl(path: Path, skip: int = 0) -> LearnerFile:
    """Learners from a JSON Lines file; a bad line is an error naming the file and line."""
    return LearnerFile(path, skip)


def parse_learner(path: Path, number: int, line: str | bytes) -> Learner:
    try:
        return Learner.model_validate_json(line)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "record"
        raise BatchError(f"{path}: learner {number}: {where}: {first['msg']}") from None


def file_chunks(path: Path, skip: int, chunk_size: int) -> Iterator[Chunk]:
    """The raw lines of a learners file, `chunk_size` at a time, cut and numbered exactly as `LearnerFile` reads
    them: universal newlines, blank lines (whitespace only, as `str.strip` sees it) skipped and not counted."""
    number, lines = 0, []
    with path.open("rb") as handle:
        for raw in handle:
            for line in raw.splitlines() if b"\r" in raw else (raw,):
                stripped = line.strip()
                if not stripped or (stripped[0] != ord("{") and _blank(line)):
                    continue
                number += 1
                if number <= skip:
                    continue
                lines.append(line)
                if len(lines) == chunk_size:
                    yield Chunk(number - len(lines) + 1, lines=lines)
                    lines = []
    if lines:
        yield Chunk(number - len(lines) + 1, lines=lines)


def _blank(line: bytes) -> bool:
    try:
        return not line.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False  # not blank: the chunk's reader reports the line


def _learner_chunks(learners: Iterable[Learner], chunk_size: int, first: int) -> Iterator[Chunk]:
    iterator = iter(learners)
    while chunk := list(islice(iterator, chunk_size)):
        yield Chunk(first, learners=chunk)
        first += len(chunk)


def output_format(out: Path) -> Format:
    if out.suffix == ".parquet":
        return "parquet"
    if out.suffix in (".jsonl", ".json"):
        return "jsonl"
    raise BatchError(f"--out {out}: expected a .jsonl file or a .parquet folder")


def checkpoint_path(out: Path) -> Path:
    return out.with_name(out.name + ".checkpoint.json")


def run_batch(
    recommender: Recommender | RanksChunks,
    learners: LearnerSource,
    out: Path,
    *,
    k: int = 10,
    chunk_size: int = 2048,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> BatchReport:
    """`learners(skip)` yields the learners after the first `skip`; they are ranked `chunk_size` at a time by
    `workers` processes (default: one per core), and written in order. A learners file (`read_learners_jsonl`)
    is read as raw lines. Anything but a `Recommender` (the Ray engine's stand-in) takes the reference path."""
    if not isinstance(recommender, Recommender):
        return run_batch_reference(
            recommender, learners, out, k=k, chunk_size=chunk_size, resume=resume, progress=progress
        )
    fmt = output_format(out)
    done, offset = _start(out, fmt, k, resume)
    started, cpu_started, children = time.perf_counter(), time.process_time(), _children_cpu()
    ranker = ChunkRanker(recommender)
    source = learners(done)
    path = source.path if isinstance(source, LearnerFile) else None
    chunks = (
        file_chunks(source.path, source.skip, chunk_size)
        if isinstance(source, LearnerFile)
        else _learner_chunks(source, chunk_size, done + 1)
    )
    written = 0
    writer = _JsonlWriter(out, offset) if fmt == "jsonl" else _ParquetWriter(out, offset)
    count = default_workers() if workers is None else workers
    with closing(ranked_chunks(ranker, chunks, k=k, fmt=fmt, workers=count)) as results:  # workers stop on error
        for chunk, payload in results:
            if isinstance(payload, Failed):
                _redo_and_raise(recommender, chunk, path, k=k, failed=payload)
            if isinstance(payload, Ranked):  # role-free learners whose interests need the search model, here
                payload.finish(recommender, k)
                payload = output(ranker, payload, fmt)
            writer.write_payload(payload)
            done += len(chunk)
            written += len(chunk)
            _save_checkpoint(out, {"format": fmt, "k": k, "learners_done": done, "bytes": writer.position()})
            if progress:
                progress(len(chunk))
    return BatchReport(
        out=out,
        learners=written,
        skipped=done - written,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu_started + _children_cpu() - children,
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _redo_and_raise(recommender: Recommender, chunk: Chunk, path: Path | None, *, k: int, failed: Failed) -> NoReturn:
    """A chunk failed in a worker: redo it on the reference path, which raises the error today's code raises."""
    learners = chunk.learners or []
    if chunk.lines is not None and path is not None:
        numbered = enumerate(chunk.lines, start=chunk.first)
        learners = [parse_learner(path, number, line.decode("utf-8")) for number, line in numbered]
    recommender.recommend_many(learners, k)
    raise RuntimeError(f"the batch engine failed on a chunk the reference path ranks:\n{failed.error}")


def run_batch_reference(
    recommender: RanksChunks,
    learners: LearnerSource,
    out: Path,
    *,
    k: int = 10,
    chunk_size: int = 2048,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
) -> BatchReport:
    """The one-process path: `Learner`s parsed one by one, `recommend_many` per chunk (`run_batch` before the
    batch engine; the reference it is compared with, and the path of `recommender` stand-ins)."""
    fmt = output_format(out)
    done, offset = _start(out, fmt, k, resume)
    started, cpu_started = time.perf_counter(), time.process_time()
    written = 0
    writer = _JsonlWriter(out, offset) if fmt == "jsonl" else _ParquetWriter(out, offset)
    iterator = iter(learners(done))
    while chunk := list(islice(iterator, chunk_size)):
        results = recommender.recommend_many(chunk, k)
        writer.write(chunk, results)
        done += len(chunk)
        written += len(chunk)
        _save_checkpoint(out, {"format": fmt, "k": k, "learners_done": done, "bytes": writer.position()})
        if progress:
            progress(len(chunk))
    return BatchReport(
        out=out,
        learners=written,
        skipped=done - written,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu_started,
    )


def _start(out: Path, fmt: Format, k: int, resume: bool) -> tuple[int, int]:
    """(learners already done, byte offset to continue from) after checking the output and the checkpoint."""
    checkpoint = checkpoint_path(out)
    if resume and checkpoint.exists():
        state = json.loads(checkpoint.read_text(encoding="utf-8"))
        if state.get("format") != fmt or state.get("k") != k:
            raise BatchError(
                f"{checkpoint}: was written for format {state.get('format')} and k={state.get('k')}; "
                "resume with the same --k and --out, or remove the output and the checkpoint"
            )
        return int(state["learners_done"]), int(state["bytes"])
    if out.exists() and not resume:
        raise BatchError(f"{out} exists: pass --resume to continue it or remove it first")
    checkpoint.unlink(missing_ok=True)
    return 0, 0


def _save_checkpoint(out: Path, state: dict[str, object]) -> None:
    target = checkpoint_path(out)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    os.replace(temporary, target)


class _JsonlWriter:
    def __init__(self, out: Path, offset: int) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        self.handle = out.open("r+b" if out.exists() else "wb")
        self.handle.truncate(offset)  # drops whatever a crashed run wrote after its last checkpoint
        self.handle.seek(offset)

    def write(self, learners: list[Learner], results: list[list[tuple[str, float]]]) -> None:
        lines = [
            json.dumps({"learner": learner.id, "courses": [c for c, _ in items], "scores": [s for _, s in items]})
            for learner, items in zip(learners, results, strict=True)
        ]
        self.write_payload(("\n".join(lines) + "\n").encode("utf-8"))

    def write_payload(self, payload: Payload) -> None:
        if not isinstance(payload, bytes):
            raise TypeError("a JSON Lines output takes bytes")
        self.handle.write(payload)
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def position(self) -> int:
        return self.handle.tell()


class _ParquetWriter:
    """A folder of numbered parts; a part appears (by rename) only once it is complete."""

    def __init__(self, out: Path, parts: int) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.parts = parts
        for stale in out.glob("*part-*"):  # written after the last checkpoint: redone now
            if not stale.name.startswith("part-") or int(stale.stem.split("-")[1]) >= parts:
                stale.unlink()

    def write(self, learners: list[Learner], results: list[list[tuple[str, float]]]) -> None:
        table = pa.table(
            {
                "learner": [learner.id for learner in learners],
                "courses": [[c for c, _ in items] for items in results],
                "scores": [[s for _, s in items] for items in results],
            },
            schema=PARQUET_SCHEMA,
        )
        self.write_payload(table)

    def write_payload(self, table: Payload) -> None:
        if not isinstance(table, pa.Table):
            raise TypeError("a Parquet output takes an Arrow table")
        temporary = self.out / f".part-{self.parts:06d}.tmp"
        pq.write_table(table, temporary)
        os.replace(temporary, self.out / f"part-{self.parts:06d}.parquet")
        self.parts += 1

    def position(self) -> int:
        return self.parts
