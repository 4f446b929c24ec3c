"""Top-k for many learners: streamed in chunks, scored together, written as JSONL or Parquet, resumable.

Progress is kept in a checkpoint next to the output (`OUT.checkpoint.json`), written after each chunk is safely on
disk. A resumed run cuts the output back to the last checkpoint (dropping a half-written chunk) and skips the
learners already done.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from models import InvalidInputError, Learner
from recommender.recommend import Recommender

Format = Literal["jsonl", "parquet"]
PARQUET_SCHEMA = pa.schema(
    [("learner", pa.string()), ("courses", pa.list_(pa.string())), ("scores", pa.list_(pa.float32()))]
)


class BatchError(InvalidInputError):
    """A batch run that cannot start or continue; the message says what to do."""


@dataclass(frozen=True)
class BatchReport:
    out: Path
    learners: int  # written by this run
    skipped: int  # already done by an earlier run (resumed)
    seconds: float  # wall clock
    cpu_seconds: float = 0.0  # this process's CPU time (all threads): what the run costs on a machine of its own


def read_learners_jsonl(path: Path, skip: int = 0) -> Iterator[Learner]:
    """Learners from a JSON Lines file; a bad line is an error naming the file and line."""
    with path.open(encoding="utf-8") as handle:
        lines = (line for line in handle if line.strip())
        for number, line in enumerate(islice(lines, skip, None), start=skip + 1):
            try:
                yield Learner.model_validate_json(line)
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(part) for part in first["loc"]) or "record"
                raise BatchError(f"{path}: learner {number}: {where}: {first['msg']}") from None


def output_format(out: Path) -> Format:
    if out.suffix == ".parquet":
        return "parquet"
    if out.suffix in (".jsonl", ".json"):
        return "jsonl"
    raise BatchError(f"--out {out}: expected a .jsonl file or a .parquet folder")


def checkpoint_path(out: Path) -> Path:
    return out.with_name(out.name + ".checkpoint.json")


def run_batch(
    recommender: Recommender,
    learners: Callable[[int], Iterable[Learner]],
    out: Path,
    *,
    k: int = 10,
    chunk_size: int = 2048,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
) -> BatchReport:
    """`learners(skip)` yields the learners after the first `skip`; they are ranked `chunk_size` at a time."""
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
        self.handle.write(("\n".join(lines) + "\n").encode("utf-8"))
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
        temporary = self.out / f".part-{self.parts:06d}.tmp"
        pq.write_table(table, temporary)
        os.replace(temporary, self.out / f"part-{self.parts:06d}.parquet")
        self.parts += 1

    def position(self) -> int:
        return self.parts
