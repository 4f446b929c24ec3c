"""`index build --engine ray`: passage encoding spread over Ray Data actors, each loading the model once.

Only passage encoding (vectors and, for a sentence-transformers model, token vectors) moves to Ray; the embedding
cache, the index and queries stay in the driver, so a Ray build writes the same index as a local one (same model,
same texts, same vectors).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from embeddings.encoders import Encoder, TokenEncoder, load_encoder


class _EncodeActor:
    """A Ray Data actor: loads the encoder named by `spec` once, then encodes one batch of passages per call."""

    def __init__(self, spec: str) -> None:
        self.encoder = load_encoder(spec)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        vectors = self.encoder.encode_passages(list(batch["text"]))
        return {"position": batch["position"], "vector": list(vectors)}


class _TokenActor(_EncodeActor):
    """Like `_EncodeActor`, for content-token vectors: each passage's matrix travels as float32 bytes."""

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        assert isinstance(self.encoder, TokenEncoder)
        matrices = self.encoder.encode_passage_tokens(list(batch["text"]))
        return {"position": batch["position"], "tokens": [m.astype(np.float32).tobytes() for m in matrices]}


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
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Actors finish in any order: put every vector back at its passage's position.
        for row in self._rows(_EncodeActor, texts):
            vectors[row["position"]] = row["vector"]
        return vectors

    def _rows(self, actor: type[_EncodeActor], texts: Sequence[str]) -> Iterable[dict[str, Any]]:
        if not texts:
            return ()
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
        rows = [{"position": position, "text": text} for position, text in enumerate(texts)]
        dataset = ray.data.from_items(rows).map_batches(
            actor,
            fn_constructor_args=(self.spec,),
            batch_size=self.batch_size,
            compute=ray.data.ActorPoolStrategy(size=self.actors),
            num_cpus=self.cpus_per_actor,
        )
        return dataset.iter_rows()


class RayTokenEncoder(RayPassageEncoder):
    """A `RayPassageEncoder` that also encodes passages' content-token vectors on the actors (for an encoder that
    gives them); a query's tokens come from the local copy."""

    def encode_query_tokens(self, texts: Sequence[str]) -> list[np.ndarray]:
        assert isinstance(self.local, TokenEncoder)
        return self.local.encode_query_tokens(texts)

    def encode_queries_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        assert isinstance(self.local, TokenEncoder)
        return self.local.encode_queries_with_tokens(texts)

    def encode_passage_tokens(self, texts: Sequence[str]) -> list[np.ndarray]:
        matrices = [np.zeros((0, self.dimension), dtype=np.float32)] * len(texts)
        for row in self._rows(_TokenActor, texts):
            matrices[row["position"]] = np.frombuffer(row["tokens"], dtype=np.float32).reshape(-1, self.dimension)
        return matrices


def ray_encoder_loader(actors: int = 2) -> Callable[[str], Encoder]:
    """A drop-in for `load_encoder` that returns Ray-backed encoders (with token vectors where the model has them)."""

    def load(spec: str) -> Encoder:
        kind = RayTokenEncoder if isinstance(load_encoder(spec), TokenEncoder) else RayPassageEncoder
        return kind(spec, actors=actors)

    return load
