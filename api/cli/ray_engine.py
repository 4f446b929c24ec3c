"""`--engine local|ray` for the batch commands: how they connect to (or start) Ray."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, get_args

import typer

from models import InvalidInputError, Learner
from translation.config import EngineKind

if TYPE_CHECKING:
    from recommender.batch import BatchReport
    from recommender.recommend import Recommender
    from translation import TranslationSettings
    from translation.rounds import RoundTranslator


class BatchEngine(StrEnum):
    local = "local"
    ray = "ray"


MT_BACKENDS: tuple[str, ...] = get_args(EngineKind)


def parse_batch_engine(value: str) -> BatchEngine:
    """`--engine` used to choose `translate`'s MT backend: say where that choice went instead of just refusing."""
    if isinstance(value, BatchEngine):
        return value
    if value in MT_BACKENDS:
        raise typer.BadParameter(
            f"{value!r} is a machine translation backend: `karmayogi translate` takes it as --backend {value}; "
            "--engine is local or ray"
        )
    try:
        return BatchEngine(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not one of local, ray") from None


EngineOption = Annotated[
    BatchEngine,
    typer.Option(
        "--engine",
        parser=parse_batch_engine,
        metavar="[local|ray]",
        help="local: in this process (default). ray: Ray Data actors; joins the cluster named by RAY_ADDRESS, "
        "else starts a local Ray instance.",
    ),
]
ActorsOption = Annotated[int, typer.Option("--actors", min=1, help="Ray actors (each loads the model once).")]


class RayNotAvailableError(InvalidInputError):
    """`--engine ray` without Ray installed."""


def start_ray(num_cpus: int | None = None) -> None:
    """Connect to RAY_ADDRESS if set, else start a local instance; quiet unless something goes wrong."""
    try:
        import ray
    except ImportError:
        raise RayNotAvailableError("--engine ray needs Ray: pip install 'ray[data]>=2.40'") from None
    if ray.is_initialized():
        return
    logging.getLogger("ray").setLevel(logging.WARNING)
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    address = os.environ.get("RAY_ADDRESS")
    ray.init(
        address=address or None,
        num_cpus=None if address else num_cpus,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
    )


def run_batch_ray(
    recommender: Recommender,
    learners: Callable[[int], Iterable[Learner]],
    out: Path,
    *,
    k: int,
    chunk_size: int,
    resume: bool,
    progress: Callable[[int], None] | None,
    actors: int,
    round_chunks: int,
) -> BatchReport:
    """`recommend-batch --engine ray`: start or join Ray, then rank on its actors a round of chunks at a time."""
    from recommender.batch_ray import run_batch_on_ray

    start_ray()
    return run_batch_on_ray(
        recommender,
        learners,
        out,
        k=k,
        chunk_size=chunk_size,
        resume=resume,
        progress=progress,
        actors=actors,
        round_chunks=round_chunks,
    )


def ray_translator(model_dir: Path, backend: EngineKind, settings: TranslationSettings, actors: int) -> RoundTranslator:
    """`translate --engine ray`: start or join Ray; the actors load the model with the job's MT settings."""
    from translation.ray_mt import RayTranslator

    translator = RayTranslator(
        model_dir,
        backend,
        device=settings.device,
        beams=settings.beams,
        batch_size=settings.batch_size,
        actors=actors,
    )
    start_ray()
    return translator
