"""`index build --engine ray`: passage encoding spread over Ray Data actors, each loading the model once.

Only `encode_passages` moves to Ray; the embedding cache, the index and queries stay in the driver, so a Ray build
writes the same index as a local one (same model, same texts, same vectors).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from embeddings.encoders import Encoder, load_encoder


class _EncodeActor:
    """A Ray Data actor: loads the encoder named by `spec` once, then encodes one batch of passages per call."""

    def __init__(self, spec: str) -> None:
        self.encoder = load_encoder(spec)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        vectors = self.encoder.encode_passages(list(batch["text"]))
        return {"position": batch["position"], "vector": list(vectors)}


class RayPassageEncoder:
    """An `Encoder` whose passages are encoded by `actors` Ray actors (call `ray.init` first, or Ray starts a
    local instance). Queries, the model id and the dimension come from a local copy of the same encoder."""

    # Each call runs one Ray Dataset, which starts its actor pool (and loads the model in every actor) once:
    # the embedding cache should hand over all the passages it misses in one call, not in small batches.
    passages_per_call = 1_000_000

    def __init__(self, spec: str, actors: int = 2, batch_size: int = 64, cpus_per_actor: float = 1.0) -> None:
        self.spec = spec
        self.local = load_encoder(spec)
        self.actors = actors
        self.batch_size = batch_size
        self.cpus_per_actor = cpus_per_actor

    @property
    def model_id(self) -> str:
        return self.local.model_id

    @property
    def dimension(self) -> int:
        return self.local.dimension

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.local.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
        rows = [{"position": position, "text": text} for position, text in enumerate(texts)]
        dataset = ray.data.from_items(rows).map_batches(
            _EncodeActor,
            fn_constructor_args=(self.spec,),
            batch_size=self.batch_size,
            compute=ray.data.ActorPoolStrategy(size=self.actors),
            num_cpus=self.cpus_per_actor,
        )
        # Actors finish in any order: put every vector back at its passage's position.
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row in dataset.iter_rows():
            vectors[row["position"]] = row["vector"]
        return vectors


def ray_encoder_loader(actors: int = 2) -> Callable[[str], Encoder]:
    """A drop-in for `load_encoder` that returns Ray-backed encoders."""

    def load(spec: str) -> Encoder:
        return RayPassageEncoder(spec, actors=actors)

    return load
