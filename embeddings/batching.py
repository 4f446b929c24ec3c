"""Concurrent callers' texts encoded in one call: a query encoder's forward pass costs about the same for one
short query as for eight, because on a small CPU it is bound by reading the model's weights, not by arithmetic
(MiniLM on the 2-core development machine: 28 ms for one query, 45 ms for eight). So when several requests
encode queries at the same moment, the first one encodes everything that is waiting, and the others take
their rows of the result.

Nothing waits on purpose: a lone caller runs at once, in its own thread, exactly as without batching. Texts
are collected only while a call is already running, and the next call takes all of them (up to `max_batch`).
No library fits: inference servers batch like this (Triton's dynamic batcher, TorchServe), but they are
servers of their own, and this is a few lines around one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Request(Generic[T]):
    texts: Sequence[str]
    results: list[T] | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class CallBatcher(Generic[T]):
    """`batcher(texts)` returns `work(texts)`, one result per text, where `work` may be given the texts of
    other callers waiting at the same moment as well (in one list, each caller's texts together)."""

    work: Callable[[list[str]], list[T]]
    max_batch: int = 32
    _ready: threading.Condition = field(default_factory=threading.Condition, init=False, repr=False)
    _waiting: list[_Request[T]] = field(default_factory=list, init=False, repr=False)
    _running: bool = field(default=False, init=False, repr=False)

    def __call__(self, texts: Sequence[str]) -> list[T]:
        if not texts:
            return []
        request: _Request[T] = _Request(texts)
        with self._ready:
            self._waiting.append(request)
        while True:
            with self._ready:
                while self._running and not request.done:
                    self._ready.wait()
                if request.done:
                    return _outcome(request)
                # Nobody is encoding and this caller's texts are still waiting: this caller encodes them, with
                # those that came before it and those that came after, up to max_batch texts.
                batch = self._take()
                self._running = True
            try:
                self._encode(batch)
            finally:  # also when the leader itself is interrupted: the others must not wait for good
                with self._ready:
                    for taken in batch:
                        if not taken.done:
                            taken.error, taken.done = RuntimeError("the shared encoding call was interrupted"), True
                    self._running = False
                    self._ready.notify_all()

    def _take(self) -> list[_Request[T]]:
        batch: list[_Request[T]] = []
        size = 0
        while self._waiting and (not batch or size + len(self._waiting[0].texts) <= self.max_batch):
            taken = self._waiting.pop(0)
            batch.append(taken)
            size += len(taken.texts)
        return batch

    def _encode(self, batch: list[_Request[T]]) -> None:
        """Each request's results, or its own error: when a shared call fails, each caller's texts are encoded
        again alone, so that one caller's bad text fails that caller only, as it would without batching."""
        try:
            _hand_out(batch, self.work([text for request in batch for text in request.texts]))
            return
        except Exception as error:
            if len(batch) == 1:
                batch[0].error, batch[0].done = error, True
                return
        for request in batch:
            try:
                _hand_out([request], self.work(list(request.texts)))
            except Exception as error:
                request.error, request.done = error, True


def _hand_out(batch: list[_Request[T]], results: list[T]) -> None:
    asked = sum(len(request.texts) for request in batch)
    if len(results) != asked:
        raise ValueError(f"the encoding call returned {len(results)} results for {asked} texts")
    start = 0
    for request in batch:
        request.results = results[start : start + len(request.texts)]
        request.done = True
        start += len(request.texts)


def _outcome(request: _Request[T]) -> list[T]:
    if request.error is not None:
        raise request.error
    assert request.results is not None
    return request.results
