"""Machine translation done ahead of the job that writes it, a round of batches at a time.

A bulk job normally calls its MT engine once per batch of units, inside the batch's transaction. An engine that
runs elsewhere (Ray actors, translation.ray_mt) is given instead, per round, every call the job is about to make
(`MTCall`: the exact protected segments of one batch) and returns an engine that answers those calls from its
results. The job then writes the units exactly as it does with a local engine."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from translation.engines import Engine
from translation.languages import TranslationLanguage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MTCall:
    """One `Engine.translate` call of a job: what a local engine would get, as it would get it."""

    source: str
    target: str
    segments: tuple[str, ...]


class RoundTranslator(Protocol):
    """Translates the MT calls of a round of batches at once, somewhere else."""

    name: str  # the name the units record as their engine: the same as the local engine's
    round_units: int  # units per round: bounds the MT work a killed run loses and the driver's memory

    def translate_calls(self, calls: Sequence[MTCall]) -> Engine: ...


class AnsweringEngine:
    """Serves translations computed elsewhere, call by call, taking them from `answers` as they arrive (in any
    order), so the job writes its first batches while later ones are still being translated.

    A call that was not planned (a reviewer changed a queued unit between planning and writing, so the batch
    sends fewer segments) is answered segment by segment from the round's results; a segment never translated
    gets None, which leaves its unit untranslated for the next run to redo."""

    wants_protected_text = True

    def __init__(self, name: str, answers: Iterable[tuple[MTCall, list[str | None]]]) -> None:
        self.name = name
        self.incoming = iter(answers)
        self.answers: dict[MTCall, list[str | None]] = {}  # kept: identical calls of two batches share one answer

    def translate(
        self, segments: Sequence[str], source: TranslationLanguage, target: TranslationLanguage
    ) -> list[str | None]:
        call = MTCall(source.code, target.code, tuple(segments))
        while call not in self.answers and self._receive():
            pass
        if call in self.answers:
            return self.answers[call]
        log.warning("%d segment(s) into %s were not planned for this round", len(segments), target.code)
        by_segment = {
            (planned.target, segment): output
            for planned, outputs in self.answers.items()
            for segment, output in zip(planned.segments, outputs, strict=True)
        }
        return [by_segment.get((target.code, segment)) for segment in segments]

    def _receive(self) -> bool:
        received = next(self.incoming, None)
        if received is None:
            return False
        call, outputs = received
        self.answers[call] = outputs
        return True
