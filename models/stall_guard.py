"""A client-side deadline for PostgreSQL calls: when the network goes silent, a blocked call fails instead of
hanging.

The server's `statement_timeout` ends a slow statement, and libpq's `connect_timeout` a slow connection, but
neither helps once a connection is established and its answers stop arriving (a stalled proxy, a frozen host):
psycopg then waits on the socket forever, and it has no read timeout of its own. Nothing in SQLAlchemy or psycopg
offers one, hence this small guard: a call arms a deadline for its connection's socket and disarms it when it
returns; one daemon thread shuts down the socket of any call still running past its deadline, which makes the
blocked call raise `OperationalError` at once (and SQLAlchemy discard the connection).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("karmayogi.db")

TICK_SECONDS = 0.1


class StallGuard:
    def __init__(self) -> None:
        self._deadlines: dict[int, tuple[float, int]] = {}  # socket descriptor -> (deadline, generation)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._generation = 0

    def arm(self, descriptor: int, seconds: float) -> int:
        """Shut `descriptor` down unless `disarm` is called within `seconds`; returns the arming's token."""
        with self._lock:
            self._generation += 1
            self._deadlines[descriptor] = (time.monotonic() + seconds, self._generation)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="karmayogi-stall-guard", daemon=True)
                self._thread.start()
            return self._generation

    def disarm(self, descriptor: int, token: int | None = None) -> None:
        with self._lock:
            armed = self._deadlines.get(descriptor)
            if armed is not None and (token is None or armed[1] == token):
                del self._deadlines[descriptor]

    @contextmanager
    def guarding(self, descriptor: int, seconds: float) -> Iterator[None]:
        token = self.arm(descriptor, seconds)
        try:
            yield
        finally:
            self.disarm(descriptor, token)

    def _watch(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            now = time.monotonic()
            with self._lock:
                expired = [descriptor for descriptor, (deadline, _) in self._deadlines.items() if deadline <= now]
                for descriptor in expired:
                    del self._deadlines[descriptor]
                    _shut_down(descriptor)


def _shut_down(descriptor: int) -> None:
    """End the connection on `descriptor` without closing the descriptor itself, which the driver still owns."""
    try:
        with socket.socket(fileno=os.dup(descriptor)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
        log.warning("a database call got no answer before its deadline: its connection was abandoned")
    except OSError:
        pass  # already closed


GUARD = StallGuard()
