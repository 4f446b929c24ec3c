"""uvicorn's HTTP/1.1 protocol (h11) with Nagle's algorithm switched off on every connection.

With more than one worker, uvicorn binds the listening socket itself and leaves its `proto` at 0; asyncio sets
TCP_NODELAY only on accepted sockets that report IPPROTO_TCP, so each keep-alive request after the first waits for
the client's delayed ACK: about 40 ms on Linux, measured here as /healthz taking 46 ms with two workers against
3 ms with one (uvicorn issue #3149). `karmayogi serve` uses this protocol whatever the worker count."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

IMPORT_PATH = "api.http_protocol:NoDelayH11Protocol"


class NoDelayH11Protocol(H11Protocol):
    # uvicorn's signature, which narrows asyncio.Protocol's BaseTransport to Transport (uvicorn ignores it too).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
