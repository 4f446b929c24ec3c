"""uvicorn's HTTP/1.1 protocol (h11) with Nagle's algorithm switched off on every connection, and a bounded
lingering close.

With more than one worker, uvicorn binds the listening socket itself and leaves its `proto` at 0; asyncio sets
TCP_NODELAY only on accepted sockets that report IPPROTO_TCP, so each keep-alive request after the first waits for
the client's delayed ACK: about 40 ms on Linux, measured here as /healthz taking 46 ms with two workers against
3 ms with one (uvicorn issue #3149). `karmayogi serve` uses this protocol whatever the worker count.

The request gate (api/limits.py) answers some requests before reading their body (401, 404, 413, 408) and closes
the connection rather than drain an upload nobody will read. Closing a socket with unread input makes the kernel
reset the connection, and a client still sending then loses the answer in flight (it sees "connection reset"
instead of the 401). So when the client is still sending a body, the connection is closed the way HTTP servers
have long done it: stop writing (the answer and a FIN go out), read and discard what still arrives, and close for
good once the client stops, after `LINGER_SECONDS`, or after `LINGER_BYTES`, whichever comes first. Nothing is
buffered meanwhile."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

IMPORT_PATH = "api.http_protocol:NoDelayH11Protocol"
LINGER_SECONDS = 2.0
LINGER_BYTES = 1 << 20


class NoDelayH11Protocol(H11Protocol):
    # uvicorn's signature, which narrows asyncio.Protocol's BaseTransport to Transport (uvicorn ignores it too).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._lingering = LingeringClose(transport, self)
        super().connection_made(cast(asyncio.Transport, self._lingering))

    def data_received(self, data: bytes) -> None:
        if self._lingering.discard(data):
            return
        super().data_received(data)


class LingeringClose:
    """The connection's transport as the protocol sees it: `close()` lingers while the client is sending a body."""

    def __init__(self, transport: asyncio.Transport, protocol: H11Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._closing = False
        self._lingering = False
        self._discarded = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self._closing or self._transport.is_closing()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        still_sending = self._protocol.conn.their_state is h11.SEND_BODY
        if not still_sending or self._transport.is_closing() or not self._transport.can_write_eof():
            self._transport.close()
            return
        self._lingering = True
        self._transport.write_eof()  # the answer goes out, then a FIN; the client's body is read and dropped
        self._transport.resume_reading()
        asyncio.get_running_loop().call_later(LINGER_SECONDS, self._transport.close)

    def discard(self, data: bytes) -> bool:
        """Drop `data` when lingering (True); close once more than `LINGER_BYTES` came."""
        if not self._lingering:
            return False
        self._discarded += len(data)
        if self._discarded > LINGER_BYTES:
            self._transport.close()
        return True
