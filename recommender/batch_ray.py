"""`recommend-batch --engine ray`: the same batch run, with the ranking spread over a Ray cluster by Ray Data.

Only the ranking moves: each Ray actor receives the fitted `Recommender` once (through the object store) and calls
its `recommend_many` on blocks of learners, exactly as the local engine does. Output, checkpoints and resume stay
with `recommender.batch.run_batch` on the driver, which consumes the actors' results in learner order; so both
engines write the same file, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from models import Learner
from recommender.batch import BatchReport, run_batch
from recommender.recommend import Recommender

LearnerSource = Callable[[int], Iterable[Learner]]


class RankActor:
    """A Ray Data actor: unpacks the recommender once, then ranks one block of learners per call."""

    def __init__(self, recommender: list[Any], k: int) -> None:
        import ray

        # The object reference arrives inside a list so that Ray hands it over unresolved; one get per actor.
        self.recommender: Recommender = ray.get(recommender[0])
        self.k = k

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        learners = [Learner.model_validate_json(text) for text in batch["learner"]]
        results = self.recommender.recommend_many(learners, self.k)
        return {"id": [learner.id for learner in learners], "result": [json.dumps(items) for items in results]}


def rank_on_ray(
    recommender: Recommender,
    learners: Iterable[Learner],
    k: int,
    *,
    block_size: int = 512,
    actors: int = 2,
    cpus_per_actor: float = 1.0,
) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """(learner id, top-k) for every learner, in input order, ranked by `actors` Ray actors."""
    import ray
    import ray.data

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    rows = [{"learner": learner.model_dump_json()} for learner in learners]
    if not rows:
        return
    # Enough blocks that every actor gets work, none larger than block_size.
    blocks = max(actors, -(-len(rows) // block_size))
    shared = ray.put(recommender)
    dataset = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
        RankActor,
        fn_constructor_args=([shared], k),
        batch_size=-(-len(rows) // blocks),
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=cpus_per_actor,
    )
    for row in dataset.iter_rows():
        yield row["id"], [(course, score) for course, score in json.loads(row["result"])]


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
    block_size: int = 512,
) -> BatchReport:
    """`run_batch` with the ranking done on Ray (call `ray.init` first, or Ray starts a local instance)."""
    skipped: list[int] = []

    def source(skip: int) -> Iterable[Learner]:
        skipped.append(skip)  # run_batch asks once, after reading its checkpoint; the actors rank the same learners
        return learners(skip)

    ranked = _RankedOnRay(
        lambda: rank_on_ray(recommender, learners(skipped[0]), k, block_size=block_size, actors=actors)
    )
    return run_batch(ranked, source, out, k=k, chunk_size=chunk_size, resume=resume, progress=progress)  # type: ignore[arg-type]
