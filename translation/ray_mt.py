"""`translate --engine ray`: the machine translation of a bulk job spread over Ray Data actors.

Only the model's work moves. For each round of batches the job (translation.jobs) finds the exact MT calls it is
about to make; they become the rows of one Ray Dataset, and `map_batches` hands them to an actor pool whose actors
load the model once (in their constructor) and make each call as the local engine would, with the same segments
in the same batches, so beam search and padding see the same inputs. The driver writes the units with the local
job code as the results stream back: memory, glossary, QA checks, history, resumability and the report stay as
they are.

The model directory must be readable at the same path on every Ray node (a shared mount, or a copy in the same
place on each); nothing is downloaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from translation.config import EngineKind, resolve_backend
from translation.errors import EngineConfigError
from translation.languages import translation_language
from translation.model_dir import check_model_dir
from translation.rounds import AnsweringEngine, MTCall


class _TranslateActor:
    """A Ray Data actor: loads the model once, then makes one MT call per row."""

    def __init__(self, model_dir: str, backend: EngineKind, device: str, beams: int, *, batch_size: int) -> None:
        from translation.config import load_engine

        self.engine = load_engine(Path(model_dir), backend, device, beams, batch_size=batch_size)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        outputs = []
        for source, target, segments in zip(batch["source"], batch["target"], batch["segments"], strict=True):
            translated = self.engine.translate(
                json.loads(segments), translation_language(source), translation_language(target)
            )
            outputs.append(json.dumps(translated, ensure_ascii=False))
        return {"call": batch["call"], "translations": outputs, "engine": [self.engine.name] * len(outputs)}


class RayTranslator:
    """A `RoundTranslator` on Ray (call `ray.init` first, or Ray starts a local instance).

    Every round starts its own actor pool, so each actor loads the model once per round: keep rounds large
    (`round_units`) against the model's load time. A killed job loses the round's translations not yet written."""

    def __init__(
        self,
        model_dir: Path,
        backend: EngineKind = "auto",
        *,
        device: str = "cpu",
        beams: int = 4,
        batch_size: int = 16,
        actors: int = 2,
        round_units: int = 4096,
        cpus_per_actor: float = 1.0,
    ) -> None:
        self.model_dir = check_model_dir(model_dir)  # on the driver: a wrong path fails before Ray starts work
        self.backend = resolve_backend(self.model_dir, backend)
        self.name = f"{self.backend}:{self.model_dir.name}"  # what the local engine calls itself
        self.device = device
        self.beams = beams
        self.batch_size = batch_size
        self.actors = actors
        self.round_units = round_units
        self.cpus_per_actor = cpus_per_actor

    def translate_calls(self, calls: Sequence[MTCall]) -> AnsweringEngine:
        return AnsweringEngine(self.name, self._translated(list(dict.fromkeys(calls))))

    def _translated(self, calls: list[MTCall]) -> Iterator[tuple[MTCall, list[str | None]]]:
        """Each call with its translations, as the actors finish them; nothing starts before the first is asked for.
        Identical calls (courses with the same text) were merged above and are made once."""
        if not calls:
            return
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
        rows = [
            {"call": index, "source": call.source, "target": call.target, "segments": json.dumps(call.segments)}
            for index, call in enumerate(calls)
        ]
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            _TranslateActor,
            fn_constructor_args=(str(self.model_dir), self.backend, self.device, self.beams),
            fn_constructor_kwargs={"batch_size": self.batch_size},
            batch_size=1,  # one row is one call: the actor translates it exactly as the local engine would
            compute=ray.data.ActorPoolStrategy(size=min(self.actors, len(rows))),
            num_cpus=self.cpus_per_actor,
            num_gpus=1 if self.device.startswith("cuda") else 0,
        )
        for row in dataset.iter_rows():
            if row["engine"] != self.name:
                raise EngineConfigError(f"the Ray actors loaded {row['engine']}, expected {self.name}")
            yield calls[row["call"]], json.loads(row["translations"])
