"""`recommend-batch --engine ray`: the same batch run, with the ranking spread over a Ray cluster by Ray Data.

Only the ranking moves: each Ray actor receives the fitted `Recommender` once (through the object store) and calls
its `recommend_many` on the same chunks of learners as the local engine does. Output, checkpoints and resume stay
with `recommender.batch.run_batch` on the driver, which consumes the actors' results in learner order; so both
engines write the same file, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from models import Learner
from recommender.batch import BatchReport, run_batch
from recommender.recommend import Recommender

LearnerSource = Callable[[int], Iterable[Learner]]


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


def rank_on_ray(
    recommender: Recommender,
    learners: Iterable[Learner],
    k: int,
    *,
    chunk_size: int = 2048,
    actors: int = 2,
    cpus_per_actor: float = 1.0,
) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """(learner id, top-k) for every learner, in input order, ranked by `actors` Ray actors.

    One Ray row is one chunk of `chunk_size` learners, the same chunks the local engine scores together: the
    vectorised scores are float32, so identical chunks are what makes both engines agree to the last digit.
    """
    import ray
    import ray.data

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    iterator = iter(learners)
    chunks = []
    while chunk := list(islice(iterator, chunk_size)):
        chunks.append({"chunk": "\n".join(learner.model_dump_json() for learner in chunk)})
    if not chunks:
        return
    shared = ray.put(recommender)
    dataset = ray.data.from_items(chunks, override_num_blocks=len(chunks)).map_batches(
        RankActor,
        fn_constructor_args=([shared], k),
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cpus_per_actor,
    )
    for row in dataset.iter_rows():
        for learner_id, items in zip(row["ids"].splitlines(), json.loads(row["results"]), strict=True):
            yield learner_id, [(course, score) for course, score in items]


class _RankedOnRay:
    """Stands in for the recommender inside `run_batch`: hands back, chunk by chunk, what the actors ranked."""

    def __init__(self, results: Callable[[], Iterator[tuple[str, list[tuple[str, float]]]]]) -> None:
        self.start = results
        self.results: Iterator[tuple[str, list[tuple[str, float]]]] | None = None

    def recommend_many(self, learners: Sequence[Learner], k: int) -> list[list[tuple[str, float]]]:
        if self.results is None:
            self.results = self.start()
        chunk = []
        for learner in learners:
            learner_id, items = next(self.results)
            if learner_id != learner.id:  # the two reads of the source disagree: never write a mismatched row
                raise RuntimeError(f"ray results out of step: expected learner {learner.id}, got {learner_id}")
            chunk.append(items)
        return chunk


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
) -> BatchReport:
    """`run_batch` with the ranking done on Ray (call `ray.init` first, or Ray starts a local instance)."""
    skipped: list[int] = []

    def source(skip: int) -> Iterable[Learner]:
        skipped.append(skip)  # run_batch asks once, after reading its checkpoint; the actors rank the same learners
        return learners(skip)

    def ranked() -> Iterator[tuple[str, list[tuple[str, float]]]]:
        return rank_on_ray(recommender, learners(skipped[0]), k, chunk_size=chunk_size, actors=actors)

    stand_in: Any = _RankedOnRay(ranked)
    return run_batch(stand_in, source, out, k=k, chunk_size=chunk_size, resume=resume, progress=progress)
