"""`recommend-batch --engine ray`: the same batch run, with the ranking spread over a Ray cluster by Ray Data.

Only the ranking moves: each Ray actor receives the fitted `Recommender` (put into the object store once per run)
and calls its `recommend_many` on the same chunks of learners as the local engine does. Output, checkpoints and
resume stay with `recommender.batch.run_batch` on the driver; so both engines write the same file, byte for byte.

The driver works in rounds so that its memory stays bounded: it reads `round_chunks` chunks from the source, ranks
them on Ray (one Ray Dataset per round), hands the learners and their results to `run_batch` in order, and only
then reads the next round. The source is read once: the learners `run_batch` writes are the very objects that
were sent to Ray.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models import InvalidInputError, Learner
from recommender.batch import BatchReport, run_batch
from recommender.recommend import Recommender

if TYPE_CHECKING:
    from ray import ObjectRef

LearnerSource = Callable[[int], Iterable[Learner]]
Ranked = list[tuple[str, float]]
ROUND_CHUNKS = 64  # 131,072 learners per round at the default chunk size of 2,048


class RankActor:
    """A Ray Data actor: unpacks the recommender once, then ranks one chunk of learners per row."""

    def __init__(self, recommender: list[Any], k: int) -> None:
        import ray

        # The object reference arrives inside a list so that Ray hands it over unresolved; one get per actor.
        self.recommender: Recommender = ray.get(recommender[0])
        self.k = k

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        ids, results = [], []
        for chunk in batch["chunk"]:
            learners = [Learner.model_validate_json(line) for line in chunk.splitlines()]
            ids.append("\n".join(learner.id for learner in learners))
            results.append(json.dumps(self.recommender.recommend_many(learners, self.k)))
        return {"ids": ids, "results": results}


def rank_chunks_on_ray(
    recommender: ObjectRef[Recommender],
    chunks: Sequence[Sequence[Learner]],
    k: int,
    *,
    actors: int = 2,
    cpus_per_actor: float = 1.0,
) -> Iterator[tuple[list[str], list[Ranked]]]:
    """(learner ids, top-k of each) for every chunk, in input order, ranked by `actors` Ray actors.

    `recommender` is a reference from `ray.put`, so that a run of many rounds ships the recommender once. One Ray
    row is one chunk: the vectorised scores are float32, so scoring exactly the local engine's chunks is what
    makes both engines agree to the last digit. Nothing starts on Ray before the first result is asked for.
    """
    if not chunks:
        return
    import ray.data

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    rows = [{"chunk": "\n".join(learner.model_dump_json() for learner in chunk)} for chunk in chunks]
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
        RankActor,
        fn_constructor_args=([recommender], k),
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=min(actors, len(rows))),
        num_cpus=cpus_per_actor,
    )
    del rows  # from_items copied them into the object store; the driver keeps only the learners
    for row in dataset.iter_rows():
        results = [[(course, score) for course, score in items] for items in json.loads(row["results"])]
        yield row["ids"].splitlines(), results


class _RoundsOnRay:
    """Reads the learners a round ahead of `run_batch`, ranks each round on Ray, and stands in for the recommender.

    `learners()` wraps the source that `run_batch` iterates: before it yields a round's learners it sends that
    round to Ray. `recommend_many()` then answers each of `run_batch`'s chunks with the next ranked chunk of the
    round, after checking that both hold the same learners (a mismatched row is never written).
    """

    def __init__(
        self,
        recommender: Recommender,
        k: int,
        chunk_size: int,
        round_chunks: int,
        *,
        actors: int,
        cpus_per_actor: float,
    ) -> None:
        self.recommender = recommender
        self.k = k
        self.chunk_size = chunk_size
        self.round_chunks = round_chunks
        self.actors = actors
        self.cpus_per_actor = cpus_per_actor
        self._shared: ObjectRef[Recommender] | None = None
        self._ranked: Iterator[tuple[list[str], list[Ranked]]] = iter(())

    def learners(self, source: Iterable[Learner]) -> Iterator[Learner]:
        iterator = iter(source)
        # Whole chunks only, so a round's chunks are the chunks `run_batch` cuts from the same stream.
        while chunks := self._read_round(iterator):
            self._start_round(chunks)
            for chunk in chunks:
                yield from chunk
            del chunks, chunk  # else this round stays alive while the next one is read: two rounds in memory

    def recommend_many(self, learners: Sequence[Learner], k: int) -> list[Ranked]:
        ranked = next(self._ranked, None)
        expected = [learner.id for learner in learners]
        if ranked is None or ranked[0] != expected:
            got = "nothing" if ranked is None else f"{len(ranked[0])} learners from {ranked[0][:1]}"
            raise RuntimeError(f"ray results out of step: expected {len(expected)} from {expected[:1]}, got {got}")
        return ranked[1]

    def _read_round(self, iterator: Iterator[Learner]) -> list[list[Learner]]:
        chunks: list[list[Learner]] = []
        while len(chunks) < self.round_chunks and (chunk := list(islice(iterator, self.chunk_size))):
            chunks.append(chunk)
        return chunks

    def _start_round(self, chunks: list[list[Learner]]) -> None:
        # run_batch asks for a new round's first learner only after writing the last chunk of the round before.
        self.finish_round()
        if self._shared is None:  # first round: ship the recommender once, every round's actors share it
            import ray

            self._shared = ray.put(self.recommender)
        self._ranked = rank_chunks_on_ray(
            self._shared, chunks, self.k, actors=self.actors, cpus_per_actor=self.cpus_per_actor
        )

    def finish_round(self) -> None:
        """Every ranked chunk of the last round must have been written (before the next round, and at the end)."""
        left = next(self._ranked, None)
        if left is not None:
            raise RuntimeError(f"ray results out of step: {len(left[0])} ranked learners were never written")


def run_batch_on_ray(
    recommender: Recommender,
    learners: LearnerSource,
    out: Path,
    *,
    k: int = 10,
    chunk_size: int = 2048,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    actors: int = 2,
    round_chunks: int = ROUND_CHUNKS,
    cpus_per_actor: float = 1.0,
) -> BatchReport:
    """`run_batch` with the ranking done on Ray (call `ray.init` first, or Ray starts a local instance).

    The driver holds one round (`round_chunks` chunks of `chunk_size` learners) at a time and reads `learners`
    once, from where the checkpoint says to continue.
    """
    if round_chunks < 1:
        raise InvalidInputError(f"round_chunks must be at least 1, got {round_chunks}")
    rounds = _RoundsOnRay(recommender, k, chunk_size, round_chunks, actors=actors, cpus_per_actor=cpus_per_actor)
    stand_in: Any = rounds  # run_batch only calls recommend_many

    def source(skip: int) -> Iterator[Learner]:
        return rounds.learners(learners(skip))

    report = run_batch(stand_in, source, out, k=k, chunk_size=chunk_size, resume=resume, progress=progress)
    rounds.finish_round()
    return report
