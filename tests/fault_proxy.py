"""A TCP proxy that a test puts between the service and its database, to break the network on purpose.

- `forward()`: bytes flow both ways (the initial state);
- `drop()`: every open connection is reset and new ones are closed as soon as they arrive (the server is gone);
- `stall()`: connections stay open and new ones are accepted, but no byte goes through in either direction (a
  frozen host or a black-holed route: the case no connection error reports);
- `forward()` again restores the flow; connections held during a stall carry on where they stopped.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
from types import TracebackType

CHUNK = 65536


class FaultProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._dropping = False
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._closed = False
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()

    def forward(self) -> None:
        self._dropping = False
        self._flowing.set()

    def stall(self) -> None:
        self._flowing.clear()

    def drop(self) -> None:
        self._dropping = True
        self._flowing.set()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            _reset(*pair)

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.drop()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._dropping:
                _reset(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self._flowing.wait()  # a connection made during a stall waits, unanswered, like the rest
        if self._dropping or self._closed:
            _reset(client)
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _reset(client)
            return
        with self._lock:
            self._pairs.append((client, server))
        self._pump(client, server)

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        try:
            while True:
                if not self._flowing.wait(timeout=0.05):
                    continue
                readable, _, _ = select.select(list(peers), [], [], 0.05)
                for source in readable:
                    if not self._flowing.is_set():
                        break  # stalled between select and read: hold the bytes where they are
                    data = source.recv(CHUNK)
                    if not data:
                        return
                    peers[source].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                if (client, server) in self._pairs:
                    self._pairs.remove((client, server))
            _reset(client, server)


def _reset(*sockets: socket.socket) -> None:
    for sock in sockets:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        except OSError:
            pass
